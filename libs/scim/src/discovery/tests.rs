use serde_json::json;

use super::*;
use crate::registry::{ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA};
use crate::schema::AttributeType;

const BASE: &str = "https://example.com/v2";

fn reg() -> Registry {
    Registry::standard().unwrap()
}

#[test]
fn service_provider_config_has_every_rfc_member() {
    let doc = service_provider_config(&Capabilities::default(), BASE);
    assert_eq!(
        doc,
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "patch": {"supported": true},
            "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"supported": true, "maxResults": 200},
            "changePassword": {"supported": false},
            "sort": {"supported": true},
            "etag": {"supported": true},
            "pagination": {
                "cursor": true,
                "index": true,
                "defaultPaginationMethod": "index",
                "defaultPageSize": 100,
                "maxPageSize": 200,
                "cursorTimeout": 600
            },
            "authenticationSchemes": [{
                "type": "oauthbearertoken",
                "name": "OAuth Bearer Token",
                "description": "Authentication scheme using the OAuth Bearer Token Standard",
                "specUri": "https://www.rfc-editor.org/info/rfc6750",
                "primary": true
            }],
            "meta": {
                "resourceType": "ServiceProviderConfig",
                "location": "https://example.com/v2/ServiceProviderConfig"
            }
        })
    );
    assert_eq!(doc.as_object().unwrap().keys().next().unwrap(), "schemas");
}

#[test]
fn service_provider_config_follows_the_capabilities() {
    let caps = Capabilities {
        patch: false,
        bulk: Some(BulkLimits {
            max_operations: 1000,
            max_payload_size: 1_048_576,
        }),
        filter: None,
        change_password: true,
        sort: false,
        etag: false,
        pagination: Pagination {
            cursor: true,
            index: false,
            default_method: PagingMethod::Index,
            default_page_size: 50,
            max_page_size: 500,
            cursor_timeout_secs: 3600,
        },
        authentication_schemes: vec![
            AuthenticationScheme {
                documentation_uri: Some("https://example.com/help/oauth.html".into()),
                ..AuthenticationScheme::oauth_bearer_token()
            },
            AuthenticationScheme {
                spec_uri: None,
                ..AuthenticationScheme::http_basic()
            },
        ],
        documentation_uri: Some("https://example.com/help/scim.html".into()),
    };
    let doc = service_provider_config(&caps, "https://example.com/v2/");
    assert_eq!(
        doc["documentationUri"],
        "https://example.com/help/scim.html"
    );
    assert_eq!(doc["patch"], json!({"supported": false}));
    assert_eq!(
        doc["bulk"],
        json!({"supported": true, "maxOperations": 1000, "maxPayloadSize": 1_048_576})
    );
    assert_eq!(doc["filter"], json!({"supported": false, "maxResults": 0}));
    assert_eq!(doc["changePassword"], json!({"supported": true}));
    assert_eq!(doc["sort"], json!({"supported": false}));
    assert_eq!(doc["etag"], json!({"supported": false}));
    // Only cursor paging is on, so it is the default whatever was configured.
    assert_eq!(doc["pagination"]["defaultPaginationMethod"], "cursor");
    assert_eq!(doc["pagination"]["index"], false);
    assert_eq!(doc["pagination"]["cursorTimeout"], 3600);
    let schemes = doc["authenticationSchemes"].as_array().unwrap();
    assert_eq!(
        schemes[0]["documentationUri"],
        "https://example.com/help/oauth.html"
    );
    assert_eq!(schemes[1]["type"], "httpbasic");
    assert_eq!(schemes[1]["primary"], false);
    assert!(schemes[1].get("specUri").is_none());
    assert_eq!(
        doc["meta"]["location"],
        "https://example.com/v2/ServiceProviderConfig"
    );
}

#[test]
fn effective_default_paging_method() {
    let p = |cursor, index, default_method| Pagination {
        cursor,
        index,
        default_method,
        ..Capabilities::default().pagination
    };
    assert_eq!(
        p(true, true, PagingMethod::Cursor).effective_default(),
        PagingMethod::Cursor
    );
    assert_eq!(
        p(true, true, PagingMethod::Index).effective_default(),
        PagingMethod::Index
    );
    assert_eq!(
        p(false, true, PagingMethod::Cursor).effective_default(),
        PagingMethod::Index
    );
    assert_eq!(
        p(true, false, PagingMethod::Index).effective_default(),
        PagingMethod::Cursor
    );
}

#[test]
fn resource_types_match_rfc7643_8_6() {
    let docs = resource_types(&reg(), BASE);
    assert_eq!(
        docs[0],
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "User Account",
            "schema": USER_SCHEMA,
            "schemaExtensions": [{"schema": ENTERPRISE_USER_SCHEMA, "required": false}],
            "meta": {"resourceType": "ResourceType", "location": "https://example.com/v2/ResourceTypes/User"}
        })
    );
    assert_eq!(docs[1]["schema"], GROUP_SCHEMA);
    assert!(docs[1].get("schemaExtensions").is_none());
    assert_eq!(
        docs[1]["meta"]["location"],
        "https://example.com/v2/ResourceTypes/Group"
    );
}

#[test]
fn custom_extensions_are_discoverable() {
    let mut r = reg();
    let acme = json!({"id": "urn:acme:scim:User", "name": "Acme", "attributes": [
        {"name": "badge", "type": "integer", "description": "Badge number"}
    ]});
    r.add_extension_json("User", &acme, true).unwrap();
    let user = resource_types(&r, BASE).remove(0);
    assert_eq!(
        user["schemaExtensions"][1],
        json!({"schema": "urn:acme:scim:User", "required": true})
    );
    let docs = schemas(&r, BASE);
    let doc = docs
        .iter()
        .find(|d| d["id"] == "urn:acme:scim:User")
        .unwrap();
    assert_eq!(
        doc["meta"]["location"],
        "https://example.com/v2/Schemas/urn:acme:scim:User"
    );
    assert_eq!(doc["attributes"][0]["uniqueness"], "none");
}

#[test]
fn schema_documents_round_trip() {
    let r = reg();
    let docs = schemas(&r, "https://example.com/v2/");
    assert_eq!(docs.len(), r.schemas().len());
    for (doc, schema) in docs.iter().zip(r.schemas()) {
        assert_eq!(&Schema::from_json(doc).unwrap(), schema, "{}", schema.id);
        assert_eq!(
            doc["schemas"],
            json!(["urn:ietf:params:scim:schemas:core:2.0:Schema"])
        );
        assert_eq!(doc["meta"]["resourceType"], "Schema");
        assert_eq!(
            doc["meta"]["location"],
            format!("https://example.com/v2/Schemas/{}", schema.id)
        );
        assert!(doc["name"].is_string() && doc["description"].is_string());
    }
}

/// Every attribute shows every characteristic RFC 7643 §7 lists, so
/// clients need not know the defaults.
#[test]
fn schema_documents_show_all_characteristics() {
    fn check(attr: &Value, schema: &Schema) {
        let name = attr["name"].as_str().unwrap();
        for key in [
            "type",
            "multiValued",
            "description",
            "required",
            "caseExact",
            "mutability",
            "returned",
            "uniqueness",
        ] {
            assert!(attr.get(key).is_some(), "{}: {name} lacks {key}", schema.id);
        }
        let kind: AttributeType = serde_json::from_value(attr["type"].clone()).unwrap();
        match kind {
            AttributeType::Complex => {
                let subs = attr["subAttributes"].as_array().unwrap();
                assert!(!subs.is_empty());
                subs.iter().for_each(|s| check(s, schema));
            }
            AttributeType::Reference => {
                assert!(
                    !attr["referenceTypes"].as_array().unwrap().is_empty(),
                    "{name}"
                );
            }
            _ => assert!(attr.get("subAttributes").is_none()),
        }
    }
    let r = reg();
    for (doc, schema) in schemas(&r, BASE).iter().zip(r.schemas()) {
        doc["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .for_each(|a| check(a, schema));
    }
    let user = schema_doc(r.schema(USER_SCHEMA).unwrap(), BASE);
    let emails = &user["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "emails")
        .unwrap();
    let email_type = &emails["subAttributes"].as_array().unwrap()[2];
    assert_eq!(
        email_type["canonicalValues"],
        json!(["work", "home", "other"])
    );
    let password = user["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "password")
        .unwrap();
    assert_eq!(
        (
            password["mutability"].as_str(),
            password["returned"].as_str()
        ),
        (Some("writeOnly"), Some("never"))
    );
}

#[test]
fn list_response_renders_index_and_cursor_pages() {
    let doc = list_response(vec![json!({"id": "1"})], 3, Some(1), Some(1), None, None);
    assert_eq!(
        doc,
        json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": 3,
            "itemsPerPage": 1,
            "startIndex": 1,
            "Resources": [{"id": "1"}]
        })
    );
    let page = ListResponse {
        resources: vec![],
        total_results: 0,
        next_cursor: Some("VZUTiy".into()),
        previous_cursor: Some("ze7L30".into()),
        ..Default::default()
    };
    let doc = page.to_json();
    assert_eq!(doc["nextCursor"], "VZUTiy");
    assert_eq!(doc["previousCursor"], "ze7L30");
    assert!(doc.get("startIndex").is_none() && doc.get("itemsPerPage").is_none());
    assert_eq!(doc["Resources"], json!([]));
    assert_eq!(page.into_json(), doc);
}
