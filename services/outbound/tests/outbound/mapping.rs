//! A target with an attribute mapping gets users as the mapping says —
//! transformed, renamed, constant, conditional, from an extension,
//! dropped — on create and on update, and groups as their own mapping says
//! (members translated, never mapped); a mapping that fails on a user parks
//! that user's change with the attribute named.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;

use crate::fake_target::FakeTarget;
use crate::support::{Hub, eventually, target};

const SETTLE: Duration = Duration::from_secs(30);
const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

#[tokio::test]
async fn users_go_as_the_mapping_says() {
    let mut hub = Hub::new().await;
    let t = FakeTarget::start(None, true).await;
    let mut cfg = target("t", &t.url());
    let set: BTreeMap<String, String> = [
        (
            "userName",
            "resource.userName.lowerAscii() + '@corp.example'",
        ),
        (
            "displayName",
            "[resource.name.givenName, resource.name.familyName].join(' ')",
        ),
        ("externalId", "resource.id"),
        ("userType", "'Employee'"),
        (
            "title",
            "has(resource.title) ? resource.title.upperAscii() : 'STAFF'",
        ),
        ("nickName", &format!("resource['{ENT}'].department")),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    cfg.mapping = Some(scimbus_runtime::MappingConfig {
        keep: None,
        drop: vec!["emails".into(), ENT.into()],
        set,
    });
    hub.start_outbound(vec![cfg]).await;

    let id = hub.create_user("MixedCase", "Sales").await;
    let remote = eventually("the mapped user arrives", SETTLE, || async {
        hub.link("t", &id)
            .await
            .ok_or_else(|| "not yet".to_string())
    })
    .await
    .0;
    let u = t.resources("Users")[&remote].clone();
    assert_eq!(u["userName"], "mixedcase@corp.example");
    assert_eq!(u["displayName"], "Barbara MixedCase");
    assert_eq!(u["externalId"], json!(id));
    assert_eq!(u["userType"], "Employee");
    assert_eq!(u["title"], "STAFF");
    assert_eq!(u["nickName"], "Sales");
    assert!(u.get("emails").is_none(), "dropped: {u}");
    assert!(u.get(ENT).is_none(), "dropped: {u}");

    // An update: the mapped attributes follow, the dropped ones stay away.
    hub.patch(
        &format!("/Users/{id}"),
        json!([
            {"op": "replace", "path": "title", "value": "Lead"},
            {"op": "replace", "path": "emails", "value": [{"value": "new@example.com"}]},
            {"op": "replace", "path": format!("{ENT}:department"), "value": "Support"}
        ]),
    )
    .await;
    eventually("the update arrives mapped", SETTLE, || async {
        let u = t.resources("Users")[&remote].clone();
        if u["title"] == "LEAD" && u["nickName"] == "Support" {
            Ok(u)
        } else {
            Err(u.to_string())
        }
    })
    .await;
    let u = t.resources("Users")[&remote].clone();
    assert!(u.get("emails").is_none(), "{u}");
    assert_eq!(u["userName"], "mixedcase@corp.example");
    hub.teardown().await;
}

#[tokio::test]
async fn groups_go_as_their_mapping_says_with_their_members() {
    let mut hub = Hub::new().await;
    let t = FakeTarget::start(None, true).await;
    // The target had the mapped form of one group already.
    let pre = t.seed(
        "Groups",
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "app-existing"}),
    );
    let mut cfg = target("t", &t.url());
    cfg.group_mapping = Some(scimbus_runtime::MappingConfig {
        keep: None,
        drop: Vec::new(),
        set: [
            ("displayName", "'app-' + resource.displayName.lowerAscii()"),
            ("externalId", "resource.id"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect(),
    });
    hub.start_outbound(vec![cfg]).await;

    let a = hub.create_user("ga", "Sales").await;
    let b = hub.create_user("gb", "Sales").await;
    let c = hub.create_user("gc", "Sales").await;
    let g = hub.create_group("Sales Team", &[&a, &b]).await;
    let existing = hub.create_group("Existing", &[&c]).await;
    let h = &hub;
    let remote = |id: String| async move {
        h.link("t", &id)
            .await
            .map(|l| l.0)
            .ok_or_else(|| "not yet".to_string())
    };
    let rg = eventually("the mapped group arrives", SETTLE, || remote(g.clone())).await;
    let mut want = Vec::new();
    for u in [&a, &b] {
        want.push(remote(u.clone()).await.unwrap());
    }
    want.sort();
    eventually("its members arrive, translated", SETTLE, || {
        let got = t.members(&rg);
        let want = want.clone();
        async move {
            if got == want {
                Ok(())
            } else {
                Err(format!("{got:?}"))
            }
        }
    })
    .await;
    let group = t.resources("Groups")[&rg].clone();
    assert_eq!(group["displayName"], "app-sales team");
    assert_eq!(group["externalId"], json!(g));
    // Found by its mapped name and adopted, not created again.
    let re = eventually("the existing group is linked", SETTLE, || {
        remote(existing.clone())
    })
    .await;
    assert_eq!(re, pre);
    assert_eq!(t.resources("Groups").len(), 2, "no duplicate groups");

    // A rename goes mapped; a member added goes translated.
    hub.patch(
        &format!("/Groups/{g}"),
        json!([
            {"op": "replace", "path": "displayName", "value": "Support Team"},
            {"op": "add", "path": "members", "value": [{"value": c}]}
        ]),
    )
    .await;
    let rc = remote(c.clone()).await.unwrap();
    eventually("the rename and the new member arrive", SETTLE, || {
        let group = t.resources("Groups")[&rg].clone();
        let members = t.members(&rg);
        let rc = rc.clone();
        async move {
            if group["displayName"] == "app-support team" && members.contains(&rc) {
                Ok(())
            } else {
                Err(group.to_string())
            }
        }
    })
    .await;
    assert_eq!(t.members(&rg).len(), 3);
    hub.teardown().await;
}

#[tokio::test]
async fn a_mapping_that_fails_parks_the_change_with_the_attribute_named() {
    let mut hub = Hub::new().await;
    let t = FakeTarget::start(None, true).await;
    let mut cfg = target("t", &t.url());
    // Users without a nickName cannot be mapped.
    cfg.mapping = Some(scimbus_runtime::MappingConfig {
        set: [(
            "displayName".to_string(),
            "resource.nickName.upperAscii()".to_string(),
        )]
        .into(),
        ..Default::default()
    });
    hub.start_outbound(vec![cfg]).await;
    hub.create_user("nonick", "Sales").await;
    let reason: String = eventually("the change is parked", SETTLE, || async {
        sqlx::query_scalar::<_, String>("select reason from parked_changes")
            .fetch_optional(&hub.env.pool)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| "nothing parked".to_string())
    })
    .await;
    assert!(
        reason.starts_with("mapping of \"displayName\": "),
        "{reason}"
    );
    assert!(t.resources("Users").is_empty());
    hub.teardown().await;
}
