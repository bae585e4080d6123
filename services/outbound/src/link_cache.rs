//! The links a worker wrote and Postgres does not have yet, kept in memory
//! and written together: while the worker follows the stream (every 200 ms,
//! with its position, in one transaction on the connection that holds the
//! target's lock), and during a full sync (every few hundred pushes, in the
//! background). One statement per flush instead of one per push. Reads look
//! here first, so whatever a push wrote is seen by the next one at once,
//! even while its flush is on the way.
//!
//! Only the worker holding the target's lock writes its links, so what is
//! here is the truth until flushed. Lost in a crash, a link costs what a
//! lost async commit costs: a lookup and an adoption, or a push again.

use std::collections::HashMap;
use std::sync::Mutex;

use scimbus_db::links::{self, Link, TargetKey};
use sqlx::PgConnection;
use uuid::Uuid;

/// Writes not in Postgres yet: `Some` a link recorded, `None` one
/// forgotten.
pub type Writes = HashMap<Uuid, Option<Link>>;

#[derive(Debug, Default)]
pub struct LinkCache {
    /// `None` while nobody keeps writes here: they go straight to Postgres.
    writes: Mutex<Option<Writes>>,
}

/// What the cache knows of a resource's link.
#[derive(Debug)]
pub enum Cached {
    /// Written and not flushed yet (`None`: forgotten).
    Known(Option<Link>),
    /// Nothing since the last flush: ask Postgres.
    Unknown,
}

impl LinkCache {
    /// Starts keeping writes.
    pub fn start(&self) {
        if let Ok(mut w) = self.writes.lock() {
            w.get_or_insert_with(HashMap::new);
        }
    }

    /// Stops keeping writes, dropping what was not flushed (a worker lost
    /// its target: what it did is seen again and skipped, redone or
    /// adopted).
    pub fn stop(&self) {
        if let Ok(mut w) = self.writes.lock() {
            *w = None;
        }
    }

    pub fn get(&self, id: Uuid) -> Cached {
        match self.writes.lock().ok().as_ref().and_then(|w| w.as_ref()) {
            Some(w) => w.get(&id).cloned().map_or(Cached::Unknown, Cached::Known),
            None => Cached::Unknown,
        }
    }

    /// Keeps a write; `false` when not keeping (write it yourself). A link
    /// never replaces one of a later version (as in Postgres); forgetting
    /// always does.
    pub fn record(&self, id: Uuid, link: Option<Link>) -> bool {
        let Some(mut guard) = self.writes.lock().ok() else {
            return false;
        };
        let Some(w) = guard.as_mut() else {
            return false;
        };
        let newer = match (w.get(&id), &link) {
            (Some(Some(old)), Some(new)) => new.version >= old.version,
            _ => true,
        };
        if newer {
            w.insert(id, link);
        }
        true
    }

    /// What is kept now (written by [`Self::flush`] and then let go).
    pub fn snapshot(&self) -> Writes {
        self.writes
            .lock()
            .ok()
            .and_then(|w| w.as_ref().cloned())
            .unwrap_or_default()
    }

    /// Writes `taken` (a [`Self::snapshot`]): the links in one statement,
    /// the forgotten ones one by one (rare: a resource deleted on or by the
    /// target). Readers still find the entries here until
    /// [`Self::release`].
    pub async fn flush(
        conn: &mut PgConnection,
        key: TargetKey<'_>,
        taken: &Writes,
    ) -> sqlx::Result<()> {
        let mut put = Vec::new();
        for (id, link) in taken {
            match link {
                Some(l) => put.push(l.clone()),
                None => links::delete(&mut *conn, key, *id).await?,
            }
        }
        links::put_many(&mut *conn, key, &put).await
    }

    /// Lets go of the entries of `taken` that did not change since (once
    /// Postgres has them).
    pub fn release(&self, taken: Writes) {
        if let Ok(mut guard) = self.writes.lock()
            && let Some(w) = guard.as_mut()
        {
            for (id, link) in taken {
                if w.get(&id) == Some(&link) {
                    w.remove(&id);
                }
            }
        }
    }
}
