//! A source as the configuration writes it: defaults, unknown keys, the
//! form checks naming the field, and what the operator API shows.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::demo_spec;
use scimbus_hr::{AuthSpec, Encoding, SourceSpec};
use serde_json::json;

const MINIMAL: &str = "name = \"hr\"\n\
    [auth]\nscheme = \"hmac\"\nheader = \"X-Signature\"\nsecrets = [\"env:S\"]\n\
    [mapping]\nemployee_id = \"event.id\"\nkind = \"'update'\"\n";

fn parse(text: &str) -> SourceSpec {
    toml::from_str(text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// The field and detail of the form error of `MINIMAL` edited by `edit`.
fn form_error(edit: impl FnOnce(&mut SourceSpec)) -> (String, String) {
    let mut spec = parse(MINIMAL);
    edit(&mut spec);
    let e = spec.check_form().unwrap_err();
    (e.field, e.detail)
}

#[test]
fn defaults_are_filled_in() {
    let spec = parse(MINIMAL);
    spec.check_form().unwrap();
    assert_eq!(spec.time_zone, "UTC");
    assert_eq!(spec.events, None);
    assert_eq!(spec.delete_after_days, None);
    assert_eq!(
        spec.auth,
        AuthSpec::Hmac {
            header: "X-Signature".into(),
            encoding: Encoding::Hex,
            prefix: None,
            timestamp_header: None,
            signed: "{body}".into(),
            tolerance_secs: 300,
            secrets: vec!["env:S".into()],
        }
    );
    let sw: SourceSpec = parse(&MINIMAL.replace(
        "scheme = \"hmac\"\nheader = \"X-Signature\"\n",
        "scheme = \"standard-webhooks\"\n",
    ));
    assert_eq!(
        sw.auth,
        AuthSpec::StandardWebhooks {
            tolerance_secs: 300,
            secrets: vec!["env:S".into()]
        }
    );
}

#[test]
fn unknown_keys_are_refused_at_every_level() {
    for (from, to) in [
        ("name = \"hr\"\n", "name = \"hr\"\ncolour = 1\n"),
        (
            "scheme = \"hmac\"\n",
            "scheme = \"hmac\"\nalgorithm = \"sha1\"\n",
        ),
        (
            "kind = \"'update'\"\n",
            "kind = \"'update'\"\nactive = \"true\"\n",
        ),
        ("scheme = \"hmac\"", "scheme = \"basic\""),
    ] {
        let text = MINIMAL.replace(from, to);
        assert!(toml::from_str::<SourceSpec>(&text).is_err(), "{text}");
    }
}

/// A change to a spec.
type Edit = Box<dyn FnOnce(&mut SourceSpec)>;

#[test]
fn form_errors_name_the_field() {
    let cases: Vec<(Edit, &str, &str)> = vec![
        (
            Box::new(|s| s.name = "Work Day".into()),
            "name",
            "is not 1 to 64",
        ),
        (
            Box::new(|s| s.name = "a".repeat(65)),
            "name",
            "is not 1 to 64",
        ),
        (
            Box::new(|s| s.time_zone = "Mars/Olympus".into()),
            "time_zone",
            "is not an IANA time zone",
        ),
        (
            Box::new(|s| s.events = Some("data..items".into())),
            "events",
            "is not a dotted path",
        ),
        (
            Box::new(|s| s.mapping.kind = "event.kind ==".into()),
            "mapping.kind",
            "",
        ),
        (
            Box::new(|s| s.mapping.manager = Some("event.(".into())),
            "mapping.manager",
            "",
        ),
        (
            Box::new(|s| {
                s.mapping.set.insert("title".into(), "event.title +".into());
            }),
            "mapping.set.title",
            "",
        ),
        (
            Box::new(|s| {
                s.mapping.set.insert("name..givenName".into(), "'x'".into());
            }),
            "mapping.set.name..givenName",
            "not an attribute path",
        ),
        (
            Box::new(|s| {
                s.mapping.set.insert("active".into(), "true".into());
            }),
            "mapping.set.active",
            "follows from the event's kind",
        ),
        (
            Box::new(|s| {
                s.mapping.set.insert("externalId".into(), "event.id".into());
            }),
            "mapping.set.externalId",
            "comes from mapping.employee_id",
        ),
        (
            Box::new(|s| {
                let m = format!("{}:manager.value", scimbus_hr::ENTERPRISE_USER);
                s.mapping.set.insert(m, "event.boss".into());
            }),
            "mapping.set.urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
            "comes from mapping.manager",
        ),
        (
            Box::new(|s| set_secrets(s, vec![])),
            "auth.secrets",
            "has 0 secrets",
        ),
        (
            Box::new(|s| set_secrets(s, vec!["env:A".into(), "env:B".into(), "env:C".into()])),
            "auth.secrets",
            "has 3 secrets",
        ),
        (
            Box::new(|s| set_secrets(s, vec!["env:A".into(), "hunter2".into()])),
            "auth.secrets[1]",
            "never inline",
        ),
        (
            Box::new(|s| set_secrets(s, vec!["env:".into()])),
            "auth.secrets[0]",
            "never inline",
        ),
        (
            Box::new(|s| set_hmac(s, |h, _, _| *h = "X Signature".into())),
            "auth.header",
            "not an HTTP header name",
        ),
        (
            Box::new(|s| set_hmac(s, |_, t, _| *t = Some("ts\n".into()))),
            "auth.timestamp_header",
            "not an HTTP header name",
        ),
        (
            Box::new(|s| set_hmac(s, |_, _, g| *g = "v0:".into())),
            "auth.signed",
            "must contain {body}",
        ),
        (
            Box::new(|s| set_hmac(s, |_, _, g| *g = "{body}{timestamp}".into())),
            "auth.signed",
            "needs a timestamp_header",
        ),
        (
            Box::new(|s| set_hmac(s, |_, _, g| *g = "{body}.{id}".into())),
            "auth.signed",
            "only {body} and {timestamp}",
        ),
    ];
    for (edit, field, detail) in cases {
        let (f, d) = form_error(edit);
        assert_eq!(f, field, "{d}");
        assert!(d.contains(detail), "{field}: {d}");
    }
}

fn set_secrets(s: &mut SourceSpec, list: Vec<String>) {
    match &mut s.auth {
        AuthSpec::Hmac { secrets, .. } | AuthSpec::StandardWebhooks { secrets, .. } => {
            *secrets = list
        }
        AuthSpec::Bearer {} => {}
    }
}

fn set_hmac(s: &mut SourceSpec, f: impl FnOnce(&mut String, &mut Option<String>, &mut String)) {
    if let AuthSpec::Hmac {
        header,
        timestamp_header,
        signed,
        ..
    } = &mut s.auth
    {
        f(header, timestamp_header, signed)
    }
}

#[test]
fn shown_has_the_settings_and_never_a_secret_reference() {
    let bamboo = demo_spec("bamboohr");
    let shown = bamboo.shown();
    assert_eq!(
        shown["auth"],
        json!({
            "scheme": "hmac",
            "header": "X-BambooHR-Signature",
            "encoding": "hex",
            "prefix": null,
            "timestampHeader": "X-BambooHR-Timestamp",
            "signed": "{body}{timestamp}",
            "toleranceSecs": 300,
            "secretCount": 1
        })
    );
    assert_eq!(shown["name"], "bamboohr");
    assert_eq!(shown["events"], "employees");
    assert_eq!(shown["timeZone"], "Africa/Accra");
    assert_eq!(shown["mapping"]["employeeId"], "event.id");
    assert!(shown["mapping"]["set"]["title"].is_string());
    let personio = demo_spec("personio").shown();
    assert_eq!(
        personio["auth"],
        json!({"scheme": "standard-webhooks", "toleranceSecs": 300, "secretCount": 1})
    );
    for s in [shown.to_string(), personio.to_string()] {
        assert!(!s.contains("SCIMBUS_DEMO_HR"), "{s}");
        assert!(!s.contains("env:"), "{s}");
    }
}

#[test]
fn a_bearer_source_has_no_secrets_and_never_takes_a_signature() {
    let text = MINIMAL.replace(
        "scheme = \"hmac\"\nheader = \"X-Signature\"\nsecrets = [\"env:S\"]\n",
        "scheme = \"bearer\"\n",
    );
    let spec = parse(&text);
    assert_eq!(spec.auth, AuthSpec::Bearer {});
    spec.check_form().unwrap();
    assert_eq!(
        spec.shown()["auth"],
        json!({"scheme": "bearer", "scope": "hr:hr"})
    );
    let source = scimbus_hr::Source::compile(&spec, vec![]).unwrap();
    assert!(source.takes_bearer());
    assert!(!common::demo_source("workday").takes_bearer());
    // Whatever headers come, no signature holds for it.
    let mut headers = http::HeaderMap::new();
    headers.insert("x-signature", "00".parse().unwrap());
    let now = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
    assert!(source.verify(&headers, b"{}", now).is_err());
    // A secret or a signature setting is a key the scheme does not have.
    let with_secret = MINIMAL.replace(
        "scheme = \"hmac\"\nheader = \"X-Signature\"\n",
        "scheme = \"bearer\"\n",
    );
    assert!(toml::from_str::<SourceSpec>(&with_secret).is_err());
}
