//! Subscription specs: what is accepted, the defaults, and every rule
//! refused with the field it is about.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{ENTERPRISE, whsec};
use scimbus_notify::{
    Delivery, EventKind, Format, Signing, SpecError, Subscription, SubscriptionSpec,
};
use scimbus_scim::Registry;
use serde_json::{Value, json};

fn spec(body: Value) -> SubscriptionSpec {
    SubscriptionSpec::from_json(body.to_string().as_bytes()).unwrap()
}

fn registry() -> Registry {
    Registry::standard().unwrap()
}

fn checked(body: Value) -> Subscription {
    spec(body).check("crm", &registry(), true).unwrap()
}

/// The field a spec is refused for, by the JSON reader or by `check`.
fn refused(body: Value, key_available: bool) -> SpecError {
    match SubscriptionSpec::from_json(body.to_string().as_bytes()) {
        Err(e) => e,
        Ok(s) => match s.check("crm", &registry(), key_available) {
            Err(e) => e,
            Ok(_) => panic!("accepted: {body}"),
        },
    }
}

fn refused_field(body: Value) -> String {
    let e = refused(body, true);
    assert!(!e.detail.is_empty());
    e.field
}

fn hook() -> Value {
    json!({"type": "webhook", "url": "https://app.example.com/hooks/scim", "secret": whsec(1, 32)})
}

fn with(mut base: Value, key: &str, value: Value) -> Value {
    base[key] = value;
    base
}

fn webhook_spec() -> Value {
    json!({"delivery": hook()})
}

#[test]
fn a_webhook_gets_every_default() {
    let s = checked(webhook_spec());
    assert_eq!(s.name, "crm");
    assert_eq!(
        s.delivery,
        Delivery::Webhook {
            url: "https://app.example.com/hooks/scim".into(),
            secrets: vec![whsec(1, 32)],
        }
    );
    assert_eq!(s.format, Format::Cloudevents);
    assert_eq!(s.signing, Signing::Secret);
    assert_eq!(s.audience, "https://app.example.com/hooks/scim");
    assert_eq!(s.timeout, Duration::from_secs(10));
    assert_eq!(s.max_attempts, 15);
    assert_eq!(s.concurrency, 8);
    assert!(!s.selector.has_filter());
}

#[test]
fn nats_takes_cloudevents_and_needs_no_key() {
    let s = spec(json!({"delivery": {"type": "nats"}}))
        .check("audit", &registry(), false)
        .unwrap();
    assert_eq!(s.delivery, Delivery::Nats);
    assert_eq!(s.format, Format::Cloudevents);
    assert_eq!(s.audience, "scimbus:audit");
}

#[test]
fn poll_serves_sets_signed_with_its_secret_or_the_key() {
    let with_secret = checked(json!({"delivery": {"type": "poll", "secret": whsec(2, 24)}}));
    assert_eq!(
        with_secret.delivery,
        Delivery::Poll {
            secrets: vec![whsec(2, 24)]
        }
    );
    assert_eq!(with_secret.format, Format::ScimSet);
    assert_eq!(with_secret.signing, Signing::Secret);
    assert_eq!(with_secret.audience, "scimbus:crm");
    let keyed = checked(json!({"delivery": {"type": "poll"}}));
    assert_eq!(keyed.signing, Signing::Key);
    let e = refused(json!({"delivery": {"type": "poll"}}), false);
    assert_eq!(e.field, "signing");
}

#[test]
fn every_setting_written_is_taken() {
    let s = checked(json!({
        "name": "crm",
        "delivery": {"type": "webhook", "url": "http://crm.internal:8080/scim", "secret": [whsec(3, 64), "env:CRM_OLD_SECRET", "file:/run/secrets/crm"]},
        "format": "scim-set",
        "resource_types": ["user"],
        "events": ["created", "deactivated"],
        "filter": "userType eq \"Employee\"",
        "attributes": ["name.givenName", ENTERPRISE, "DISPLAYNAME"],
        "signing": "key",
        "audience": "crm-prod",
        "timeout_secs": 60,
        "max_attempts": 30,
        "concurrency": 64
    }));
    assert_eq!(s.format, Format::ScimSet);
    assert_eq!(s.signing, Signing::Key);
    assert_eq!(s.audience, "crm-prod");
    assert_eq!(s.timeout, Duration::from_secs(60));
    assert_eq!((s.max_attempts, s.concurrency), (30, 64));
    assert!(s.selector.has_filter());
    match s.delivery {
        Delivery::Webhook { secrets, .. } => assert_eq!(secrets.len(), 3),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_toml_entry_reads_as_a_spec() {
    let text = format!(
        r#"
name = "crm"
resource_types = ["User"]
events = ["created", "membership"]
delivery = {{ type = "webhook", url = "https://app.example.com/hook", secret = "{}" }}
"#,
        whsec(4, 32)
    );
    let s: SubscriptionSpec = toml::from_str(&text).unwrap();
    s.check_form().unwrap();
    assert_eq!(
        s.events,
        Some(vec![EventKind::Created, EventKind::Membership])
    );
    let nameless: SubscriptionSpec = toml::from_str("delivery = { type = \"nats\" }").unwrap();
    assert_eq!(nameless.check_form().unwrap_err().field, "name");
}

#[test]
fn names_are_short_lowercase_words() {
    let r = registry();
    let s = spec(webhook_spec());
    for bad in [
        "",
        "CRM",
        "-crm",
        "_crm",
        "crm app",
        "crm.app",
        &"a".repeat(64),
    ] {
        assert_eq!(s.check(bad, &r, true).unwrap_err().field, "name", "{bad:?}");
    }
    for good in ["crm", "0crm", "crm-app_2", &"a".repeat(63)] {
        s.check(good, &r, true).unwrap();
    }
    let named = spec(with(webhook_spec(), "name", json!("other")));
    assert_eq!(named.check("crm", &r, true).unwrap_err().field, "name");
    let bad_in_toml = spec(with(webhook_spec(), "name", json!("Bad")));
    assert_eq!(bad_in_toml.check_form().unwrap_err().field, "name");
}

#[test]
fn webhook_urls_are_absolute_http_with_a_host() {
    for url in [
        "ftp://example.com/x",
        "example.com/hook",
        "/hooks",
        "http://",
        "mailto:a@b.c",
    ] {
        let mut d = hook();
        d["url"] = json!(url);
        assert_eq!(
            refused_field(json!({"delivery": d})),
            "delivery.url",
            "{url}"
        );
    }
}

#[test]
fn secrets_are_whsec_or_references_and_webhooks_need_one() {
    let cases = [
        (json!("s3cr3t"), "delivery.secret"),
        (json!(whsec(1, 23)), "delivery.secret"),
        (json!(whsec(1, 65)), "delivery.secret"),
        (json!("whsec_%%%"), "delivery.secret"),
        (json!("env:"), "delivery.secret"),
        (json!("env:1BAD"), "delivery.secret"),
        (json!("file:relative/path"), "delivery.secret"),
        (json!([whsec(1, 32), "nope"]), "delivery.secret[1]"),
        (json!([]), "delivery.secret"),
    ];
    for (secret, field) in cases {
        let mut d = hook();
        d["secret"] = secret.clone();
        assert_eq!(refused_field(json!({"delivery": d})), field, "{secret}");
    }
    let mut unsigned = hook();
    unsigned.as_object_mut().unwrap().remove("secret");
    assert_eq!(
        refused_field(json!({"delivery": unsigned})),
        "delivery.secret"
    );
    let e = refused(
        json!({"delivery": {"type": "nats", "secret": whsec(1, 32)}}),
        true,
    );
    assert_eq!(e.field, "delivery.secret");
}

#[test]
fn each_delivery_takes_only_its_formats() {
    let nats_set = json!({"delivery": {"type": "nats"}, "format": "scim-set"});
    let poll_ce = json!({"delivery": {"type": "poll"}, "format": "cloudevents"});
    for body in [nats_set, poll_ce] {
        let e = refused(body, true);
        assert_eq!(e.field, "format");
        assert!(e.detail.contains("only"), "{}", e.detail);
    }
    let set_hook = checked(with(webhook_spec(), "format", json!("scim-set")));
    assert_eq!(set_hook.format, Format::ScimSet);
}

#[test]
fn signing_needs_what_it_signs_with() {
    let secretless = json!({"delivery": {"type": "nats"}, "signing": "secret"});
    assert_eq!(refused(secretless, true).field, "signing");
    let keyless = with(webhook_spec(), "signing", json!("key"));
    assert_eq!(refused(keyless.clone(), false).field, "signing");
    assert_eq!(checked(keyless).signing, Signing::Key);
}

#[test]
fn numbers_stay_in_their_ranges() {
    for (key, bad, good) in [
        ("timeout_secs", [0, 61], [1, 60]),
        ("max_attempts", [0, 31], [1, 30]),
        ("concurrency", [0, 65], [1, 64]),
    ] {
        for v in bad {
            assert_eq!(refused_field(with(webhook_spec(), key, json!(v))), key);
        }
        for v in good {
            checked(with(webhook_spec(), key, json!(v)));
        }
    }
    assert_eq!(
        refused_field(with(webhook_spec(), "audience", json!(" "))),
        "audience"
    );
}

#[test]
fn resource_types_and_events_are_known_and_listed_once() {
    let cases = [
        ("resource_types", json!([]), "resource_types"),
        ("resource_types", json!(["Users"]), "resource_types[0]"),
        (
            "resource_types",
            json!(["User", "user"]),
            "resource_types[1]",
        ),
        ("events", json!([]), "events"),
        ("events", json!(["created", "created"]), "events[1]"),
        (
            "events",
            json!(["created", "updated", "moved"]),
            "events[2]",
        ),
    ];
    for (key, value, field) in cases {
        assert_eq!(
            refused_field(with(webhook_spec(), key, value.clone())),
            field,
            "{value}"
        );
    }
    let shown = spec(with(webhook_spec(), "resource_types", json!(["gROUP"]))).shown();
    assert_eq!(shown["resourceTypes"], json!(["Group"]));
}

#[test]
fn filters_parse_and_fit_a_selected_type() {
    for filter in ["userName eq", "nosuch eq \"x\"", "active gt true"] {
        assert_eq!(
            refused_field(with(webhook_spec(), "filter", json!(filter))),
            "filter"
        );
    }
    // `members` is a Group attribute: fine for both types, not for User alone.
    let group_only = with(webhook_spec(), "filter", json!("members pr"));
    checked(group_only.clone());
    let users = with(group_only, "resource_types", json!(["User"]));
    assert_eq!(refused_field(users), "filter");
}

#[test]
fn attributes_name_something_a_selected_type_has() {
    assert_eq!(
        refused_field(with(webhook_spec(), "attributes", json!([]))),
        "attributes"
    );
    let cases = [
        json!(["nosuch"]),
        json!(["name.nosuch"]),
        json!(["urn:example:nosuch:2.0:User"]),
    ];
    for list in cases {
        assert_eq!(
            refused_field(with(webhook_spec(), "attributes", list)),
            "attributes[0]"
        );
    }
    let members_of_users = with(
        with(webhook_spec(), "attributes", json!(["userName", "members"])),
        "resource_types",
        json!(["User"]),
    );
    assert_eq!(refused_field(members_of_users), "attributes[1]");
    checked(with(
        webhook_spec(),
        "attributes",
        json!([
            "members",
            "NAME.GIVENNAME",
            "department",
            ENTERPRISE,
            format!("{ENTERPRISE}:manager.value"),
            "urn:ietf:params:scim:schemas:core:2.0:User:userName"
        ]),
    ));
}

#[test]
fn an_unknown_key_or_a_wrong_type_names_its_field() {
    let cases = [
        (with(webhook_spec(), "colour", json!("blue")), "colour"),
        (
            json!({"delivery": with(hook(), "headers", json!({}))}),
            "delivery.headers",
        ),
        (
            with(webhook_spec(), "timeout_secs", json!("ten")),
            "timeout_secs",
        ),
        (
            with(webhook_spec(), "max_attempts", json!(-1)),
            "max_attempts",
        ),
        (with(webhook_spec(), "format", json!("xml")), "format"),
        (with(webhook_spec(), "signing", json!(true)), "signing"),
        (
            json!({"delivery": with(hook(), "url", json!(5))}),
            "delivery.url",
        ),
        (json!({"delivery": {"type": "pigeon"}}), "delivery.type"),
        (
            json!({"delivery": {"type": "nats", "url": "https://x"}}),
            "delivery.url",
        ),
        (json!({"delivery": {"url": "https://x"}}), "delivery.type"),
        (json!({"events": ["created"]}), "delivery"),
    ];
    for (body, field) in cases {
        let e = SubscriptionSpec::from_json(body.to_string().as_bytes()).unwrap_err();
        assert_eq!(e.field, field, "{body}: {e}");
        assert!(!e.detail.contains("line 1"), "{e}");
    }
    let e = SubscriptionSpec::from_json(b"{not json").unwrap_err();
    assert_eq!(e.field, "body");
}

#[test]
fn shown_fills_defaults_in_and_never_shows_a_secret() {
    let new = whsec(9, 32);
    let old = whsec(8, 32);
    let mut d = hook();
    d["secret"] = json!([new, old]);
    let s = spec(json!({"name": "crm", "delivery": d, "events": ["deleted"]}));
    let shown = s.shown();
    let text = shown.to_string();
    for secret in [&new, &old] {
        assert!(!text.contains(secret.as_str()), "{text}");
        assert!(!text.contains(&secret["whsec_".len()..]), "{text}");
    }
    assert_eq!(
        shown,
        json!({
            "name": "crm",
            "delivery": {"type": "webhook", "url": "https://app.example.com/hooks/scim", "secretCount": 2},
            "format": "cloudevents",
            "resourceTypes": ["User", "Group"],
            "events": ["deleted"],
            "filter": null,
            "attributes": null,
            "signing": "secret",
            "audience": "https://app.example.com/hooks/scim",
            "timeoutSecs": 10,
            "maxAttempts": 15,
            "concurrency": 8
        })
    );
    let poll = spec(json!({"name": "p", "delivery": {"type": "poll", "secret": "env:P"}})).shown();
    assert_eq!(poll["delivery"], json!({"type": "poll", "secretCount": 1}));
    assert_eq!(
        (&poll["format"], &poll["audience"]),
        (&json!("scim-set"), &json!("scimbus:p"))
    );
    assert!(!poll.to_string().contains("env:P"));
}

#[test]
fn secrets_come_out_and_go_back() {
    let mut d = hook();
    d["secret"] = json!([whsec(1, 32), "env:OLD"]);
    let s = spec(json!({"delivery": d}));
    let secrets = s.secrets();
    assert_eq!(secrets, vec![whsec(1, 32), "env:OLD".to_string()]);
    let bare = s.without_secrets();
    assert!(bare.secrets().is_empty());
    assert!(!serde_json::to_string(&bare).unwrap().contains("whsec_"));
    assert_eq!(bare.clone().with_secrets(secrets), s);
    let one = spec(webhook_spec());
    assert_eq!(one.without_secrets().with_secrets(one.secrets()), one);
    let nats = spec(json!({"delivery": {"type": "nats"}}));
    assert!(nats.secrets().is_empty());
    assert_eq!(nats.clone().with_secrets(vec!["x".into()]), nats);
}

#[test]
fn debug_output_never_shows_a_secret() {
    let (new, old) = (whsec(9, 32), "env:CRM_OLD".to_string());
    let mut d = hook();
    d["secret"] = json!([new, old]);
    let s = spec(json!({"delivery": d, "filter": "userName sw \"b\""}));
    let checked = s.check("crm", &registry(), true).unwrap();
    for shown in [format!("{s:?}"), format!("{checked:?}")] {
        assert!(!shown.contains(&new) && !shown.contains(&old), "{shown}");
        assert!(shown.contains("2 hidden"), "{shown}");
    }
    assert!(format!("{checked:?}").contains("userName sw \\\"b\\\""));
}
