//! Request rates of a tenant and of each of its tokens (token buckets,
//! configured per tenant: `rate_limit` in the file). A request takes one
//! from its tenant's bucket and one from its token's; when either is empty
//! it gets 429 with `Retry-After`, and takes nothing. Each ingress replica
//! holds its share of the rates (divided by `SCIMBUS_INGRESS_REPLICAS`),
//! in memory: with the load balanced, the replicas together allow about
//! the configured rate.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use scimbus_runtime::config::{RateLimit, Tenant};

use crate::tokens::Client;

/// Buckets not used for this long are dropped when the map is pruned.
const IDLE_SECS: f64 = 300.0;
/// The map is pruned when it holds more buckets than this.
const PRUNE_AT: usize = 100_000;

/// A token bucket (also the failed-authentication limit's, in
/// [`super::failures`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bucket {
    pub(crate) left: f64,
    at: Instant,
}

impl Bucket {
    pub(crate) fn full(burst: f64) -> Bucket {
        Bucket {
            left: burst,
            at: Instant::now(),
        }
    }

    /// Refilled at `rate` up to `burst`: whether one request may go, else
    /// the seconds until it may.
    pub(crate) fn refill(&mut self, rate: f64, burst: f64, now: Instant) -> Result<(), f64> {
        let secs = now.duration_since(self.at).as_secs_f64();
        self.left = (self.left + secs * rate).min(burst);
        self.at = now;
        if self.left >= 1.0 {
            Ok(())
        } else {
            Err((1.0 - self.left) / rate)
        }
    }
}

/// The buckets of one replica.
#[derive(Debug)]
pub struct Rates {
    limits: HashMap<String, RateLimit>,
    share: f64,
    tenants: Mutex<HashMap<String, Bucket>>,
    tokens: Mutex<HashMap<String, Bucket>>,
}

impl Rates {
    /// The rates of `tenants`, each replica's share of `replicas`.
    pub fn new(tenants: &[Tenant], replicas: u32) -> Rates {
        Rates {
            limits: tenants
                .iter()
                .map(|t| (t.name.clone(), t.rate_limit))
                .collect(),
            share: 1.0 / f64::from(replicas.max(1)),
            tenants: Mutex::default(),
            tokens: Mutex::default(),
        }
    }

    /// Takes one request of `client` from its buckets, or says in how many
    /// whole seconds (at least 1) it may try again.
    pub fn admit(&self, client: &Client) -> Result<(), u32> {
        let limit = self.limits.get(&client.tenant).copied().unwrap_or_default();
        let (t_rate, t_burst) = (
            limit.requests_per_second * self.share,
            (limit.burst * self.share).max(1.0),
        );
        let (k_rate, k_burst) = (
            limit.token_requests_per_second * self.share,
            (limit.token_burst * self.share).max(1.0),
        );
        let now = Instant::now();
        // A poisoned map lets requests through: limits protect, they must
        // not stop the service.
        let (Ok(mut tenants), Ok(mut tokens)) = (self.tenants.lock(), self.tokens.lock()) else {
            return Ok(());
        };
        for map in [&mut *tenants, &mut *tokens] {
            if map.len() > PRUNE_AT {
                map.retain(|_, b| now.duration_since(b.at).as_secs_f64() < IDLE_SECS);
            }
        }
        let mut tenant = tenants
            .get(&client.tenant)
            .copied()
            .unwrap_or_else(|| Bucket::full(t_burst));
        let mut token = tokens
            .get(&client.client_id)
            .copied()
            .unwrap_or_else(|| Bucket::full(k_burst));
        let waits = [
            tenant.refill(t_rate, t_burst, now).err(),
            token.refill(k_rate, k_burst, now).err(),
        ];
        let wait = waits.into_iter().flatten().reduce(f64::max);
        if wait.is_none() {
            tenant.left -= 1.0;
            token.left -= 1.0;
        }
        put(&mut tenants, &client.tenant, tenant);
        put(&mut tokens, &client.client_id, token);
        match wait {
            Some(w) => Err(w.ceil().max(1.0) as u32),
            None => Ok(()),
        }
    }
}

fn put(map: &mut HashMap<String, Bucket>, key: &str, b: Bucket) {
    match map.get_mut(key) {
        Some(slot) => *slot = b,
        None => {
            map.insert(key.to_string(), b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scimbus_runtime::scope::Scopes;

    fn client(tenant: &str, id: &str) -> Client {
        Client {
            tenant: tenant.into(),
            client_id: id.into(),
            name: String::new(),
            scopes: Scopes::tenant_default(),
            address: None,
            request_id: None,
        }
    }

    fn tenant(name: &str, rate: f64, burst: f64, token_rate: f64, token_burst: f64) -> Tenant {
        Tenant {
            name: name.into(),
            token_hashes: Vec::new(),
            rate_limit: RateLimit {
                requests_per_second: rate,
                burst,
                token_requests_per_second: token_rate,
                token_burst,
            },
            jwt: None,
        }
    }

    #[test]
    fn a_token_over_its_rate_waits_while_another_token_goes_on() {
        let rates = Rates::new(&[tenant("a", 100.0, 100.0, 1.0, 3.0)], 1);
        let (one, two) = (client("a", "1"), client("a", "2"));
        for _ in 0..3 {
            assert_eq!(rates.admit(&one), Ok(()));
        }
        assert_eq!(rates.admit(&one), Err(1));
        assert_eq!(rates.admit(&two), Ok(()));
    }

    #[test]
    fn a_tenant_over_its_rate_waits_whichever_token_asks_and_others_do_not() {
        let rates = Rates::new(
            &[
                tenant("a", 1.0, 2.0, 100.0, 100.0),
                tenant("b", 1.0, 2.0, 100.0, 100.0),
            ],
            1,
        );
        assert_eq!(rates.admit(&client("a", "1")), Ok(()));
        assert_eq!(rates.admit(&client("a", "2")), Ok(()));
        assert_eq!(rates.admit(&client("a", "3")), Err(1));
        assert_eq!(rates.admit(&client("b", "4")), Ok(()));
    }

    #[test]
    fn each_replica_holds_its_share() {
        let rates = Rates::new(&[tenant("a", 10.0, 4.0, 100.0, 100.0)], 2);
        assert_eq!(rates.admit(&client("a", "1")), Ok(()));
        assert_eq!(rates.admit(&client("a", "1")), Ok(()));
        assert!(rates.admit(&client("a", "1")).is_err());
    }
}
