//! The streams a bench run created under its own bus prefix.

use anyhow::Context;
use scimbus_events::Subjects;

/// Deletes the command, change, dead-letter and public events streams of
/// `prefix` and returns the names of those that existed (the outbound
/// service creates the events stream too: a run that left it would pile
/// up streams in a NATS shared with others). An empty prefix is refused:
/// those are the streams of a real installation.
pub async fn drop(nats_url: &str, prefix: &str) -> anyhow::Result<Vec<String>> {
    anyhow::ensure!(
        !prefix.is_empty(),
        "refusing to delete the unprefixed scimbus streams"
    );
    let subjects = Subjects::new(prefix).context("bus prefix")?;
    let (_client, js) = scimbus_bus::connect(nats_url, "scimbus-bench")
        .await
        .context("NATS")?;
    let mut deleted = Vec::new();
    for name in [
        subjects.command_stream(),
        subjects.change_stream(),
        subjects.dlq_stream(),
        subjects.events_stream(),
    ] {
        if js.delete_stream(&name).await.is_ok() {
            deleted.push(name);
        }
    }
    Ok(deleted)
}
