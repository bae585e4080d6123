//! What the outbound counts, per target: changes pushed, skipped (out of
//! scope, unchanged) or parked; how far behind the change stream its
//! worker is; resources with a parked change; whether its circuit is open.
//! Target names come from the configuration, so the label values are
//! bounded. The gauges are reported by the replica that drives the target
//! and only while it does: after a handover the new driver reports them.

use scimbus_runtime::metrics::{Counter, Gauge, Registry};

/// The outbound's per-target families.
#[derive(Debug, Clone)]
pub struct OutboundMetrics {
    pushes: Counter,
    pending: Gauge,
    circuit: Gauge,
    parked: Gauge,
}

impl OutboundMetrics {
    /// Registers the families in `registry`.
    pub fn new(registry: &Registry) -> OutboundMetrics {
        OutboundMetrics {
            pushes: registry.counter(
                "scimbus_outbound_pushes_total",
                "Changes a target's worker finished, by outcome (pushed, skipped, parked).",
                &["tenant", "target", "outcome"],
            ),
            pending: registry.gauge(
                "scimbus_outbound_pending_changes",
                "Changes on the change stream the target's worker has not finished (its lag).",
                &["tenant", "target"],
            ),
            circuit: registry.gauge(
                "scimbus_outbound_circuit_open",
                "1 while the target's circuit breaker holds requests back, else 0.",
                &["tenant", "target"],
            ),
            parked: registry.gauge(
                "scimbus_outbound_parked_resources",
                "Resources with a parked change for the target (their later changes wait behind it).",
                &["tenant", "target"],
            ),
        }
    }

    /// A change of `tenant`'s `target` finished with `outcome`.
    pub fn pushed(&self, tenant: &str, target: &str, outcome: &str) {
        self.pushes.inc(&[tenant, target, outcome]);
    }

    /// The worker's lag as last seen.
    pub fn pending(&self, tenant: &str, target: &str, changes: i64) {
        self.pending.set(&[tenant, target], changes as f64);
    }

    /// The circuit and the parked resources, as the driver sees them now
    /// (`parked` when known).
    pub fn state(&self, tenant: &str, target: &str, open: bool, parked: Option<usize>) {
        self.circuit
            .set(&[tenant, target], if open { 1.0 } else { 0.0 });
        if let Some(n) = parked {
            self.parked.set(&[tenant, target], n as f64);
        }
    }

    /// This replica no longer drives the target: its gauges are the next
    /// driver's to report.
    pub fn released(&self, tenant: &str, target: &str) {
        for g in [&self.pending, &self.circuit, &self.parked] {
            g.remove(&[tenant, target]);
        }
    }
}
