//! How many sessions one caller may create: every session costs the app money and a slot of
//! its account's Face Liveness throughput, so one user (or, for guest apps, one client
//! address) must not be able to spend them all.
//!
//! The limit is per caller subject (issuer and `sub`), or per client IP for anonymous
//! callers, and counted in this replica's memory (N replicas allow up to N times the limit,
//! which is still a limit; nothing is shared). Refusals are 429 with `Retry-After`.

use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::{Arc, Weak};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

/// Default sessions per minute one caller may create.
pub const DEFAULT_CREATES_PER_MINUTE: u32 = 10;

/// A per-key budget of `per_minute` creates, refilled evenly over the minute.
pub struct CreateLimit<K: Clone + Hash + Eq + Send + Sync + 'static> {
    limiter: DefaultKeyedRateLimiter<K>,
}

impl<K: Clone + Hash + Eq + Send + Sync + 'static> CreateLimit<K> {
    /// `None` when `per_minute` is 0 (no limit).
    pub fn per_minute(per_minute: u32) -> Option<Arc<Self>> {
        let quota = Quota::per_minute(NonZeroU32::new(per_minute)?);
        let limit = Arc::new(CreateLimit {
            limiter: DefaultKeyedRateLimiter::keyed(quota),
        });
        every_minute_while_alive(Arc::downgrade(&limit), |limit| {
            limit.limiter.retain_recent()
        });
        Some(limit)
    }

    /// Counts one create for `key`; `Err(seconds)` to wait when the budget is spent.
    pub fn check(&self, key: &K) -> Result<(), u64> {
        self.limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            // Whole seconds, rounded up: never tell a client to retry after 0.
            (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
        })
    }
}

/// Runs `sweep` on `target` once a minute until it is dropped: rate limiters keep a state
/// per key, and the ones whose budget is full again are dropped this way.
pub(crate) fn every_minute_while_alive<T: Send + Sync + 'static>(
    target: Weak<T>,
    sweep: impl Fn(&T) + Send + 'static,
) {
    if tokio::runtime::Handle::try_current().is_err() {
        return;
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        tick.tick().await;
        loop {
            tick.tick().await;
            let Some(target) = target.upgrade() else {
                return;
            };
            sweep(&target);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_key_has_its_own_budget_and_refusals_say_when_to_retry() {
        let limit = CreateLimit::<String>::per_minute(3).unwrap();
        let alice = "alice".to_owned();
        for _ in 0..3 {
            assert_eq!(limit.check(&alice), Ok(()));
        }
        let wait = limit.check(&alice).unwrap_err();
        assert!(
            (1..=20).contains(&wait),
            "one create comes back every 20 s: {wait}"
        );
        assert_eq!(limit.check(&"bob".to_owned()), Ok(()), "bob is not alice");
        assert!(CreateLimit::<String>::per_minute(0).is_none());
    }
}
