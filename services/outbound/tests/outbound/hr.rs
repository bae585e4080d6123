//! An HR change goes where every change goes: a hire and a future-dated
//! termination from an HR source reach an outbound target (a real SCIM
//! server) and a notification subscriber, like an IdP's writes do.

use std::time::Duration;

use scimbus_e2e::hr::{compile, demo_sources, in_secs};
use scimbus_e2e::{OutboundBuilder, eventually};
use serde_json::json;

use crate::notify_support::{SECRET, wait_driven, webhook};
use crate::receiver::{Receiver, kinds};
use crate::scim2_server::Scim2Server;
use crate::support::{Hub, TENANT, target};

const WITHIN: Duration = Duration::from_secs(30);

#[tokio::test]
async fn an_hr_hire_and_termination_reach_a_target_and_a_subscriber() {
    let workday = demo_sources()
        .into_iter()
        .find(|s| s.name == "workday")
        .unwrap();
    let mut hub = Hub::with_ingress(|b| b.hr_source(TENANT, compile(&workday))).await;
    let app = Scim2Server::start("app-token").await;
    let file = std::env::temp_dir().join(format!("scimbus-hr-app-{}", std::process::id()));
    std::fs::write(&file, "app-token").unwrap();
    let mut t = target("app", &app.url);
    t.auth = scimbus_runtime::AuthConfig::Bearer {
        token: format!("file:{}", file.display()),
    };
    t.resource_types = vec!["User".into()];
    let r = Receiver::start(SECRET).await;
    hub.outbound = Some(
        OutboundBuilder::new(&hub.env)
            .targets(TENANT, [t])
            .subscriptions(TENANT, [webhook("hook", &r, json!({}))])
            .notify_backoff(Duration::from_millis(50))
            .start()
            .await,
    );
    wait_driven(&hub, "hook").await;

    let (status, body) = hub
        .hr(
            "workday",
            &json!({
                "eventId": "wd-1", "eventType": "HIRE", "effectiveDate": "2026-01-05",
                "worker": {"workerId": "600100",
                           "legalName": {"firstName": "Ines", "lastName": "Arrieta"},
                           "workEmail": "ines.arrieta@example.org",
                           "businessTitle": "Controller",
                           "department": {"id": "D-9", "name": "Finance"}}
            }),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let remote = eventually("the hire reaches the target", WITHIN, || async {
        app.resources("Users")
            .await
            .into_values()
            .find(|u| u["userName"] == "ines.arrieta@example.org")
            .ok_or_else(|| "not there".to_string())
    })
    .await;
    assert_eq!(remote["title"], "Controller");
    assert_eq!(remote["active"], true);

    let (status, body) = hub
        .hr(
            "workday",
            &json!({"eventId": "wd-2", "eventType": "TERMINATION", "effectiveDate": in_secs(2),
                    "worker": {"workerId": "600100"}}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["events"][0]["status"], "scheduled");
    eventually("the termination reaches the target", WITHIN, || async {
        let u = app.resources("Users").await;
        match u
            .values()
            .find(|u| u["userName"] == "ines.arrieta@example.org")
        {
            Some(u) if u["active"] == false => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    let got = r.wait_took(2, WITHIN).await;
    r.assert_all_signed();
    let k: Vec<String> = kinds(&got).into_iter().map(|(_, k)| k).collect();
    assert_eq!(k, ["user.created", "user.deactivated"]);
    hub.teardown().await;
}
