//! A worker stopped by the service's shutdown in the middle of its work
//! (here: a replay waiting out a target's `Retry-After`) lets its target go
//! as a stop, not as a failure: nothing is logged as a JetStream error or a
//! released target.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Method;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

use crate::fake_target::{FakeTarget, Fault};
use crate::support::{Hub, TENANT, eventually, target};

const SETTLE: Duration = Duration::from_secs(30);

/// Every event of scimbus's own crates logged on this thread (the test's
/// runtime runs the services' tasks on it), one line each: level, module,
/// fields.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<String>>>);

impl Logs {
    fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

struct Line(String);

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!(" {}={value:?}", field.name()));
    }
}

impl Subscriber for Logs {
    fn enabled(&self, m: &Metadata<'_>) -> bool {
        m.target().starts_with("scimbus")
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut line = Line(format!(
            "{} {}",
            event.metadata().level(),
            event.metadata().target()
        ));
        event.record(&mut line);
        self.0.lock().unwrap().push(line.0);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[tokio::test]
async fn a_shutdown_during_a_replay_is_a_stop_not_a_jetstream_failure() {
    let logs = Logs::default();
    let _logging = tracing::subscriber::set_default(logs.clone());
    let mut hub = Hub::new().await;
    let t = FakeTarget::start(None, true).await;
    hub.start_outbound(vec![target("t", &t.url())]).await;
    // Refused for good: the create parks.
    t.fail(Some(Method::POST), "/Users", Fault::Status(422));
    hub.create_user("late", "Sales").await;
    let pool = &hub.env.pool;
    eventually("the change is parked", SETTLE, || async {
        match scimbus_cli::parked_changes(pool, TENANT, "t")
            .await
            .unwrap()
            .len()
        {
            1 => Ok(()),
            n => Err(format!("{n} parked")),
        }
    })
    .await;
    // Its replay is told to come back in a minute; the service stops
    // meanwhile.
    t.fail(Some(Method::POST), "/Users", Fault::TooMany(60));
    scimbus_cli::replay_parked(pool, TENANT, "t", None)
        .await
        .unwrap();
    // The 429 is counted in Postgres right before the worker starts to wait
    // (whether the stop comes before or during that wait, it ends the same).
    eventually("the replay waits out the Retry-After", SETTLE, || async {
        let status = scimbus_cli::target_status(pool, Some(TENANT))
            .await
            .unwrap();
        let last_error = status
            .iter()
            .find(|s| s.target == "t")
            .and_then(|s| s.progress.last_error.clone());
        let told_to_wait = last_error.as_deref().is_some_and(|e| e.contains("429"));
        match (t.faults_left(), told_to_wait) {
            (0, true) => Ok(()),
            _ => Err(format!(
                "faults left {}, last error {last_error:?}",
                t.faults_left()
            )),
        }
    })
    .await;
    hub.stop_outbound().await;

    let lines = logs.lines();
    let failures: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("JetStream:") || l.contains("target released"))
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("target let go: the service is stopping")),
        "the stop is logged as one: {lines:#?}"
    );
    hub.teardown().await;
}
