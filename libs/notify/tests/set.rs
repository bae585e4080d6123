//! SCIM Security Event Tokens (RFC 9967): the claims RFC 8417 and RFC 9967
//! require, the event URI and payload per kind, and a signed SET as a
//! receiver decodes it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{ENTERPRISE, admins, barbara, membership, user, whsec};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
use scimbus_events::v1::Change;
use scimbus_events::v1::change::Operation;
use scimbus_notify::{
    EventKind, SECEVENT_JWT, Signer, SigningKey, WebhookSecret, set_claims, sign_jwt,
};
use serde_json::{Value, json};

const ISS: &str = "https://scimbus.example.com/scim/v2/acme";
const AUD: &str = "https://app.example.com/hook";
const PROV: &str = "urn:ietf:params:scim:event:prov";

fn claims(c: &Change, kind: EventKind, left: bool) -> Value {
    set_claims(c, kind, left, ISS, AUD, 1_718_000_100)
}

fn event_uris(claims: &Value) -> Vec<String> {
    let mut uris: Vec<String> = claims["events"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    uris.sort();
    uris
}

/// RFC 8417 §2.2 (iss, iat, jti, events; aud when given) and RFC 9967
/// §2.1-2.2 (sub_id of format scim with a uri; txn), and no `sub`.
fn assert_required_claims(c: &Change, claims: &Value) {
    assert_eq!(claims["iss"], ISS);
    assert_eq!(claims["aud"], AUD);
    assert_eq!(claims["iat"], 1_718_000_100);
    assert_eq!(claims["jti"], c.id.as_str());
    assert_eq!(claims["txn"], c.command_id.as_str());
    assert_eq!(claims["sub_id"]["format"], "scim");
    let endpoint = if c.resource_type == "User" {
        "Users"
    } else {
        "Groups"
    };
    assert_eq!(
        claims["sub_id"]["uri"],
        format!("/{endpoint}/{}", c.resource_id)
    );
    assert_eq!(claims["sub_id"]["id"], c.resource_id.as_str());
    assert!(claims.get("sub").is_none(), "RFC 9967 §2.1: no sub");
    let events = claims["events"].as_object().unwrap();
    assert!(!events.is_empty());
    for (uri, payload) in events {
        assert!(uri.starts_with("urn:ietf:params:scim:event:"), "{uri}");
        let payload = payload.as_object().unwrap();
        // §2.4: exactly one of data and attributes in full / notice events.
        if uri.ends_with(":full") {
            assert!(payload.contains_key("data") && !payload.contains_key("attributes"));
        } else if uri.ends_with(":notice") {
            assert!(payload.contains_key("attributes") && !payload.contains_key("data"));
        }
    }
}

#[test]
fn each_kind_has_its_event_uris_and_every_required_claim() {
    let cases: Vec<(Change, EventKind, Vec<String>)> = vec![
        (
            user(Operation::Created, barbara("Sales", true), &["userName"]),
            EventKind::Created,
            vec![format!("{PROV}:create:full")],
        ),
        (
            user(Operation::Updated, barbara("Sales", true), &["title"]),
            EventKind::Updated,
            vec![format!("{PROV}:patch:full")],
        ),
        (
            user(Operation::Deleted, Value::Null, &[]),
            EventKind::Deleted,
            vec![format!("{PROV}:delete")],
        ),
        (
            user(Operation::Activated, barbara("Sales", true), &["active"]),
            EventKind::Activated,
            vec![format!("{PROV}:activate"), format!("{PROV}:patch:full")],
        ),
        (
            user(Operation::Deactivated, barbara("Sales", false), &["active"]),
            EventKind::Deactivated,
            vec![format!("{PROV}:deactivate"), format!("{PROV}:patch:full")],
        ),
        (
            membership(&["u1"], &[]),
            EventKind::Membership,
            vec![format!("{PROV}:patch:full")],
        ),
    ];
    for (c, kind, uris) in cases {
        let claims = claims(&c, kind, false);
        assert_required_claims(&c, &claims);
        assert_eq!(event_uris(&claims), uris, "{kind:?}");
    }
    assert_eq!(SECEVENT_JWT, "application/secevent+jwt");
}

#[test]
fn a_create_carries_the_resource_and_a_group_its_members() {
    let c = user(Operation::Created, barbara("Sales", true), &["userName"]);
    let claims = claims(&c, EventKind::Created, false);
    let event = &claims["events"][format!("{PROV}:create:full")];
    assert_eq!(event["data"], barbara("Sales", true));
    assert_eq!(event["version"], "W/\"3\"");
    assert_eq!(claims["sub_id"]["externalId"], "bjensen");
    let mut g = membership(&["u1", "u2"], &[]);
    g.operation = Operation::Created as i32;
    let claims = self::claims(&g, EventKind::Created, false);
    let data = &claims["events"][format!("{PROV}:create:full")]["data"];
    assert_eq!(data["displayName"], "Admins");
    assert_eq!(data["members"], json!([{"value": "u1"}, {"value": "u2"}]));
}

#[test]
fn an_update_is_a_patch_bringing_each_changed_path_to_its_new_value() {
    let mut after = barbara("Engineering", true);
    after.as_object_mut().unwrap().remove("title");
    let c = user(
        Operation::Updated,
        after,
        &[
            "name.givenName",
            "title",
            &format!("{ENTERPRISE}:department"),
        ],
    );
    let claims = claims(&c, EventKind::Updated, false);
    assert_eq!(
        claims["events"][format!("{PROV}:patch:full")],
        json!({
            "version": "W/\"3\"",
            "data": {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [
                    {"op": "replace", "path": "name.givenName", "value": "Barbara"},
                    {"op": "remove", "path": "title"},
                    {"op": "replace", "path": format!("{ENTERPRISE}:department"), "value": "Engineering"}
                ]
            }
        })
    );
}

#[test]
fn a_membership_change_patches_members_as_the_rfc_shows() {
    let c = membership(&["u1", "u2"], &["u\"3"]);
    let claims = claims(&c, EventKind::Membership, false);
    assert_eq!(
        claims["sub_id"]["uri"],
        format!("/Groups/{}", admins()["id"].as_str().unwrap())
    );
    assert_eq!(
        claims["events"][format!("{PROV}:patch:full")]["data"]["Operations"],
        json!([
            {"op": "add", "path": "members", "value": [{"value": "u1"}, {"value": "u2"}]},
            {"op": "remove", "path": "members[value eq \"u\\\"3\"]"}
        ])
    );
}

#[test]
fn a_change_a_patch_cannot_say_is_a_notice() {
    let c = membership(&[], &[]);
    let claims = claims(&c, EventKind::Membership, false);
    assert_eq!(event_uris(&claims), vec![format!("{PROV}:patch:notice")]);
    assert_eq!(
        claims["events"][format!("{PROV}:patch:notice")],
        json!({"version": "W/\"3\"", "attributes": ["members"]})
    );
}

#[test]
fn a_leaver_is_removed_from_the_feed_but_a_delete_is_only_a_delete() {
    let c = user(
        Operation::Updated,
        barbara("Marketing", true),
        &[&format!("{ENTERPRISE}:department")],
    );
    let claims = claims(&c, EventKind::Updated, true);
    assert_eq!(
        event_uris(&claims),
        vec![
            "urn:ietf:params:scim:event:feed:remove".to_string(),
            format!("{PROV}:patch:full")
        ]
    );
    assert_eq!(
        claims["events"]["urn:ietf:params:scim:event:feed:remove"],
        json!({})
    );
    let gone = user(Operation::Deleted, Value::Null, &[]);
    let claims = self::claims(&gone, EventKind::Deleted, true);
    assert_eq!(event_uris(&claims), vec![format!("{PROV}:delete")]);
    assert_eq!(claims["events"][format!("{PROV}:delete")], json!({}));
    assert!(claims["sub_id"].get("externalId").is_none());
}

#[test]
fn txn_falls_back_to_the_change_id() {
    let mut c = user(Operation::Updated, barbara("Sales", true), &["title"]);
    c.command_id.clear();
    assert_eq!(claims(&c, EventKind::Updated, false)["txn"], c.id.as_str());
}

#[test]
fn a_signed_set_decodes_to_its_claims() {
    let c = user(Operation::Deactivated, barbara("Sales", false), &["active"]);
    let claims = claims(&c, EventKind::Deactivated, false);
    let mut v = Validation::new(Algorithm::HS256);
    v.required_spec_claims.clear();
    v.validate_exp = false;
    v.set_audience(&[AUD]);
    let secret = WebhookSecret::parse(&whsec(6, 32)).unwrap();
    let token = sign_jwt(&claims, &Signer::Hs256(secret.bytes())).unwrap();
    let got = decode::<Value>(
        &token,
        &DecodingKey::from_secret(secret.bytes()).unwrap(),
        &v,
    )
    .unwrap();
    assert_eq!(got.claims, claims);
    let key = SigningKey::from_pem(include_bytes!("keys/rsa.pem")).unwrap();
    let token = sign_jwt(&claims, &Signer::Key(&key)).unwrap();
    let jwk = &key.jwks()["keys"][0];
    let dk =
        DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap())
            .unwrap();
    v.algorithms = vec![Algorithm::RS256];
    assert_eq!(decode::<Value>(&token, &dk, &v).unwrap().claims, claims);
}
