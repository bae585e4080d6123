//! Subscriptions made through the operator API's operations (the runtime's
//! `Subscriptions`, as the API and the CLI call them) are driven as they
//! change: made, the events from then on arrive; replaced with another
//! URL, the next go there and no longer to the old one; deleted, nothing
//! more is delivered.

use scimbus_runtime::subscriptions::Subscriptions;
use serde_json::json;

use crate::notify_support::{SECRET, WITHIN, start_notifier, webhook};
use crate::receiver::{Got, Receiver};
use crate::support::{Hub, TENANT, eventually};

fn body(r: &Receiver) -> Vec<u8> {
    json!({"delivery": {"type": "webhook", "url": r.url(), "secret": SECRET}, "events": ["created"]})
        .to_string()
        .into_bytes()
}

fn user_names(got: &[Got]) -> Vec<String> {
    got.iter()
        .filter_map(|g| {
            g.event["data"]["resource"]["userName"]
                .as_str()
                .map(str::to_string)
        })
        .collect()
}

async fn witness_has(witness: &Receiver, name: &str) {
    eventually(&format!("the witness has {name}"), WITHIN, || async {
        let names = user_names(&witness.took());
        if names.iter().any(|n| n == name) {
            Ok(())
        } else {
            Err(format!("{names:?}"))
        }
    })
    .await;
}

#[tokio::test]
async fn a_subscription_made_replaced_and_deleted_through_the_api_follows_each_change() {
    let mut hub = Hub::new().await;
    let first = Receiver::start(SECRET).await;
    let second = Receiver::start(SECRET).await;
    // A witness declared in the file sees every change: when it has one, a
    // live subscription would have had it too.
    let witness = Receiver::start(SECRET).await;
    start_notifier(&mut hub, vec![webhook("witness", &witness, json!({}))]).await;
    let registry = scimbus_e2e::registry();
    let subs = Subscriptions {
        pool: &hub.env.pool,
        configured: &[],
    };

    let made = subs
        .put(TENANT, "app", &body(&first), &registry, false)
        .await
        .unwrap();
    assert!(made);
    hub.create_user("ann", "Sales").await;
    let got = first.wait_took(1, WITHIN).await;
    assert_eq!(user_names(&got), ["ann"]);

    // Replaced: the driver starts again with the new URL, from where the
    // subscription was.
    let made = subs
        .put(TENANT, "app", &body(&second), &registry, false)
        .await
        .unwrap();
    assert!(!made);
    // The supervisor sees the change at its next reload: until then the
    // old driver may still deliver. Once one event has gone to the new
    // URL, every later one goes there and none to the old.
    let mut n = 0;
    eventually("the new URL gets events", WITHIN, || {
        n += 1;
        let name = format!("bob{n}");
        let (hub, second) = (&hub, &second);
        async move {
            hub.create_user(&name, "Sales").await;
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            if second.took().is_empty() {
                Err(format!("{name} created, nothing at the new URL yet"))
            } else {
                Ok(())
            }
        }
    })
    .await;
    hub.create_user("dan", "Sales").await;
    eventually("dan at the new URL", WITHIN, || async {
        let names = user_names(&second.took());
        if names.iter().any(|n| n == "dan") {
            Ok(())
        } else {
            Err(format!("{names:?}"))
        }
    })
    .await;
    assert!(
        !user_names(&first.took()).iter().any(|n| n == "dan"),
        "nothing more to the old URL: {:?}",
        user_names(&first.took())
    );
    // Deleted: from the next reload on, nothing more (a user the witness
    // has and the deleted subscription does not shows the driver stopped;
    // then nothing later reaches it either).
    subs.delete(TENANT, "app").await.unwrap();
    let mut n = 0;
    eventually("the deleted subscription's driver stops", WITHIN, || {
        n += 1;
        let name = format!("cy{n}");
        let (hub, second, witness) = (&hub, &second, &witness);
        async move {
            hub.create_user(&name, "Sales").await;
            witness_has(witness, &name).await;
            if user_names(&second.took()).contains(&name) {
                Err(format!("{name} still delivered"))
            } else {
                Ok(())
            }
        }
    })
    .await;
    let stopped = user_names(&second.took());
    hub.create_user("dee", "Sales").await;
    witness_has(&witness, "dee").await;
    assert_eq!(
        user_names(&second.took()),
        stopped,
        "a deleted subscription gets nothing more"
    );
    first.assert_all_signed();
    second.assert_all_signed();
}
