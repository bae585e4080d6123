//! A rolling upgrade: the ingress with a store of the version before it.

use std::time::Duration;

use crate::support::*;

/// During a rolling upgrade the store may be of the version before
/// `Scimbus-Reply-Batch`: it answers each command alone on its
/// `Scimbus-Reply-To` subject, and the ingress takes that answer too.
#[tokio::test]
async fn a_store_that_answers_one_command_per_message_is_understood() {
    use futures_util::StreamExt;
    use scimbus_events::v1::{Command, CommandResult, ScimError, command_result::Outcome};
    use scimbus_events::{Message, headers};
    let api = Api::without_store(Duration::from_secs(20)).await;
    let (client, js) = api.env.bus().await;
    // The older store reads the command stream (what it holds, so nothing
    // is missed however the two race).
    let stream = js
        .get_stream(api.env.subjects.command_stream())
        .await
        .unwrap();
    let consumer = stream
        .create_consumer(async_nats::jetstream::consumer::pull::Config {
            durable_name: Some("older-store".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let older_store = tokio::spawn(async move {
        let mut messages = consumer.messages().await.unwrap();
        let m = messages.next().await.unwrap().unwrap();
        let h = m.headers.clone().unwrap();
        let batch = h.get(headers::REPLY_BATCH).unwrap().as_str().to_string();
        let reply_to = h.get(headers::REPLY_TO).unwrap().as_str().to_string();
        let cmd = Command::decode(m.payload.as_ref()).unwrap();
        let result = CommandResult {
            command_id: cmd.id.clone(),
            outcome: Outcome::Conflict as i32,
            error: Some(ScimError {
                status: 409,
                scim_type: "uniqueness".into(),
                detail: "answered alone by an older store".into(),
            }),
            ..Default::default()
        };
        client
            .publish(reply_to.clone(), result.encode_to_vec().into())
            .await
            .unwrap();
        client.flush().await.unwrap();
        (batch, reply_to, cmd.id)
    });
    let r = api.post(USERS, user("compat")).await;
    r.assert_error(409, Some("uniqueness"));
    assert_eq!(r.body["detail"], "answered alone by an older store");
    let (batch, reply_to, id) = older_store.await.unwrap();
    // The command named both: its own subject and the batch subject of the
    // same inbox.
    assert_eq!(reply_to.rsplit_once('.').map(|(_, s)| s), Some(id.as_str()));
    assert_eq!(
        batch.strip_suffix(".results"),
        reply_to.rsplit_once('.').map(|(inbox, _)| inbox)
    );
    api.teardown().await;
}
