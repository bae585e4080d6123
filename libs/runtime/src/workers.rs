//! A service's background tasks and the signal that stops them.

use std::future::Future;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The tasks a service runs (partition consumers, target workers, the
/// outbox), each handed the token that asks it to stop.
#[derive(Debug, Default)]
pub struct Workers {
    shutdown: CancellationToken,
    tasks: TaskTracker,
}

impl Workers {
    pub fn new() -> Workers {
        Workers::default()
    }

    /// The token a task watches to know it is asked to stop.
    pub fn shutdown(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Runs `task` until it ends; [`Workers::stop`] waits for it.
    pub fn spawn<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.tasks.spawn(task);
    }

    /// Asks every task to stop and waits until all have finished the work
    /// in hand.
    pub async fn stop(&self) {
        self.shutdown.cancel();
        self.tasks.close();
        self.tasks.wait().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[tokio::test]
    async fn stop_waits_for_the_work_in_hand() {
        let workers = Workers::new();
        let finished = Arc::new(AtomicBool::new(false));
        let (token, done) = (workers.shutdown(), finished.clone());
        workers.spawn(async move {
            token.cancelled().await;
            // The work in hand, after the signal.
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            done.store(true, Ordering::SeqCst);
        });
        workers.stop().await;
        assert!(finished.load(Ordering::SeqCst));
    }
}
