//! Every filter printed in RFC 7644 §3.4.2.2 (and the `.search` example of
//! §3.4.3): parsed, printed back to the same tree, and evaluated against
//! four users in the style of RFC 7643 §8.

#[path = "support/rfc7643.rs"]
mod rfc7643;

use scimbus_scim::Registry;
use scimbus_scim::filter::{Filter, Matcher, matches, parse};
use serde_json::{Value, json};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// RFC 7643 §8.3, the full user with the enterprise extension.
fn barbara() -> Value {
    rfc7643::enterprise_user()
}

/// RFC 7643 §8.1, the minimal user.
fn minimal() -> Value {
    json!({
        "schemas": [USER],
        "id": "2819c223-7f76-453a-919d-413861904646",
        "userName": "Bjensen",
        "meta": {
            "resourceType": "User",
            "created": "2010-01-23T04:56:22Z",
            "lastModified": "2011-05-13T04:42:34Z",
            "version": "W/\"3694e05e9dff590\"",
            "location": "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646"
        }
    })
}

/// An intern with an XMPP handle, modified later than Barbara.
fn jo() -> Value {
    json!({
        "schemas": [USER],
        "id": "c75ad752-64ae-4823-840d-ffa80929976c",
        "userName": "jomalley",
        "name": {"familyName": "O'Malley", "givenName": "Jo"},
        "userType": "Intern",
        "emails": [{"value": "jo@example.org", "type": "work"}],
        "ims": [{"value": "jo@foo.com", "type": "xmpp"}],
        "meta": {"resourceType": "User", "lastModified": "2012-01-01T00:00:00Z"}
    })
}

/// An employee whose work address is not at example.com, with odd casing,
/// an empty title and a timestamp one second before Barbara's, written in
/// another offset.
fn john() -> Value {
    json!({
        "schemas": [USER, ENTERPRISE],
        "id": "26118915-6090-4610-87e4-49d8ca9f808d",
        "userName": "Jsmith",
        "displayName": "Smith, John",
        "userType": "Employee",
        "title": "",
        "emails": [
            {"value": "JSMITH@EXAMPLE.COM", "type": "Home"},
            {"value": "john@work.example.org", "type": "work"}
        ],
        "ims": [{"value": "jsmith@FOO.com", "type": "XMPP"}],
        ENTERPRISE: {"employeeNumber": "42"},
        "meta": {"resourceType": "User", "lastModified": "2011-05-13T06:42:33+02:00"}
    })
}

/// Filter, then whether Barbara, the minimal user, Jo and John match.
const CASES: &[(&str, [bool; 4])] = &[
    // §3.4.2.2, attribute names and operators are case-insensitive
    (r#"userName Eq "john""#, [false, false, false, false]),
    (r#"Username eq "john""#, [false, false, false, false]),
    // §3.4.2.2, Figure 2
    (r#"userName eq "bjensen""#, [false, true, false, false]),
    (
        r#"name.familyName co "O'Malley""#,
        [false, false, true, false],
    ),
    (r#"userName sw "J""#, [false, false, true, true]),
    (
        r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
        [false, false, true, true],
    ),
    ("title pr", [true, false, false, false]),
    (
        r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
        [false, false, true, false],
    ),
    (
        r#"meta.lastModified ge "2011-05-13T04:42:34Z""#,
        [true, true, true, false],
    ),
    (
        r#"meta.lastModified lt "2011-05-13T04:42:34Z""#,
        [false, false, false, true],
    ),
    (
        r#"meta.lastModified le "2011-05-13T04:42:34Z""#,
        [true, true, false, true],
    ),
    (
        r#"title pr and userType eq "Employee""#,
        [true, false, false, false],
    ),
    (
        r#"title pr or userType eq "Intern""#,
        [true, false, true, false],
    ),
    (
        r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
        [true, false, false, true],
    ),
    (
        r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
        [true, false, false, true],
    ),
    (
        r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
        [false, true, false, false],
    ),
    (
        r#"userType eq "Employee" and (emails.type eq "work")"#,
        [true, false, false, true],
    ),
    (
        r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
        [true, false, false, false],
    ),
    (
        r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
        [true, false, true, true],
    ),
    // §3.4.3, the POST /.search example
    (r#"displayName sw "smith""#, [false, false, false, true]),
    // Not in the RFC: what the value path adds over flat sub-attributes,
    // which may match in different elements.
    (
        r#"userType eq "Employee" and emails.type eq "work" and emails.value co "@example.com""#,
        [true, false, false, true],
    ),
    // Not in the RFC: extension attributes, qualified or not.
    (
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#,
        [true, false, false, false],
    ),
    (
        r#"employeeNumber pr and manager.displayName sw "john""#,
        [true, false, false, false],
    ),
];

fn users() -> [Value; 4] {
    [barbara(), minimal(), jo(), john()]
}

#[test]
fn every_rfc_example_parses_prints_back_and_evaluates() {
    let registry = Registry::standard().unwrap();
    let rt = registry.resource_type("User").unwrap();
    let users = users();
    for (text, want) in CASES {
        let f: Filter = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let printed = f.to_string();
        assert_eq!(parse(&printed).unwrap(), f, "{text} printed as {printed}");
        let got = users
            .iter()
            .map(|u| matches(&registry, rt, u, &f).unwrap_or_else(|e| panic!("{text}: {e}")))
            .collect::<Vec<_>>();
        assert_eq!(got, want, "{text}");
        let m = Matcher::new(&registry, rt, &f).unwrap();
        assert!(
            users.iter().zip(want).all(|(u, w)| m.matches(u) == *w),
            "{text}"
        );
    }
}

#[test]
fn rfc_examples_print_in_canonical_form() {
    let canonical = |s: &str| parse(s).unwrap().to_string();
    assert_eq!(canonical(r#"userName Eq "john""#), r#"userName eq "john""#);
    assert_eq!(
        canonical(
            r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#
        ),
        r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#
    );
    // Redundant parentheses go; needed ones stay.
    assert_eq!(
        canonical(r#"userType eq "Employee" and (emails.type eq "work")"#),
        r#"userType eq "Employee" and emails.type eq "work""#
    );
    assert_eq!(
        canonical(
            r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#
        ),
        r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#
    );
    assert_eq!(canonical(r#"NOT(title PR)"#), "not (title pr)");
}

#[test]
fn the_same_filters_on_groups_are_rejected_where_paths_do_not_exist() {
    let registry = Registry::standard().unwrap();
    let group = registry.resource_type("Group").unwrap();
    let f = parse(r#"userName eq "bjensen""#).unwrap();
    let e = matches(&registry, group, &barbara(), &f).unwrap_err();
    assert_eq!(e.status, 400);
    assert_eq!(e.to_json()["scimType"], "invalidFilter");
    let ok = parse(r#"displayName sw "tour" or members[value eq "x"]"#).unwrap();
    let doc = json!({"displayName": "Tour Guides", "members": []});
    assert!(matches(&registry, group, &doc, &ok).unwrap());
}
