//! The signing identity, resolved from the standard AWS credentials chain and kept until
//! shortly before it expires.
//!
//! The chain (environment, IRSA web identity, EKS Pod Identity, instance profile) is slow
//! and some links call STS, so it must not run per request; a request only clones the
//! cached identity (an `Arc`). One refresh runs at a time: requests arriving while it runs
//! wait for its result instead of each calling the chain.

use std::sync::RwLock;
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_smithy_runtime_api::client::identity::Identity;
use aws_smithy_types::error::display::DisplayErrorContext;

/// Refresh this long before the identity expires, so no request signs with one that
/// expires in flight (temporary credentials from STS last an hour by default).
const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(5 * 60);

pub(super) struct CachedIdentity {
    provider: Option<SharedCredentialsProvider>,
    current: RwLock<Option<Identity>>,
    refreshing: tokio::sync::Mutex<()>,
}

impl CachedIdentity {
    /// `provider` is `None` when the configuration has no credentials chain at all; every
    /// request then fails with a credentials error before anything is sent.
    pub fn new(provider: Option<SharedCredentialsProvider>) -> Self {
        CachedIdentity {
            provider,
            current: RwLock::new(None),
            refreshing: tokio::sync::Mutex::new(()),
        }
    }

    /// The identity to sign with now; the error says why there is none.
    pub async fn get(&self) -> Result<Identity, String> {
        if let Some(identity) = self.fresh() {
            return Ok(identity);
        }
        let _one_refresh = self.refreshing.lock().await;
        if let Some(identity) = self.fresh() {
            return Ok(identity);
        }
        let provider = self
            .provider
            .as_ref()
            .ok_or("no AWS credentials provider is configured")?;
        let credentials = provider
            .provide_credentials()
            .await
            .map_err(|e| format!("loading AWS credentials: {}", DisplayErrorContext(&e)))?;
        let identity = Identity::from(credentials);
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Some(identity.clone());
        Ok(identity)
    }

    fn fresh(&self) -> Option<Identity> {
        let current = self.current.read().unwrap_or_else(|p| p.into_inner());
        current
            .as_ref()
            .filter(|identity| is_fresh(identity.expiration(), SystemTime::now()))
            .cloned()
    }
}

fn is_fresh(expiration: Option<SystemTime>, now: SystemTime) -> bool {
    expiration.is_none_or(|at| at > now + REFRESH_BEFORE_EXPIRY)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_credential_types::Credentials;
    use aws_credential_types::provider::future::ProvideCredentials as Pending;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Counts the chain's calls; its credentials expire `lifetime` after each call.
    #[derive(Debug)]
    struct Counting {
        calls: Arc<AtomicUsize>,
        lifetime: Duration,
    }

    impl ProvideCredentials for Counting {
        fn provide_credentials<'a>(&'a self) -> Pending<'a>
        where
            Self: 'a,
        {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let expiry = SystemTime::now() + self.lifetime;
            Pending::ready(Ok(Credentials::new(
                "AKIDTEST",
                "secret",
                None,
                Some(expiry),
                "test",
            )))
        }
    }

    fn cache(lifetime: Duration) -> (CachedIdentity, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let provider = SharedCredentialsProvider::new(Counting {
            calls: calls.clone(),
            lifetime,
        });
        (CachedIdentity::new(Some(provider)), calls)
    }

    #[tokio::test]
    async fn the_chain_runs_once_for_many_requests() {
        let (cache, calls) = cache(Duration::from_secs(3600));
        for _ in 0..100 {
            cache.get().await.unwrap();
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn credentials_close_to_expiry_are_fetched_again() {
        let (cache, calls) = cache(Duration::from_secs(60));
        cache.get().await.unwrap();
        cache.get().await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2, "60 s left is too close");
    }

    #[tokio::test]
    async fn no_chain_is_an_error_that_says_so() {
        let cache = CachedIdentity::new(None);
        let error = cache.get().await.unwrap_err();
        assert!(error.contains("credentials"), "{error}");
    }

    #[test]
    fn freshness_keeps_a_margin_before_expiry() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert!(is_fresh(None, now), "long-term keys do not expire");
        assert!(is_fresh(Some(now + Duration::from_secs(3600)), now));
        assert!(!is_fresh(Some(now + Duration::from_secs(299)), now));
    }
}
