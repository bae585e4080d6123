//! The links a worker wrote since its last flush, kept in memory while it
//! follows the stream and written together every 200 ms (one statement)
//! before its position moves: one round trip per flush instead of one per
//! push. Reads look here first, so a resource's next change sees what its
//! last one wrote.
//!
//! Only the worker holding the target's lock writes its links, so what is
//! here is the truth until flushed. Lost in a crash, a link costs what a
//! lost async commit costs: a lookup and an adoption, or a push again.

use std::collections::HashMap;
use std::sync::Mutex;

use scimbus_db::links::{self, Link, TargetKey};
use sqlx::PgPool;
use uuid::Uuid;

/// Writes not flushed yet: `Some` a link recorded, `None` one forgotten.
#[derive(Debug, Default)]
pub struct LinkCache {
    /// `None` while no worker follows the stream: writes go straight to
    /// Postgres.
    writes: Mutex<Option<HashMap<Uuid, Option<Link>>>>,
}

/// What the cache knows of a resource's link.
#[derive(Debug)]
pub enum Cached {
    /// Written since the last flush (`None`: forgotten).
    Known(Option<Link>),
    /// Not written since: ask Postgres.
    Unknown,
}

impl LinkCache {
    /// Starts keeping writes (a worker begins to follow the stream).
    pub fn start(&self) {
        if let Ok(mut w) = self.writes.lock() {
            w.get_or_insert_with(HashMap::new);
        }
    }

    /// Stops keeping writes, dropping what was not flushed (a worker lost
    /// its target: what it did is seen again and redone or adopted).
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

    /// Keeps a write; `false` when not keeping (write it yourself).
    pub fn record(&self, id: Uuid, link: Option<Link>) -> bool {
        match self.writes.lock().ok().as_mut().and_then(|w| w.as_mut()) {
            Some(w) => {
                w.insert(id, link);
                true
            }
            None => false,
        }
    }

    /// Writes what was kept: the links in one statement, the forgotten ones
    /// one by one (rare: a resource deleted on or by the target).
    pub async fn flush(&self, pool: &PgPool, key: TargetKey<'_>) -> sqlx::Result<()> {
        let taken = match self.writes.lock().ok().as_mut().and_then(|w| w.as_mut()) {
            Some(w) if !w.is_empty() => std::mem::take(w),
            _ => return Ok(()),
        };
        let mut put = Vec::new();
        for (id, link) in taken {
            match link {
                Some(l) => put.push(l),
                None => links::delete(pool, key, id).await?,
            }
        }
        links::put_many(pool, key, &put).await
    }
}
