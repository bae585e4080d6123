//! Mapping events: partial events, null, a missing key against a real
//! failure, batches all or nothing, derived ids, employee ids, effective
//! times, userName and manager rules.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::utc;
use scimbus_hr::{
    CORE_USER, ENTERPRISE_USER as ENT, EventError, HrEvent, Kind, Source, SourceSpec,
};
use serde_json::{Value, json};

/// A source of `mapping` (TOML lines under `[mapping]`, then `[mapping.set]`
/// lines), optionally with its events at `events`.
fn source(events: Option<&str>, mapping: &str, set: &str) -> Source {
    let events = events.map_or(String::new(), |e| format!("events = \"{e}\"\n"));
    let text = format!(
        "name = \"test\"\n{events}time_zone = \"America/New_York\"\n\
         [auth]\nscheme = \"hmac\"\nheader = \"X-Signature\"\nsecrets = [\"env:S\"]\n\
         [mapping]\n{mapping}\n[mapping.set]\n{set}\n"
    );
    let spec: SourceSpec = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    Source::compile(&spec, vec![b"k".to_vec()]).unwrap()
}

const BASE: &str = "employee_id = \"event.id\"\nkind = \"event.kind\"\n";
const SET: &str = "\"title\" = \"event.job.title\"\n\
    \"emails\" = \"[{'value': event.email, 'type': 'work'}]\"\n\
    \"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department\" = \"event.job.dept\"\n";

fn map(s: &Source, event: Value) -> Result<HrEvent, EventError> {
    s.events(event.to_string().as_bytes(), utc("2027-01-01T00:00:00Z"))
        .map(|mut v| v.remove(0))
}

#[test]
fn a_partial_event_leaves_out_what_it_does_not_carry() {
    let s = source(None, BASE, SET);
    let e = map(
        &s,
        json!({"id": "7", "kind": "update", "job": {"title": "Lead"}}),
    )
    .unwrap();
    assert_eq!(
        e.user,
        json!({"schemas": [CORE_USER], "externalId": "7", "title": "Lead"})
    );
    let e = map(&s, json!({"id": "7", "kind": "update"})).unwrap();
    assert_eq!(e.user, json!({"schemas": [CORE_USER], "externalId": "7"}));
    assert_eq!(e.manager_id, None);
    assert_eq!(e.effective_at, None);
}

#[test]
fn null_leaves_an_attribute_out_and_a_type_error_names_event_and_attribute() {
    let s = source(None, &("event_id = \"event.eid\"\n".to_owned() + BASE), SET);
    let e = map(
        &s,
        json!({"eid": "e1", "id": "7", "kind": "update", "job": {"title": null, "dept": "Ops"}}),
    )
    .unwrap();
    assert_eq!(
        e.user,
        json!({"schemas": [CORE_USER, ENT], "externalId": "7", ENT: {"department": "Ops"}})
    );
    // `job` is a string: selecting a field of it is a type error, not a
    // missing key.
    let err = map(
        &s,
        json!({"eid": "e1", "id": "7", "kind": "update", "job": "Lead"}),
    )
    .unwrap_err();
    assert_eq!((err.index, err.event_id.as_deref()), (None, Some("e1")));
    assert!(
        err.to_string()
            .starts_with("event e1: mapping of \"title\": "),
        "{err}"
    );
    let bad_fn = source(None, BASE, "\"title\" = \"event.job.title.shout()\"");
    let err = map(
        &bad_fn,
        json!({"id": "7", "kind": "update", "job": {"title": "x"}}),
    )
    .unwrap_err();
    assert!(err.reason.starts_with("mapping of \"title\": "), "{err}");
    // But a missing key below the call is still "not carried".
    let e = map(&bad_fn, json!({"id": "7", "kind": "update"})).unwrap();
    assert!(e.user.get("title").is_none());
}

#[test]
fn employee_id_and_kind_must_be_there() {
    let s = source(None, BASE, "");
    let err = map(&s, json!({"kind": "hire", "email": "a@x"})).unwrap_err();
    assert!(
        err.reason
            .starts_with("mapping of \"employee_id\": no such key: id"),
        "{err}"
    );
    assert!(err.event_id.as_deref().unwrap().starts_with("sha256:"));
    let err = map(&s, json!({"id": "7"})).unwrap_err();
    assert!(err.reason.starts_with("mapping of \"kind\": "), "{err}");
    let err = map(&s, json!({"id": "7", "kind": "fire"})).unwrap_err();
    assert_eq!(
        err.reason,
        "mapping of \"kind\": \"fire\" is not one of hire, update, terminate, rehire"
    );
}

#[test]
fn employee_ids_may_be_integers_but_not_empty_long_or_control() {
    let s = source(None, BASE, "");
    let e = map(&s, json!({"id": 77311, "kind": "update"})).unwrap();
    assert_eq!(e.employee_id, "77311");
    assert_eq!(e.user["externalId"], "77311");
    for (id, why) in [
        (json!(""), "is empty"),
        (json!("a".repeat(257)), "is 257 characters long, over 256"),
        (json!("a\u{0}b"), "has a control character"),
        (json!(1.5), "1.5 is not a string or an integer"),
    ] {
        let err = map(&s, json!({"id": id, "kind": "update"})).unwrap_err();
        assert_eq!(err.reason, format!("mapping of \"employee_id\": {why}"));
    }
}

#[test]
fn derived_event_ids_are_stable_across_key_order_and_differ_by_content() {
    let s = source(None, BASE, "");
    let a = map(
        &s,
        serde_json::from_str(r#"{"id":"7","kind":"update","x":{"b":1,"a":2}}"#).unwrap(),
    )
    .unwrap();
    let b = map(
        &s,
        serde_json::from_str(r#"{"x":{"a":2,"b":1},"kind":"update","id":"7"}"#).unwrap(),
    )
    .unwrap();
    assert!(a.event_id.starts_with("sha256:"), "{}", a.event_id);
    assert_eq!(a.event_id.len(), 7 + 64);
    assert_eq!(a.event_id, b.event_id);
    let c = map(
        &s,
        json!({"id": "7", "kind": "update", "x": {"a": 3, "b": 1}}),
    )
    .unwrap();
    assert_ne!(a.event_id, c.event_id);
}

#[test]
fn a_written_event_id_must_evaluate_to_a_usable_id() {
    let s = source(None, &("event_id = \"event.eid\"\n".to_owned() + BASE), "");
    assert_eq!(
        map(&s, json!({"eid": 12, "id": "7", "kind": "update"}))
            .unwrap()
            .event_id,
        "12"
    );
    let err = map(&s, json!({"id": "7", "kind": "update"})).unwrap_err();
    assert_eq!(err.event_id, None);
    assert_eq!(err.reason, "mapping of \"event_id\": no such key: eid");
    let err = map(&s, json!({"eid": "x\ny", "id": "7", "kind": "update"})).unwrap_err();
    assert_eq!(
        err.reason,
        "mapping of \"event_id\": has a control character"
    );
}

#[test]
fn effective_times_are_dates_in_the_zone_date_times_or_on_receipt() {
    let s = source(
        None,
        &(BASE.to_owned() + "effective = \"event.when\"\n"),
        "",
    );
    let at = |when: Value| map(&s, json!({"id": "7", "kind": "update", "when": when}));
    // New York is UTC-5 in winter, UTC-4 in summer.
    assert_eq!(
        at(json!("2027-01-15")).unwrap().effective_at,
        Some(utc("2027-01-15T05:00:00Z"))
    );
    assert_eq!(
        at(json!("2027-07-15")).unwrap().effective_at,
        Some(utc("2027-07-15T04:00:00Z"))
    );
    assert_eq!(
        at(json!("2027-07-15T09:00:00+02:00")).unwrap().effective_at,
        Some(utc("2027-07-15T07:00:00Z"))
    );
    assert_eq!(at(Value::Null).unwrap().effective_at, None);
    assert_eq!(
        map(&s, json!({"id": "7", "kind": "update"}))
            .unwrap()
            .effective_at,
        None
    );
    for bad in [json!("15.07.2027"), json!(20270715)] {
        let err = at(bad.clone()).unwrap_err();
        assert!(
            err.reason.starts_with("mapping of \"effective\": "),
            "{bad}: {err}"
        );
    }
}

#[test]
fn user_name_is_the_mapping_else_the_primary_then_work_then_first_email() {
    let emails = "\"emails\" = \"event.emails\"";
    let s = source(None, BASE, emails);
    let name = |list: Value| {
        map(&s, json!({"id": "7", "kind": "hire", "emails": list}))
            .unwrap()
            .user["userName"]
            .clone()
    };
    let home = json!({"value": "h@x", "type": "home"});
    let work = json!({"value": "w@x", "type": "work"});
    let primary = json!({"value": "p@x", "type": "other", "primary": true});
    assert_eq!(name(json!([home, work, primary])), "p@x");
    assert_eq!(name(json!([home, work])), "w@x");
    assert_eq!(name(json!([home])), "h@x");
    let named = source(
        None,
        &(BASE.to_owned() + "user_name = \"event.login\"\n"),
        emails,
    );
    let e = map(
        &named,
        json!({"id": "7", "kind": "hire", "login": "jdoe", "emails": [work]}),
    )
    .unwrap();
    assert_eq!(e.user["userName"], "jdoe");
    // The expression gives nothing: the email rule applies.
    let e = map(&named, json!({"id": "7", "kind": "hire", "emails": [work]})).unwrap();
    assert_eq!(e.user["userName"], "w@x");
}

#[test]
fn a_hire_without_user_name_or_email_is_refused_other_kinds_keep_the_stored_one() {
    let s = source(None, BASE, SET);
    let err = map(&s, json!({"id": "7", "kind": "hire"})).unwrap_err();
    assert!(err.reason.starts_with("no userName: "), "{err}");
    for kind in ["update", "terminate", "rehire"] {
        let e = map(&s, json!({"id": "7", "kind": kind})).unwrap();
        assert!(e.user.get("userName").is_none(), "{kind}");
        assert_eq!(e.kind, kind.parse::<Kind>().unwrap());
    }
}

#[test]
fn manager_missing_says_nothing_null_or_empty_clears_an_id_sets() {
    let s = source(
        None,
        &(BASE.to_owned() + "manager = \"event.boss.id\"\n"),
        "",
    );
    let m = |ev: Value| map(&s, ev).map(|e| e.manager_id);
    assert_eq!(m(json!({"id": "7", "kind": "update"})), Ok(None));
    assert_eq!(
        m(json!({"id": "7", "kind": "update", "boss": {}})),
        Ok(None)
    );
    assert_eq!(
        m(json!({"id": "7", "kind": "update", "boss": {"id": null}})),
        Ok(Some(None))
    );
    assert_eq!(
        m(json!({"id": "7", "kind": "update", "boss": {"id": ""}})),
        Ok(Some(None))
    );
    assert_eq!(
        m(json!({"id": "7", "kind": "update", "boss": {"id": 70002}})),
        Ok(Some(Some("70002".into())))
    );
    let err = m(json!({"id": "7", "kind": "update", "boss": {"id": [1]}})).unwrap_err();
    assert!(err.reason.starts_with("mapping of \"manager\": "), "{err}");
    // The user never carries the manager: the store resolves the HR id.
    let e = map(
        &s,
        json!({"id": "7", "kind": "update", "boss": {"id": "9"}}),
    )
    .unwrap();
    assert_eq!(e.user, json!({"schemas": [CORE_USER], "externalId": "7"}));
}

#[test]
fn a_batch_is_all_or_nothing_and_names_the_failing_event() {
    let s = source(
        Some("data.items"),
        &("event_id = \"event.eid\"\n".to_owned() + BASE),
        SET,
    );
    let now = utc("2027-01-01T00:00:00Z");
    let body = json!({"data": {"items": [
        {"eid": "e0", "id": "1", "kind": "update", "job": {"title": "A"}},
        {"eid": "e1", "id": "2", "kind": "update", "job": {"title": "B"}},
        {"eid": "e2", "id": "3", "kind": "update", "job": 5},
        {"eid": "e3", "id": "4", "kind": "nope"}
    ]}});
    let err = s.events(body.to_string().as_bytes(), now).unwrap_err();
    assert_eq!((err.index, err.event_id.as_deref()), (Some(2), Some("e2")));
    assert!(
        err.to_string()
            .starts_with("event 2 (e2): mapping of \"title\": "),
        "{err}"
    );
    let mut ok = body.clone();
    ok["data"]["items"].as_array_mut().unwrap().truncate(2);
    let events = s.events(ok.to_string().as_bytes(), now).unwrap();
    let ids: Vec<&str> = events.iter().map(|e| e.event_id.as_str()).collect();
    assert_eq!(ids, ["e0", "e1"]);
    // `event` is the element, `body` the whole request.
    assert_eq!(events[1].raw, ok["data"]["items"][1]);
    let err = s.events(br#"{"data": {"items": [1]}}"#, now).unwrap_err();
    assert_eq!(err.to_string(), "event 0: the event is not a JSON object");
}

#[test]
fn a_body_that_is_not_json_or_has_no_array_is_refused_whole() {
    let s = source(Some("employees"), BASE, "");
    let now = utc("2027-01-01T00:00:00Z");
    let err = s.events(b"{\"employees\": [", now).unwrap_err();
    assert!(
        err.to_string().starts_with("the body is not JSON: "),
        "{err}"
    );
    for body in [&br#"{"employees": {}}"#[..], br#"{"staff": []}"#, b"[]"] {
        let err = s.events(body, now).unwrap_err();
        assert_eq!(err.to_string(), "\"employees\" is not an array");
        assert_eq!((err.index, err.event_id), (None, None));
    }
    assert_eq!(s.events(br#"{"employees": []}"#, now).unwrap(), vec![]);
}

#[test]
fn expressions_read_body_and_now_beside_event() {
    let s = source(
        Some("employees"),
        &(BASE.to_owned() + "event_id = \"event.id + '@' + body.sent\"\neffective = \"now\"\n"),
        "",
    );
    let body = json!({"sent": "t1", "employees": [{"id": "7", "kind": "update"}]});
    let events = s
        .events(body.to_string().as_bytes(), utc("2027-01-01T12:00:00Z"))
        .unwrap();
    assert_eq!(events[0].event_id, "7@t1");
    assert_eq!(events[0].effective_at, Some(utc("2027-01-01T12:00:00Z")));
}
