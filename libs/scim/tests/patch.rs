#![allow(clippy::unwrap_used, clippy::expect_used)]
//! PATCH: every example of RFC 7644 §3.5.2 and what Entra ID and Okta send.

#[path = "support/rfc7643.rs"]
mod rfc7643;

use scimbus_scim::patch::{PatchPath, PatchRequest, Patched, apply};
use scimbus_scim::resource::{Intent, Leniency, normalize};
use scimbus_scim::{Registry, ScimError, ScimType};
use serde_json::{Value, json};

const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const BABS: &str = "2819c223-7f76-453a-919d-413861904646";
const JAMES: &str = "08e1d05d-121c-4561-8b96-473d93df9210";

fn stored(rt: &str, doc: Value) -> Value {
    let r = Registry::standard().unwrap();
    let mut v = normalize(
        &r,
        r.resource_type(rt).unwrap(),
        &doc,
        Intent::Create,
        Leniency::default(),
    )
    .unwrap();
    // What the store keeps beside the client's attributes.
    v["id"] = doc["id"].clone();
    v["meta"] = doc["meta"].clone();
    v
}

fn patch(rt: &str, doc: &Value, ops: Value) -> Result<Patched, ScimError> {
    let r = Registry::standard().unwrap();
    let req = PatchRequest::parse(&json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": ops
    }))?;
    apply(
        &r,
        r.resource_type(rt).unwrap(),
        doc,
        &req,
        Leniency::default(),
    )
}

fn user() -> Value {
    stored("User", rfc7643::enterprise_user())
}

fn group() -> Value {
    stored("Group", rfc7643::group())
}

fn member_ids(v: &Value) -> Vec<&str> {
    v["members"]
        .as_array()
        .map(|m| m.iter().map(|m| m["value"].as_str().unwrap()).collect())
        .unwrap_or_default()
}

#[test]
fn rfc_add_member_and_no_path_add() {
    let out = patch("Group", &group(), json!([{"op": "add", "path": "members", "value": [{
        "display": "James Smith", "$ref": format!("https://example.com/v2/Users/{JAMES}"), "value": JAMES}]}])).unwrap();
    assert_eq!(
        member_ids(&out.resource),
        [BABS, "902c246b-6245-4190-8e05-00816be7344a", JAMES]
    );
    assert_eq!(out.changed, ["members"]);
    // Adding an existing member again changes nothing.
    let again = patch(
        "Group",
        &out.resource,
        json!([{"op": "add", "path": "members", "value": [{"value": JAMES,
        "$ref": format!("https://example.com/v2/Users/{JAMES}")}]}]),
    )
    .unwrap();
    assert_eq!(member_ids(&again.resource).len(), 3);
    assert!(again.changed.is_empty());

    let out = patch("User", &user(), json!([{"op": "add", "value": {
        "emails": [{"value": "babs@jensen.org", "type": "home"}, {"value": "b@new.org", "type": "other"}],
        "nickname": "Babsy"}}])).unwrap();
    let emails: Vec<&str> = out.resource["emails"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["value"].as_str().unwrap())
        .collect();
    assert_eq!(
        emails,
        ["bjensen@example.com", "babs@jensen.org", "b@new.org"],
        "add appends without duplicates"
    );
    assert_eq!(
        out.resource["nickName"], "Babsy",
        "attribute names are case-insensitive"
    );
    assert_eq!(out.changed, ["nickName", "emails"]);
}

#[test]
fn rfc_remove_examples() {
    let out = patch(
        "Group",
        &group(),
        json!([{"op": "remove", "path": format!("members[value eq \"{BABS}\"]")}]),
    )
    .unwrap();
    assert_eq!(
        member_ids(&out.resource),
        ["902c246b-6245-4190-8e05-00816be7344a"]
    );
    let out = patch(
        "Group",
        &group(),
        json!([{"op": "remove", "path": "members"}]),
    )
    .unwrap();
    assert!(out.resource.get("members").is_none());
    // Replace all members with one: remove a filtered member, add another.
    let out = patch(
        "Group",
        &group(),
        json!([
            {"op": "remove", "path": format!("members[value eq \"{BABS}\"]")},
            {"op": "remove", "path": "members[value eq \"902c246b-6245-4190-8e05-00816be7344a\"]"},
            {"op": "add", "path": "members", "value": [{"display": "James Smith", "value": JAMES}]}
        ]),
    )
    .unwrap();
    assert_eq!(member_ids(&out.resource), [JAMES]);
    let out = patch(
        "User",
        &user(),
        json!([{"op": "remove", "path": "emails[type eq \"work\" and value ew \"example.com\"]"}]),
    )
    .unwrap();
    assert_eq!(
        out.resource["emails"],
        json!([{"value": "babs@jensen.org", "type": "home"}])
    );
    // A filter that matches nothing removes nothing; that is not an error.
    let out = patch(
        "User",
        &user(),
        json!([{"op": "remove", "path": "emails[type eq \"other\"]"}]),
    )
    .unwrap();
    assert!(out.changed.is_empty());
    // Sub-attribute of matching values, and of a singular complex attribute.
    let out = patch(
        "User",
        &user(),
        json!([
            {"op": "remove", "path": "addresses[type eq \"work\"].formatted"},
            {"op": "remove", "path": "name.middleName"},
            {"op": "remove", "path": format!("{ENT}:manager")}
        ]),
    )
    .unwrap();
    assert!(out.resource["addresses"][0].get("formatted").is_none());
    assert!(out.resource["addresses"][1].get("formatted").is_some());
    assert!(out.resource["name"].get("middleName").is_none());
    assert!(out.resource[ENT].get("manager").is_none());
    assert_eq!(
        out.changed,
        ["name.middleName", "addresses", &format!("{ENT}:manager")]
    );
}

#[test]
fn rfc_replace_examples() {
    let out = patch(
        "Group",
        &group(),
        json!([{"op": "replace", "path": "members", "value": [
        {"display": "Babs Jensen", "value": BABS}, {"display": "James Smith", "value": JAMES}]}]),
    )
    .unwrap();
    assert_eq!(member_ids(&out.resource), [BABS, JAMES]);
    let work = json!({"type": "work", "streetAddress": "911 Universal City Plaza", "locality": "Hollywood",
        "region": "CA", "postalCode": "91608", "country": "US",
        "formatted": "911 Universal City Plaza\nHollywood, CA 91608 US", "primary": true});
    let out = patch(
        "User",
        &user(),
        json!([{"op": "replace", "path": "addresses[type eq \"work\"]", "value": work}]),
    )
    .unwrap();
    assert_eq!(out.resource["addresses"][0], work);
    assert_eq!(out.resource["addresses"][1]["type"], "home");
    let out = patch("User", &user(), json!([{"op": "replace", "path": "addresses[type eq \"work\"].streetAddress", "value": "1010 Broadway Ave"}])).unwrap();
    assert_eq!(
        out.resource["addresses"][0]["streetAddress"],
        "1010 Broadway Ave"
    );
    assert_eq!(out.resource["addresses"][0]["locality"], "Hollywood");
    let out = patch("User", &user(), json!([{"op": "replace", "value": {
        "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}, {"value": "babs@jensen.org", "type": "home"}],
        "nickname": "Babs"}}])).unwrap();
    assert_eq!(out.resource["emails"].as_array().unwrap().len(), 2);
    assert_eq!(
        out.changed,
        Vec::<String>::new(),
        "same values: nothing changed"
    );
    // Replace on a singular complex attribute keeps the sub-attributes not given.
    let out = patch(
        "User",
        &user(),
        json!([{"op": "replace", "path": "name", "value": {"givenName": "Barb"}}]),
    )
    .unwrap();
    assert_eq!(out.resource["name"]["familyName"], "Jensen");
    assert_eq!(out.changed, ["name.givenName"]);
    // A replace whose filter matches nothing is noTarget (RFC 7644 §3.5.2.3).
    let e = patch(
        "User",
        &user(),
        json!([{"op": "replace", "path": "emails[type eq \"other\"].value", "value": "x"}]),
    )
    .unwrap_err();
    assert_eq!((e.status, e.scim_type), (400, Some(ScimType::NoTarget)));
    assert!(e.detail.starts_with("Operations[0]"), "{}", e.detail);
}

#[test]
fn rfc_path_examples_parse() {
    for p in [
        "members",
        "name.familyName",
        "addresses[type eq \"work\"]",
        "members[value eq \"2819c223-7f76-453a-919d-413861904646\"]",
        "members[value eq \"2819c223-7f76-453a-919d-413861904646\"].displayName",
    ] {
        let parsed = PatchPath::parse(p).unwrap();
        assert_eq!(
            PatchPath::parse(&parsed.to_string()).unwrap(),
            parsed,
            "{p}"
        );
    }
}

#[test]
fn entra_id_requests() {
    let out = patch("User", &user(), json!([
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
        {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
        {"op": "Replace", "path": "active", "value": "False"},
        {"op": "Add", "path": format!("{ENT}:manager"), "value": JAMES},
        {"op": "Add", "path": "phoneNumbers[type eq \"fax\"].value", "value": "555-555-0000"},
        {"op": "Add", "value": {"name.givenName": "Barbara J", format!("{ENT}:employeeNumber"): "99", "title": "Guide"}}
    ])).unwrap();
    let u = &out.resource;
    assert_eq!(u["emails"][0]["value"], "updatedEmail@microsoft.com");
    assert_eq!(u["name"]["familyName"], "updatedFamilyName");
    assert_eq!(u["active"], false);
    assert_eq!(
        u[ENT]["manager"],
        json!({"value": JAMES}),
        "a bare id becomes manager.value"
    );
    assert_eq!(
        u["phoneNumbers"][2],
        json!({"type": "fax", "value": "555-555-0000"}),
        "add through a filter that matches nothing creates the value"
    );
    assert_eq!(u["name"]["givenName"], "Barbara J");
    assert_eq!(u[ENT]["employeeNumber"], "99");
    assert_eq!(
        out.changed,
        [
            "name.familyName",
            "name.givenName",
            "title",
            "active",
            "emails",
            "phoneNumbers",
            &format!("{ENT}:employeeNumber"),
            &format!("{ENT}:manager.value"),
            &format!("{ENT}:manager.$ref")
        ]
    );

    let g = patch(
        "Group",
        &group(),
        json!([
            {"op": "Add", "path": "members", "value": [{"$ref": null, "value": JAMES}]},
            {"op": "Remove", "path": "members", "value": [{"$ref": null, "value": BABS}]},
            {"op": "Replace", "path": "displayName", "value": "Renamed"}
        ]),
    )
    .unwrap();
    assert_eq!(
        member_ids(&g.resource),
        ["902c246b-6245-4190-8e05-00816be7344a", JAMES],
        "remove by value list removes only those"
    );
    assert_eq!(g.resource["displayName"], "Renamed");
}

#[test]
fn okta_requests() {
    let out = patch(
        "User",
        &user(),
        json!([{"op": "replace", "value": {"active": false}}]),
    )
    .unwrap();
    assert_eq!(out.resource["active"], false);
    assert_eq!(out.changed, ["active"]);
    let g = patch("Group", &group(), json!([
        {"op": "replace", "value": {"id": "abf4dd94-a4c0-4f67-89c9-76b03340cb9b", "displayName": "Test SCIMv2"}},
        {"op": "remove", "path": format!("members[value eq \"{BABS}\"]")},
        {"op": "add", "path": "members", "value": [{"value": JAMES, "display": "James"}]}
    ])).unwrap();
    assert_eq!(g.resource["displayName"], "Test SCIMv2");
    assert!(
        g.resource.get("id").is_none(),
        "readOnly id in a value object is ignored"
    );
    assert_eq!(
        member_ids(&g.resource),
        ["902c246b-6245-4190-8e05-00816be7344a", JAMES]
    );
}

#[test]
fn primary_moves_and_whole_extension_paths() {
    let out = patch("User", &user(), json!([{"op": "add", "path": "emails", "value": [{"value": "new@x.org", "type": "work", "primary": true}]}])).unwrap();
    let prim: Vec<bool> = out.resource["emails"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["primary"] == true)
        .collect();
    assert_eq!(
        prim,
        [false, false, true],
        "setting primary on one value clears it on the others"
    );
    let out = patch(
        "User",
        &user(),
        json!([{"op": "replace", "path": "emails[type eq \"home\"].primary", "value": true}]),
    )
    .unwrap();
    assert_eq!(out.resource["emails"][0]["primary"], false);
    assert_eq!(out.resource["emails"][1]["primary"], true);

    let out = patch(
        "User",
        &user(),
        json!([{"op": "replace", "path": ENT, "value": {"department": "Finance"}}]),
    )
    .unwrap();
    assert_eq!(out.resource[ENT]["department"], "Finance");
    assert_eq!(out.resource[ENT]["costCenter"], "4130");
    let out = patch("User", &user(), json!([{"op": "remove", "path": ENT}])).unwrap();
    assert!(out.resource.get(ENT).is_none());
    assert_eq!(
        out.resource["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:User"])
    );
    let out = patch(
        "User",
        &stored("User", rfc7643::minimal_user()),
        json!([{"op": "add", "path": format!("{ENT}:department"), "value": "Ops"}]),
    )
    .unwrap();
    assert_eq!(out.resource["schemas"][1], ENT);
}

#[test]
fn precise_errors_and_nothing_half_applied() {
    let cases: Vec<(Value, u16, ScimType, &str)> = vec![
        (
            json!([{"op": "replace", "path": "id", "value": "x"}]),
            400,
            ScimType::Mutability,
            "Operations[0]",
        ),
        (
            json!([{"op": "add", "path": "groups", "value": [{"value": "g"}]}]),
            400,
            ScimType::Mutability,
            "groups",
        ),
        (
            json!([{"op": "add", "path": "nope", "value": 1}]),
            400,
            ScimType::InvalidPath,
            "nope",
        ),
        (
            json!([{"op": "add", "path": "name[givenName eq \"x\"]", "value": {}}]),
            400,
            ScimType::InvalidPath,
            "multi-valued",
        ),
        (
            json!([{"op": "replace", "path": "active", "value": "maybe"}]),
            400,
            ScimType::InvalidValue,
            "active",
        ),
        (
            json!([{"op": "remove", "path": "userName"}]),
            400,
            ScimType::InvalidValue,
            "userName",
        ),
        (
            json!([{"op": "add", "path": "emails.type", "value": "work"}]),
            400,
            ScimType::InvalidPath,
            "filter",
        ),
        (
            json!([{"op": "add", "path": "emails[type eq \"other\" or type eq \"pager\"].display", "value": "x"},
                {"op": "add", "path": "nickName", "value": "n"}]),
            400,
            ScimType::InvalidPath,
            "",
        ),
        (
            json!([{"op": "replace", "path": "title", "value": "T"},
                {"op": "add", "path": "emails", "value": [{"value": "a", "primary": true}, {"value": "b", "primary": true}]}]),
            400,
            ScimType::InvalidValue,
            "Operations[1]",
        ),
    ];
    for (ops, status, t, needle) in cases {
        let e = patch("User", &user(), ops.clone()).unwrap_err();
        if ops[0]["path"].as_str().is_some_and(|p| p.contains(" or ")) {
            // add through an "or" filter that matches nothing cannot say what to create.
            assert_eq!(e.scim_type, Some(ScimType::NoTarget), "{ops}: {e}");
            continue;
        }
        assert_eq!((e.status, e.scim_type), (status, Some(t)), "{ops}: {e}");
        assert!(e.detail.contains(needle), "{ops}: {e}");
    }
    let e = patch(
        "Group",
        &group(),
        json!([{"op": "add", "path": "members", "value": [{"value": "x", "type": "Printer"}]}]),
    )
    .unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
}
