#![allow(clippy::unwrap_used)]
//! PATCH application: the store runs this once per SCIM PATCH.

#[path = "../tests/support/rfc7643.rs"]
mod rfc7643;

use criterion::{Criterion, criterion_group, criterion_main};
use scimbus_scim::Registry;
use scimbus_scim::patch::{PatchRequest, apply};
use scimbus_scim::resource::{Intent, Leniency, normalize};
use serde_json::{Value, json};
use std::hint::black_box;

fn req(ops: Value) -> PatchRequest {
    PatchRequest::parse(&json!({"Operations": ops})).unwrap()
}

fn bench(c: &mut Criterion) {
    let reg = Registry::standard().unwrap();
    let user_rt = reg.resource_type("User").unwrap();
    let group_rt = reg.resource_type("Group").unwrap();
    let user = normalize(
        &reg,
        user_rt,
        &rfc7643::enterprise_user(),
        Intent::Create,
        Leniency::default(),
    )
    .unwrap();
    let members: Vec<Value> = (0..1000)
        .map(|i| json!({"value": format!("member-{i}"), "type": "User"}))
        .collect();
    let group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "G", "members": members});

    let replace_active = req(json!([{"op": "Replace", "path": "active", "value": "False"}]));
    c.bench_function("patch/replace active (Entra style)", |b| {
        b.iter(|| {
            apply(
                &reg,
                user_rt,
                black_box(&user),
                &replace_active,
                Leniency::default(),
            )
            .unwrap()
        })
    });
    let entra = req(json!([
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@example.com"},
        {"op": "Replace", "path": "name.familyName", "value": "Jensen-Smith"},
        {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "m1"},
        {"op": "Replace", "path": "title", "value": "Lead Guide"}
    ]));
    c.bench_function("patch/4 ops with value filter", |b| {
        b.iter(|| apply(&reg, user_rt, black_box(&user), &entra, Leniency::default()).unwrap())
    });
    let add_member =
        req(json!([{"op": "add", "path": "members", "value": [{"value": "new-member"}]}]));
    c.bench_function("patch/add member to 1000-member group", |b| {
        b.iter(|| {
            apply(
                &reg,
                group_rt,
                black_box(&group),
                &add_member,
                Leniency::default(),
            )
            .unwrap()
        })
    });
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@example.com"}]});
    c.bench_function("patch/parse request", |b| {
        b.iter(|| PatchRequest::parse(black_box(&body)).unwrap())
    });
    c.bench_function("resource/normalize RFC 7643 enterprise user", |b| {
        let input = rfc7643::enterprise_user();
        b.iter(|| {
            normalize(
                &reg,
                user_rt,
                black_box(&input),
                Intent::Create,
                Leniency::default(),
            )
            .unwrap()
        })
    });
    // What the ingress adds to every create: the strict read of the body,
    // next to the plain one it replaced.
    let bytes = rfc7643::enterprise_user().to_string().into_bytes();
    c.bench_function("input/parse RFC 7643 enterprise user", |b| {
        b.iter(|| scimbus_scim::input::parse(black_box(&bytes)).unwrap())
    });
    c.bench_function(
        "input/serde_json::from_slice RFC 7643 enterprise user",
        |b| b.iter(|| serde_json::from_slice::<Value>(black_box(&bytes)).unwrap()),
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
