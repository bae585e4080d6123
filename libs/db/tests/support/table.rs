//! A small hand-made data set whose filter results are known by heart:
//! six Users, three Groups, and a second tenant whose group claims one of
//! the first tenant's users.

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use super::{ACME_USER, New, ODD_USER};

/// `11111111-beef-4000-8000-000000000001` for user 1, `a…a` for group 1.
pub fn uid(k: u32) -> Uuid {
    let d = char::from_digit(k, 16).unwrap();
    let s = format!("{0}{0}{0}{0}{0}{0}{0}{0}-beef-4000-8000-00000000000{0}", d);
    s.parse().unwrap()
}

pub fn gid(k: u32) -> Uuid {
    uid(9 + k)
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn user(k: u32, lm: &str, body: serde_json::Value) -> New {
    New {
        id: uid(k),
        resource_type: "User",
        body,
        version: i64::from(k),
        created: at(lm),
        last_modified: at(lm),
        members: vec![],
    }
}

pub fn users() -> Vec<New> {
    let ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    vec![
        user(
            1,
            "2011-05-13T04:42:34Z",
            json!({
                "userName": "BJensen", "displayName": "Babs Jensen", "externalId": "EXT-1",
                "name": {"familyName": "Jensen", "givenName": "Barbara"},
                "active": true, "title": "Tour Guide",
                "emails": [
                    {"value": "bjensen@Example.com", "type": "work", "primary": true},
                    {"value": "babs@jensen.org", "type": "home"}
                ],
                ent: {"department": "Tour Operations", "manager": {"value": uid(2).to_string()}},
                ACME_USER: {"level": 5, "score": 2.5, "hired": "2011-05-13T04:42:34Z",
                    "remote": true, "tags": ["Alpha", "beta"], "code": "AbC",
                    "badges": [{"code": "X1", "since": "2015-01-01T00:00:00Z", "level": 3, "primary": true}]}
            }),
        ),
        user(
            2,
            "2012-01-01T00:00:00.123456Z",
            json!({
                "userName": "JSmith", "displayName": "John Smith", "externalId": "ext-1",
                "name": {"familyName": "Smith", "givenName": "John"},
                "active": false, "title": "",
                "emails": [
                    {"value": "john@example.com", "type": "home"},
                    {"value": "js@work.example.com", "type": "work"}
                ],
                ACME_USER: {"level": 9_007_199_254_740_993_i64, "score": -0.25,
                    "hired": "2011-05-13T06:42:35+02:00", "code": "abc"}
            }),
        ),
        user(
            3,
            "2020-06-30T12:00:00Z",
            json!({
                "userName": "Jürgen.Ærø", "displayName": "",
                "emails": [{"value": "JÜRGEN@exämple.de", "type": "work"}],
                ent: {"department": "tour operations"},
                ACME_USER: {"tags": ["ALPHA"], "hired": "2011-05-13T04:42:34.5"}
            }),
        ),
        user(
            4,
            "2020-06-30T12:00:00Z",
            json!({
                "userName": "100%_off", "name": {"familyName": "O'Brien"},
                "active": true, "userType": "Employee"
            }),
        ),
        user(
            5,
            "2024-01-01T00:00:00.5Z",
            json!({
                "userName": "minimal", ODD_USER: {"nick": "Kid"}
            }),
        ),
        user(
            6,
            "2025-12-31T23:59:59.999999Z",
            json!({
                "userName": "Xu", "title": "Manager",
                "emails": [
                    {"value": "a@x.io", "type": "work"},
                    {"value": "b@y.io", "type": "home", "primary": true}
                ],
                ACME_USER: {"level": -3, "score": 1e-7, "remote": false,
                    "badges": [{"code": "abc", "level": 1},
                               {"code": "ABC", "level": 7, "since": "2020-02-29T23:59:59.999999Z"}]}
            }),
        ),
    ]
}

fn group(k: u32, name: &str, members: Vec<(Uuid, &str)>) -> New {
    let mut body = json!({"displayName": name});
    if k == 1 {
        body["externalId"] = json!("G-1");
    }
    New {
        id: gid(k),
        resource_type: "Group",
        body,
        version: 1,
        created: at("2019-01-01T00:00:00Z"),
        last_modified: at("2019-01-01T00:00:00Z"),
        members: members
            .into_iter()
            .map(|(i, t)| (i, t.to_string()))
            .collect(),
    }
}

pub fn groups() -> Vec<New> {
    vec![
        group(
            1,
            "Admins",
            vec![(uid(1), "User"), (uid(2), "User"), (gid(2), "Group")],
        ),
        group(2, "Tour Guides", vec![(uid(1), "User"), (uid(3), "User")]),
        group(3, "Empty", vec![]),
    ]
}

/// In another tenant: a group that lists user 1 of the first.
pub fn intruders() -> Vec<New> {
    vec![New {
        id: uid(0xd),
        ..group(4, "Intruders", vec![(uid(1), "User")])
    }]
}
