//! Dropping a test's database and streams: awaited by
//! [`crate::TestEnv::teardown`], or from `Drop`, which cannot await and may
//! run inside (or while unwinding out of) a tokio runtime.

use std::sync::mpsc;
use std::time::Duration;

use scimbus_events::Subjects;
use sqlx::{Connection, PgConnection};

/// How long `Drop` waits for the cleanup: long enough for a database drop
/// and four stream deletions, short enough not to hold up a failing test.
const DROP_BOUND: Duration = Duration::from_secs(5);

/// Whether `SCIMBUS_TEST_KEEP` (its value) asks to keep what a test that
/// did not tear down left behind.
pub(crate) fn keep(value: Option<&str>) -> bool {
    matches!(value.map(str::trim), Some(v) if !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
}

/// Drops `database` (ending its sessions) and deletes the four streams
/// of `subjects`; what is already gone, or cannot be reached, is skipped.
/// The database goes first, and NATS is asked without retrying, so a NATS
/// that is down (a test's own, killed) costs no more than a refused
/// connection.
pub(crate) async fn remove(nats_url: &str, database: &str, subjects: &Subjects) {
    if let Ok(mut conn) = PgConnection::connect(&crate::admin_database_url()).await {
        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "drop database if exists {database} with (force)"
        )))
        .execute(&mut conn)
        .await;
    }
    let connected = async_nats::ConnectOptions::new()
        .name("scimbus-test-cleanup")
        .connect(nats_url)
        .await;
    if let Ok(client) = connected {
        let js = async_nats::jetstream::new(client);
        for s in [
            subjects.command_stream(),
            subjects.change_stream(),
            subjects.dlq_stream(),
            subjects.events_stream(),
        ] {
            let _ = js.delete_stream(s).await;
        }
    }
}

/// [`remove`] from synchronous code: on a thread of its own with its own
/// current-thread runtime (the caller's runtime, if any, may be the one
/// unwinding, and a runtime cannot be blocked on from inside itself),
/// waited for up to [`DROP_BOUND`]. Never panics: a cleanup that fails or
/// takes too long leaves the database and streams behind, as before.
pub(crate) fn remove_blocking(nats_url: &str, database: &str, subjects: &Subjects) {
    let (nats_url, name, subjects) = (nats_url.to_string(), database.to_string(), subjects.clone());
    let (done_tx, done_rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("testenv-cleanup".into())
        .spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                let _ = tokio::time::timeout(DROP_BOUND, remove(&nats_url, &name, &subjects)).await;
            });
            let _ = done_tx.send(());
        });
    match spawned {
        Ok(thread) => {
            if done_rx
                .recv_timeout(DROP_BOUND + Duration::from_secs(1))
                .is_ok()
            {
                let _ = thread.join();
            }
        }
        Err(e) => eprintln!("TestEnv: cannot clean up {database}: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::keep;

    #[test]
    fn keep_is_asked_for_by_a_set_value_not_by_absence_or_zero() {
        for v in ["1", "yes", "true"] {
            assert!(keep(Some(v)), "{v}");
        }
        for v in [None, Some(""), Some("0"), Some("false"), Some(" ")] {
            assert!(!keep(v), "{v:?}");
        }
    }
}
