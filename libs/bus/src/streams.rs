//! The streams of docs/design.md §3 (and the public events stream), created or updated at start.

use std::time::Duration;

use async_nats::jetstream::{self, stream};
use scimbus_events::Subjects;

use crate::connect::BusError;

/// Stream settings an operator may change.
#[derive(Debug, Clone)]
pub struct StreamSettings {
    /// 1 on a single server; 3 on a production cluster.
    pub replicas: usize,
    /// How long changes stay replayable.
    pub change_max_age: Duration,
    pub dlq_max_age: Duration,
    /// How long the public change events stay replayable for applications.
    pub events_max_age: Duration,
    /// JetStream's `Nats-Msg-Id` deduplication window.
    pub duplicate_window: Duration,
}

impl Default for StreamSettings {
    fn default() -> Self {
        StreamSettings {
            replicas: 1,
            change_max_age: Duration::from_secs(7 * 24 * 3600),
            dlq_max_age: Duration::from_secs(30 * 24 * 3600),
            events_max_age: Duration::from_secs(7 * 24 * 3600),
            duplicate_window: Duration::from_secs(120),
        }
    }
}

/// Creates the streams, or updates them to these settings.
pub async fn ensure_streams(
    js: &jetstream::Context,
    subjects: &Subjects,
    settings: &StreamSettings,
) -> Result<(), BusError> {
    let base = stream::Config {
        storage: stream::StorageType::File,
        num_replicas: settings.replicas,
        duplicate_window: settings.duplicate_window,
        ..Default::default()
    };
    let configs = [
        stream::Config {
            name: subjects.command_stream(),
            subjects: vec![subjects.all_commands()],
            // A command is gone once the store acknowledged it (after commit).
            retention: stream::RetentionPolicy::WorkQueue,
            description: Some("scimbus commands: ingress -> store".into()),
            ..base.clone()
        },
        stream::Config {
            name: subjects.change_stream(),
            subjects: vec![subjects.all_changes()],
            retention: stream::RetentionPolicy::Limits,
            max_age: settings.change_max_age,
            description: Some("scimbus committed changes, replayable".into()),
            ..base.clone()
        },
        stream::Config {
            name: subjects.dlq_stream(),
            subjects: vec![subjects.all_dead_letters()],
            retention: stream::RetentionPolicy::Limits,
            max_age: settings.dlq_max_age,
            description: Some("scimbus dead letters with reason and attempts".into()),
            ..base.clone()
        },
        stream::Config {
            name: subjects.events_stream(),
            subjects: vec![subjects.all_events()],
            retention: stream::RetentionPolicy::Limits,
            max_age: settings.events_max_age,
            description: Some("scimbus change events for applications (CloudEvents JSON)".into()),
            ..base
        },
    ];
    for config in configs {
        let name = config.name.clone();
        js.create_or_update_stream(config)
            .await
            .map_err(|e| BusError::JetStream(format!("stream {name}: {e}")))?;
    }
    Ok(())
}
