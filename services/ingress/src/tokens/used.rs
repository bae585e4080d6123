//! When tokens were last used, written behind: each use is noted in memory
//! and written every 30 s (and when the service stops), so a request costs
//! no write. A crash loses at most the last 30 s of uses.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::Tokens;

const EVERY: Duration = Duration::from_secs(30);

/// Uses not written yet: token id → last use; and a lock held while uses
/// are written, so that a flush returns only once every use taken before
/// it is written (the service's stop waits for the periodic writer).
#[derive(Debug, Default)]
pub(super) struct Used(Mutex<HashMap<Uuid, DateTime<Utc>>>, tokio::sync::Mutex<()>);

impl Used {
    /// Notes a use of a stored token (configured ones have no row).
    pub(super) fn record(&self, client_id: &str) {
        let Ok(id) = Uuid::parse_str(client_id) else {
            return;
        };
        if let Ok(mut m) = self.0.lock() {
            m.insert(id, Utc::now());
        }
    }

    fn take(&self) -> Vec<(Uuid, DateTime<Utc>)> {
        match self.0.lock() {
            Ok(mut m) => m.drain().collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Puts back uses that could not be written (a newer use wins).
    fn restore(&self, uses: Vec<(Uuid, DateTime<Utc>)>) {
        if let Ok(mut m) = self.0.lock() {
            for (id, at) in uses {
                let e = m.entry(id).or_insert(at);
                *e = (*e).max(at);
            }
        }
    }
}

pub(super) async fn run(tokens: Arc<Tokens>, stop: CancellationToken) {
    loop {
        let stopping = tokio::select! {
            () = stop.cancelled() => true,
            () = tokio::time::sleep(EVERY) => false,
        };
        flush(&tokens).await;
        if stopping {
            return;
        }
    }
}

/// Writes the uses noted so far.
pub(super) async fn flush(tokens: &Tokens) {
    let _writing = tokens.used.1.lock().await;
    let uses = tokens.used.take();
    if uses.is_empty() {
        return;
    }
    if let Err(e) = scimbus_db::tokens::touch(&tokens.pool, &uses).await {
        tracing::warn!(error = %e, tokens = uses.len(), "writing when tokens were last used; trying again later");
        tokens.used.restore(uses);
    }
}
