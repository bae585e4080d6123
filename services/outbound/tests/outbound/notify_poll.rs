//! A polling subscription (RFC 8936): the notifier queues each change as a
//! SCIM event token signed with the subscription's secret, named by the
//! change id. (The ingress's poll endpoint is tested with the ingress.)

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
use reqwest::Method;
use scimbus_db::subscriptions::polled;
use serde_json::{Value, json};

use crate::notify_support::{
    SECRET, WITHIN, committed, ids, key, set_title, spec, start_notifier, wait_caught_up,
};
use crate::support::{Hub, TENANT, eventually};

const PROV: &str = "urn:ietf:params:scim:event:prov";

/// What an application checks of a token: HS256 with the secret's bytes,
/// its audience and issuer.
fn verify(token: &str, secret_b64: &str) -> jsonwebtoken::errors::Result<Value> {
    let mut v = Validation::new(Algorithm::HS256);
    // SETs carry no expiry (RFC 8417 §2.2 does not ask for one).
    v.required_spec_claims.clear();
    v.validate_exp = false;
    v.set_audience(&["scimbus:poller"]);
    v.set_issuer(&[format!("http://127.0.0.1:8080/scim/v2/{TENANT}")]);
    decode::<Value>(token, &DecodingKey::from_base64_secret(secret_b64)?, &v).map(|d| d.claims)
}

#[tokio::test]
async fn a_poll_subscription_queues_signed_tokens_named_by_the_change_id() {
    let mut hub = Hub::new().await;
    start_notifier(
        &mut hub,
        vec![spec(
            json!({"name": "poller", "delivery": {"type": "poll", "secret": SECRET}}),
        )],
    )
    .await;
    let id = hub.create_user("pam", "Sales").await;
    set_title(&hub, &id, "Lead").await;
    hub.patch(
        &format!("/Users/{id}"),
        json!([{"op": "replace", "path": "active", "value": false}]),
    )
    .await;
    let (s, _) = hub
        .call(Method::DELETE, &format!("/Users/{id}"), None)
        .await;
    assert_eq!(s, 204);

    let want = ids(&committed(&hub).await);
    assert_eq!(want.len(), 4);
    let queued = eventually("every change is queued", WITHIN, || async {
        let (q, more) = polled::pending(&hub.env.pool, key("poller"), 100)
            .await
            .map_err(|e| e.to_string())?;
        if q.len() == want.len() && !more {
            Ok(q)
        } else {
            Err(format!("{} queued", q.len()))
        }
    })
    .await;
    wait_caught_up(&hub, "poller").await;
    let jtis: Vec<String> = queued.iter().map(|(j, _)| j.clone()).collect();
    assert_eq!(jtis, want, "one token per change, in change order");

    let secret = SECRET.strip_prefix("whsec_").unwrap();
    let mut events = Vec::new();
    for (jti, token) in &queued {
        let claims = verify(token, secret).unwrap_or_else(|e| panic!("{jti}: {e}: {token}"));
        assert_eq!(claims["jti"], *jti);
        assert_eq!(claims["sub_id"]["id"], id);
        assert_eq!(claims["sub_id"]["uri"], format!("/Users/{id}"));
        let uris: Vec<String> = claims["events"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        events.push(uris);
        let other = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
        let wrong = verify(token, other).expect_err("a token verifies with its secret only");
        assert!(
            matches!(wrong.kind(), ErrorKind::InvalidSignature),
            "{wrong:?}"
        );
    }
    let has = |i: usize, e: &str| events[i].iter().any(|u| u == &format!("{PROV}:{e}"));
    assert!(has(0, "create:full"), "{:?}", events[0]);
    assert!(has(1, "patch:full"), "{:?}", events[1]);
    assert!(has(2, "deactivate"), "{:?}", events[2]);
    assert_eq!(events[3], [format!("{PROV}:delete")]);

    // Acknowledged by change id, they are not handed out again.
    let acked = polled::acknowledge(&hub.env.pool, key("poller"), &jtis[..2])
        .await
        .unwrap();
    assert_eq!(acked, 2);
    let (rest, _) = polled::pending(&hub.env.pool, key("poller"), 100)
        .await
        .unwrap();
    assert_eq!(
        rest.into_iter().map(|(j, _)| j).collect::<Vec<_>>(),
        jtis[2..]
    );
    hub.teardown().await;
}
