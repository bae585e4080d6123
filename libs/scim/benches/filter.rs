//! Filter parsing and evaluation: `make bench`, or
//! `cargo bench -p scimbus-scim --bench filter`.

// A benchmark is test code: set-up that fails should stop it loudly.
#![allow(clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use scimbus_scim::Registry;
use scimbus_scim::filter::{Matcher, matches, parse};
use serde_json::{Value, json};

const SIMPLE: &str = r#"userName eq "bjensen""#;
const COMPLEX: &str =
    r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#;
const VALUE_PATH: &str = r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#;

/// About 1 KB of RFC 7643 §8.2 user.
fn user() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "id": "2819c223-7f76-453a-919d-413861904646",
        "externalId": "701984",
        "userName": "bjensen@example.com",
        "name": {"formatted": "Ms. Barbara J Jensen, III", "familyName": "Jensen",
                 "givenName": "Barbara", "middleName": "Jane"},
        "displayName": "Babs Jensen",
        "nickName": "Babs",
        "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true},
                   {"value": "babs@jensen.org", "type": "home"}],
        "phoneNumbers": [{"value": "555-555-5555", "type": "work"},
                         {"value": "555-555-4444", "type": "mobile"}],
        "ims": [{"value": "someaimhandle", "type": "aim"}],
        "userType": "Employee",
        "title": "Tour Guide",
        "locale": "en-US",
        "timezone": "America/Los_Angeles",
        "active": true,
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "employeeNumber": "701984", "costCenter": "4130",
            "organization": "Universal Studios", "department": "Tour Operations"
        },
        "meta": {"resourceType": "User", "created": "2010-01-23T04:56:22Z",
                 "lastModified": "2011-05-13T04:42:34Z",
                 "location": "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646"}
    })
}

fn bench_parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse");
    for (name, text) in [
        ("simple", SIMPLE),
        ("complex", COMPLEX),
        ("value_path", VALUE_PATH),
    ] {
        g.bench_function(name, |b| b.iter(|| parse(black_box(text))));
    }
    g.finish();
}

fn bench_eval(c: &mut Criterion) {
    let registry = Registry::standard().expect("the standard registry");
    let rt = registry.resource_type("User").expect("User");
    let doc = user();
    let mut g = c.benchmark_group("eval");
    for (name, text) in [
        ("simple", SIMPLE),
        ("complex", COMPLEX),
        ("value_path", VALUE_PATH),
    ] {
        let f = parse(text).expect("a valid filter");
        // What a list endpoint pays per resource once the filter is resolved.
        let m = Matcher::new(&registry, rt, &f).expect("a filter valid for User");
        g.bench_function(format!("{name}/matcher"), |b| {
            b.iter(|| m.matches(black_box(&doc)))
        });
        // The one-shot call: resolve, then evaluate.
        g.bench_function(format!("{name}/matches"), |b| {
            b.iter(|| matches(&registry, rt, black_box(&doc), &f))
        });
    }
    g.finish();
}

criterion_group!(benches, bench_parse, bench_eval);
criterion_main!(benches);
