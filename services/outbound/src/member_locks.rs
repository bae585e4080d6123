//! Locks striped over member ids: a user's entry into (or exit from) a
//! target's scope and a push of one of its groups take the member's
//! stripe, so whichever comes second sees what the first did
//! (see the `memberships` module).

use tokio::sync::{Mutex, MutexGuard};
use uuid::Uuid;

/// Locks striped over member ids (see the module docs). A user's entry or
/// exit holds its own stripe; a group's push holds those of the members it
/// handles, taken in ascending order (no deadlock).
#[derive(Debug)]
pub struct MemberLocks {
    stripes: Vec<Mutex<()>>,
}

const STRIPES: usize = 64;

impl Default for MemberLocks {
    fn default() -> Self {
        MemberLocks {
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
        }
    }
}

impl MemberLocks {
    fn stripe(id: Uuid) -> usize {
        let (hi, lo) = id.as_u64_pair();
        ((hi ^ lo) % STRIPES as u64) as usize
    }

    /// Holds the stripes of these members until the guards drop.
    pub async fn lock(&self, ids: &[Uuid]) -> Vec<MutexGuard<'_, ()>> {
        let mut want: Vec<usize> = ids.iter().map(|id| Self::stripe(*id)).collect();
        want.sort_unstable();
        want.dedup();
        let mut held = Vec::with_capacity(want.len());
        for s in want {
            if let Some(m) = self.stripes.get(s) {
                held.push(m.lock().await);
            }
        }
        held
    }
}
