//! A test that panics before its teardown still leaves no database and no
//! streams behind: `TestEnv`'s `Drop` removes them, whether it runs inside
//! a tokio runtime or outside any.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use scimbus_events::Subjects;
use scimbus_testkit::{TestEnv, admin_database_url, nats_url};
use sqlx::{Connection, PgConnection};

/// What a test's environment consists of, to look for afterwards.
struct Left {
    database: String,
    subjects: Subjects,
}

impl Left {
    fn of(env: &TestEnv) -> Left {
        Left {
            database: env.database.clone(),
            subjects: env.subjects.clone(),
        }
    }

    /// The database (if it is still there) and the streams still there.
    async fn present(&self) -> Vec<String> {
        let mut admin = PgConnection::connect(&admin_database_url()).await.unwrap();
        let db: bool =
            sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
                .bind(&self.database)
                .fetch_one(&mut admin)
                .await
                .unwrap();
        let mut out = Vec::new();
        if db {
            out.push(format!("database {}", self.database));
        }
        let client = async_nats::connect(nats_url()).await.unwrap();
        let js = async_nats::jetstream::new(client);
        for s in [
            self.subjects.command_stream(),
            self.subjects.change_stream(),
            self.subjects.dlq_stream(),
            self.subjects.events_stream(),
        ] {
            if js.get_stream(&s).await.is_ok() {
                out.push(format!("stream {s}"));
            }
        }
        out
    }

    /// Waits (up to 10 s) until nothing of it is left.
    async fn assert_gone(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = self.present().await;
            if left.is_empty() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "left behind by a test that panicked: {left:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A new environment with its streams, checked to be there.
async fn env_with_streams() -> (TestEnv, Left) {
    let env = TestEnv::new().await;
    env.bus().await;
    let left = Left::of(&env);
    assert_eq!(left.present().await.len(), 5, "a database and four streams");
    (env, left)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_test_task_that_panics_leaves_no_database_and_no_streams() {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(async move {
        let (env, left) = env_with_streams().await;
        tx.send(left).ok().unwrap();
        let _keep_alive = env;
        panic!("the test fails before its teardown");
    });
    assert!(task.await.unwrap_err().is_panic());
    rx.await.unwrap().assert_gone().await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_test_thread_that_panics_outside_a_runtime_leaves_nothing() {
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (env, left) = rt.block_on(env_with_streams());
        tx.send(left).unwrap();
        // Dropped while unwinding, with no runtime entered.
        let _keep_alive = env;
        panic!("the test fails before its teardown");
    });
    assert!(thread.join().is_err(), "the thread panicked");
    rx.recv().unwrap().assert_gone().await;
}
