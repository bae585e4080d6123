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

/// How many sessions hold the subscription's advisory lock (its driver).
async fn lease_holders(hub: &Hub) -> i64 {
    sqlx::query_scalar(
        "select count(*) from pg_locks where locktype = 'advisory'
           and classid = $1::bigint::oid and objid = $2::bigint::oid and objsubid = 2",
    )
    .bind(i64::from(scimbus_db::lease::NOTIFY_SUBSCRIPTION))
    .bind(i64::from(scimbus_db::lease::key(TENANT, "app") as u32))
    .fetch_one(&hub.env.pool)
    .await
    .unwrap()
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
    // Deleted: from the next reload on, nothing more. The driver has
    // stopped once nobody holds the subscription's lease (it lets it go
    // only when it is done); then nothing later reaches the old receiver.
    assert_eq!(
        lease_holders(&hub).await,
        1,
        "a driver holds it while it runs"
    );
    subs.delete(TENANT, "app").await.unwrap();
    eventually(
        "the deleted subscription's driver stops",
        WITHIN,
        || async {
            match lease_holders(&hub).await {
                0 => Ok(()),
                n => Err(format!("its lease is held ({n})")),
            }
        },
    )
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
