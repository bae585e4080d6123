//! One skeleton for every service: `build` → [`Server::local_addr`] →
//! [`Server::run_until`]`(shutdown)`, health served the same way, a bounded
//! drain on shutdown.
//!
//! A service builds itself (the prologue in [`crate::start`], then what is
//! its own), binds with [`Listener::bind`], and hands both to
//! [`Listener::serve`]. The skeleton serves the service's routes (the
//! ingress's API; none for the others) with `/livez` and `/readyz`, and on
//! shutdown stops taking requests, lets those in flight finish, then asks
//! the service to finish the work in hand — all within the drain bound.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::service::{RunError, Service};
use crate::settings::ServiceSettings;
use crate::start::StartError;

/// A bound listener, before the service exists: binding first reports an
/// address in use before anything connects.
#[derive(Debug)]
pub struct Listener {
    listener: TcpListener,
    drain: Duration,
}

impl Listener {
    /// Binds `settings.addr`.
    pub async fn bind(settings: &ServiceSettings) -> Result<Listener, StartError> {
        let listener =
            TcpListener::bind(settings.addr)
                .await
                .map_err(|source| StartError::Bind {
                    setting: settings.addr_setting,
                    addr: settings.addr,
                    source,
                })?;
        Ok(Listener {
            listener,
            drain: settings.drain,
        })
    }

    /// The built service, ready to run: `routes` are its own (an empty
    /// router when it serves only health).
    pub fn serve<S: Service>(self, service: Arc<S>, routes: Router) -> Server<S> {
        Server {
            service,
            routes,
            listener: self.listener,
            drain: self.drain,
        }
    }
}

/// A built service: bound, working, not yet serving HTTP.
#[derive(Debug)]
pub struct Server<S> {
    service: Arc<S>,
    routes: Router,
    listener: TcpListener,
    drain: Duration,
}

impl<S: Service> Server<S> {
    /// The address it listens on (port 0 becomes a real port).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The service itself.
    pub fn service(&self) -> &Arc<S> {
        &self.service
    }

    /// Serves until `shutdown` resolves, then drains: no new connections,
    /// requests in flight answered, then [`Service::stop`]. `Err` when the
    /// drain outlasted its bound or the server failed.
    pub async fn run_until<F>(self, shutdown: F) -> Result<(), RunError>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let Server {
            service,
            routes,
            listener,
            drain,
        } = self;
        let http_metrics = crate::metrics::http::HttpMetrics::new(service.metrics());
        let app = routes.merge(crate::health::routes(service.clone())).layer(
            axum::middleware::from_fn_with_state(http_metrics, crate::telemetry::http::trace),
        );
        let closing = CancellationToken::new();
        let graceful = closing.clone().cancelled_owned();
        let mut http = tokio::spawn(async move {
            // Each request knows the address it came from (the ingress
            // limits failed authentications per address).
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(graceful)
            .await
        });
        tokio::select! {
            () = shutdown => {}
            ended = &mut http => {
                // The server ended without being asked: stop the work too.
                service.stop().await;
                return match ended? {
                    Ok(()) => Ok(()),
                    Err(e) => Err(RunError::Serve(e)),
                };
            }
        }
        tracing::info!(bound = ?drain, "stopping");
        closing.cancel();
        let drained = tokio::time::timeout(drain, async {
            let served = http.await;
            service.stop().await;
            served
        })
        .await;
        match drained {
            Err(_) => Err(RunError::Drain(drain)),
            Ok(served) => served?.map_err(RunError::Serve),
        }
    }

    /// Runs in the background until [`Running::stop`] (tests, tools).
    pub fn spawn(self) -> std::io::Result<Running<S>> {
        let addr = self.local_addr()?;
        let service = self.service.clone();
        let stop = CancellationToken::new();
        let task = tokio::spawn(self.run_until(stop.clone().cancelled_owned()));
        Ok(Running {
            service,
            addr,
            stop,
            task,
        })
    }
}

/// A service running in the background.
#[derive(Debug)]
pub struct Running<S> {
    service: Arc<S>,
    addr: SocketAddr,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), RunError>>,
}

impl<S> Running<S> {
    /// The service itself.
    pub fn service(&self) -> &Arc<S> {
        &self.service
    }

    /// The address it serves on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops it as a signal would, and waits for the drain.
    pub async fn stop(self) -> Result<(), RunError> {
        self.stop.cancel();
        self.task.await?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::NotReady;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// A service whose stop takes `stop_takes`.
    struct Slow {
        stop_takes: Duration,
        stopped: AtomicBool,
        metrics: crate::metrics::Registry,
    }

    impl Service for Slow {
        async fn ready(&self) -> Result<(), NotReady> {
            Ok(())
        }

        async fn stop(&self) {
            tokio::time::sleep(self.stop_takes).await;
            self.stopped.store(true, Ordering::SeqCst);
        }

        fn metrics(&self) -> &crate::metrics::Registry {
            &self.metrics
        }
    }

    async fn run(stop_takes: Duration, drain: Duration) -> (Result<(), RunError>, Arc<Slow>) {
        let mut settings = ServiceSettings::local("nats://unused", "postgres://unused", "");
        settings.drain = drain;
        let service = Arc::new(Slow {
            stop_takes,
            stopped: AtomicBool::new(false),
            metrics: crate::metrics::Registry::new(),
        });
        let server = Listener::bind(&settings)
            .await
            .unwrap()
            .serve(service.clone(), Router::new());
        (server.run_until(async {}).await, service)
    }

    #[tokio::test]
    async fn a_stop_within_the_bound_is_a_clean_drain() {
        let (ran, service) = run(Duration::from_millis(20), Duration::from_secs(5)).await;
        assert!(ran.is_ok(), "{ran:?}");
        assert!(
            service.stopped.load(Ordering::SeqCst),
            "the service was stopped"
        );
    }

    #[tokio::test]
    async fn a_stop_that_outlasts_the_bound_is_a_drain_error() {
        let start = std::time::Instant::now();
        let (ran, service) = run(Duration::from_secs(60), Duration::from_millis(200)).await;
        assert!(
            matches!(ran, Err(RunError::Drain(d)) if d == Duration::from_millis(200)),
            "{ran:?}"
        );
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{:?}",
            start.elapsed()
        );
        assert!(!service.stopped.load(Ordering::SeqCst));
    }
}
