//! A store started in-process on a fresh database and bus prefix, and
//! helpers to send it commands and read what it published.

use std::time::Duration;

use async_nats::jetstream;
use bytes::Bytes;
use futures_util::StreamExt;
use scimbus_bus::Outgoing;
use scimbus_e2e::{StoreBuilder, TestEnv, eventually};
use scimbus_events::v1::{Change, Command, CommandResult, DeadLetter, command, source};
use scimbus_events::{Message, partition};
use scimbus_runtime::Running;
use scimbus_store::Store;
use serde_json::Value;
use uuid::Uuid;

pub const PARTITIONS: u32 = 4;

pub struct Harness {
    pub env: TestEnv,
    pub client: async_nats::Client,
    pub js: jetstream::Context,
    pub store: Option<Running<Store>>,
}

/// The store these tests run: [`PARTITIONS`] partitions, these tenants.
pub fn store<'a>(env: &'a TestEnv, tenants: &[&str]) -> StoreBuilder<'a> {
    StoreBuilder::new(env)
        .tenants(tenants.iter().copied())
        .partitions(PARTITIONS)
}

pub async fn start_store(env: &TestEnv, tenants: &[&str]) -> Running<Store> {
    store(env, tenants).start().await
}

/// A store with one partition: every command in one order.
pub async fn start_single_partition_store(env: &TestEnv, tenants: &[&str]) -> Running<Store> {
    store(env, tenants).partitions(1).start().await
}

impl Harness {
    pub async fn new(tenants: &[&str]) -> Harness {
        let mut h = Harness::on(TestEnv::new().await).await;
        h.store = Some(start_store(&h.env, tenants).await);
        h
    }

    pub async fn teardown(mut self) {
        if let Some(s) = self.store.take() {
            s.stop().await.unwrap();
        }
        self.env.teardown().await;
    }

    /// A harness on `env` with no store yet: a test starts one (or the
    /// binary) itself.
    pub async fn on(env: TestEnv) -> Harness {
        let (client, js) = env.bus().await;
        Harness {
            env,
            client,
            js,
            store: None,
        }
    }

    /// Publishes a command; the store answers on `reply`, if given.
    pub async fn publish(&self, cmd: &Command, reply: Option<String>) {
        self.publish_partitioned(cmd, reply, PARTITIONS).await;
    }

    /// As [`Self::publish`], for a store with `partitions` partitions.
    pub async fn publish_partitioned(&self, cmd: &Command, reply: Option<String>, partitions: u32) {
        let p = partition(&cmd.tenant, &cmd.resource_id, partitions);
        let payload = Bytes::from(cmd.encode_to_vec());
        self.try_publish(&cmd.tenant, p, payload, reply, None)
            .await
            .unwrap();
    }

    /// As [`Self::publish_partitioned`], naming `batch` as where the store
    /// may answer several commands in one message (`Scimbus-Reply-Batch`).
    pub async fn publish_batch_reply(
        &self,
        cmd: &Command,
        reply: String,
        batch: String,
        partitions: u32,
    ) {
        let p = partition(&cmd.tenant, &cmd.resource_id, partitions);
        let payload = Bytes::from(cmd.encode_to_vec());
        self.try_publish(&cmd.tenant, p, payload, Some(reply), Some(batch))
            .await
            .unwrap();
    }

    /// Publishes a command (fresh message id) and reports a failure instead
    /// of panicking (for tests that crash NATS).
    pub async fn publish_checked(
        &self,
        cmd: &Command,
        reply: Option<String>,
    ) -> Result<(), String> {
        let p = partition(&cmd.tenant, &cmd.resource_id, PARTITIONS);
        let payload = Bytes::from(cmd.encode_to_vec());
        self.try_publish(&cmd.tenant, p, payload, reply, None).await
    }

    /// Publishes a command whose `Scimbus-Tenant` header and subject name
    /// another tenant than the command does.
    pub async fn publish_with_header_tenant(&self, cmd: &Command, tenant: &str) {
        let payload = Bytes::from(cmd.encode_to_vec());
        self.try_publish(tenant, 0, payload, None, None)
            .await
            .unwrap();
    }

    /// Publishes raw bytes on a command subject.
    pub async fn publish_raw(&self, tenant: &str, payload: &'static [u8]) {
        let payload = Bytes::from_static(payload);
        self.try_publish(tenant, 0, payload, None, None)
            .await
            .unwrap();
    }

    /// Publishes `payload` on `tenant`'s command subject of partition
    /// `partition` with a fresh message id (the store, not JetStream, must
    /// make a second delivery of a command harmless), and waits for
    /// JetStream's ack.
    async fn try_publish(
        &self,
        tenant: &str,
        partition: u32,
        payload: Bytes,
        reply_to: Option<String>,
        reply_batch: Option<String>,
    ) -> Result<(), String> {
        let out = Outgoing {
            subject: self.env.subjects.command(tenant, partition),
            msg_id: Uuid::now_v7().to_string(),
            tenant: tenant.to_string(),
            payload,
            traceparent: None,
            tracestate: None,
            reply_to,
            reply_batch,
        };
        scimbus_bus::publish(&self.js, &out)
            .await
            .map_err(|e| e.to_string())?
            .await
            .map_err(|e| e.to_string())?;
        Ok(())
    }

    /// Sends a command and waits for the store's result.
    pub async fn send(&self, cmd: &Command) -> CommandResult {
        let inbox = self.client.new_inbox();
        let mut sub = self.client.subscribe(inbox.clone()).await.unwrap();
        self.publish(cmd, Some(inbox)).await;
        let msg = tokio::time::timeout(Duration::from_secs(20), sub.next())
            .await
            .expect("the store answers within 20 s")
            .unwrap();
        CommandResult::decode(msg.payload.as_ref()).unwrap()
    }

    /// Every message of a stream, in order.
    pub async fn stream_messages(
        &self,
        stream: &str,
    ) -> Vec<async_nats::jetstream::message::StreamMessage> {
        let mut s = self.js.get_stream(stream).await.unwrap();
        let info = s.info().await.unwrap();
        let (first, last) = (info.state.first_sequence, info.state.last_sequence);
        let mut out = Vec::new();
        if info.state.messages == 0 {
            return out;
        }
        for seq in first..=last {
            if let Ok(m) = s.get_raw_message(seq).await {
                out.push(m);
            }
        }
        out
    }

    /// The changes published so far, once there are at least `n`; panics
    /// with what there is if there are not within 20 s.
    pub async fn changes(&self, n: usize) -> Vec<Change> {
        let stream = self.env.subjects.change_stream();
        self.at_least(&stream, n, |m| Change::decode(m).unwrap())
            .await
    }

    /// The dead letters so far, once there are at least `n` (as
    /// [`Self::changes`]).
    pub async fn dead_letters(&self, n: usize) -> Vec<DeadLetter> {
        let stream = self.env.subjects.dlq_stream();
        self.at_least(&stream, n, |m| DeadLetter::decode(m).unwrap())
            .await
    }

    /// The messages of `stream`, decoded, once there are at least `n`.
    async fn at_least<T: std::fmt::Debug>(
        &self,
        stream: &str,
        n: usize,
        decode: impl Fn(&[u8]) -> T,
    ) -> Vec<T> {
        let what = format!("{stream} has {n} messages");
        eventually(&what, Duration::from_secs(20), || async {
            let msgs = self.stream_messages(stream).await;
            let got: Vec<T> = msgs.iter().map(|m| decode(m.payload.as_ref())).collect();
            if got.len() >= n {
                Ok(got)
            } else {
                Err(format!(
                    "{} messages; the first of them: {:#?}",
                    got.len(),
                    &got[..got.len().min(10)]
                ))
            }
        })
        .await
    }

    pub async fn count(&self, sql: &'static str) -> i64 {
        scimbus_e2e::count(&self.env.pool, sql).await
    }
}

/// A command as the ingress would build it.
pub fn command(tenant: &str, op: command::Operation, rt: &str, id: Uuid, body: Value) -> Command {
    Command {
        id: Uuid::now_v7().to_string(),
        tenant: tenant.into(),
        resource_type: rt.into(),
        resource_id: id.to_string(),
        operation: op as i32,
        source: Some(scimbus_events::v1::Source {
            kind: source::Kind::Scim as i32,
            client_id: "test".into(),
        }),
        payload: serde_json::to_vec(&body).unwrap(),
        received_at_unix_micros: chrono::Utc::now().timestamp_micros(),
        ..Default::default()
    }
}

pub fn create_user(tenant: &str, user_name: &str) -> (Uuid, Command) {
    let id = Uuid::now_v7();
    let body = scimbus_e2e::scim::user(user_name);
    (
        id,
        command(tenant, command::Operation::Create, "User", id, body),
    )
}

/// Step `s` of a user's steps: its title set to `step <s>`.
pub fn title_step(tenant: &str, s: usize, id: Uuid) -> Command {
    patch(
        tenant,
        "User",
        id,
        serde_json::json!([{"op": "replace", "path": "title", "value": format!("step {s}")}]),
    )
}

pub fn patch(tenant: &str, rt: &str, id: Uuid, ops: Value) -> Command {
    command(
        tenant,
        command::Operation::Patch,
        rt,
        id,
        scimbus_e2e::scim::patch_op(ops),
    )
}

pub fn resource(r: &CommandResult) -> Value {
    serde_json::from_slice(&r.resource).unwrap()
}

/// Which replica (the `application_name` of its sessions, `scimbus-store
/// <id>`) holds each partition's lease (advisory lock of class
/// `lease::STORE_PARTITION`, second key the partition) in the test's
/// database.
pub async fn partition_holders(h: &Harness) -> std::collections::BTreeMap<i64, String> {
    sqlx::query_as(
        "select l.objid::bigint, a.application_name from pg_locks l
         join pg_stat_activity a on a.pid = l.pid
         where l.locktype = 'advisory' and l.classid = $1::oid and l.objsubid = 2 and l.granted
           and l.database = (select oid from pg_database where datname = current_database())",
    )
    .bind(i64::from(scimbus_db::lease::STORE_PARTITION))
    .fetch_all(&h.env.pool)
    .await
    .unwrap()
    .into_iter()
    .collect()
}
