//! AWS credentials for SigV4, fetched once and kept until shortly before they expire.
//!
//! Why a cache of our own: the `opensearch` crate signs every request with
//! `credentials_provider.provide_credentials().await` (opensearch 2.4 `src/http/aws_auth.rs`,
//! `sign_request`), and the provider `aws_config::load()` returns, `DefaultCredentialsChain`, has
//! no cache of its own in aws-config 1.x (the AWS SDK clients cache through their
//! `IdentityCache`; the opensearch crate does not use one). Without this, every `_bulk` request
//! would ask the chain again: an STS/IMDS/ECS round trip for web-identity, container or instance
//! credentials.

use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{future, ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials as AwsCredentials;
use opensearch::auth::Credentials;

/// Fetch new credentials this long before the old ones expire (the SDK's identity cache uses a
/// similar buffer), so a request signed now is still valid when it arrives.
pub const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(5 * 60);

/// A provider that asks `inner` only when it has nothing fresh.
#[derive(Debug)]
pub struct CachedCredentials {
    inner: SharedCredentialsProvider,
    cached: tokio::sync::RwLock<Option<AwsCredentials>>,
}

impl CachedCredentials {
    pub fn new(inner: SharedCredentialsProvider) -> Self {
        Self {
            inner,
            cached: tokio::sync::RwLock::new(None),
        }
    }

    async fn credentials(&self) -> aws_credential_types::provider::Result {
        if let Some(fresh) = self.cached.read().await.as_ref().filter(|c| fresh(c)) {
            return Ok(fresh.clone());
        }
        let mut slot = self.cached.write().await;
        // Another request may have refreshed them while this one waited for the lock.
        if let Some(fresh) = slot.as_ref().filter(|c| fresh(c)) {
            return Ok(fresh.clone());
        }
        let credentials = self.inner.provide_credentials().await?;
        *slot = Some(credentials.clone());
        Ok(credentials)
    }
}

/// Credentials without an expiry (static keys, environment variables) stay fresh.
fn fresh(credentials: &AwsCredentials) -> bool {
    credentials
        .expiry()
        .is_none_or(|expiry| expiry > SystemTime::now() + REFRESH_BEFORE_EXPIRY)
}

impl ProvideCredentials for CachedCredentials {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.credentials())
    }
}

/// The SDK configuration's credentials behind a cache, as the opensearch crate's SigV4
/// credentials; `None` without credentials or region.
pub fn cached_credentials(sdk: &aws_config::SdkConfig) -> Option<Credentials> {
    let provider = sdk.credentials_provider()?;
    let region = sdk.region()?.clone();
    let cached = SharedCredentialsProvider::new(CachedCredentials::new(provider));
    Some(Credentials::AwsSigV4(cached, region))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[derive(Debug)]
    struct Counting {
        fetches: Arc<AtomicUsize>,
        lifetime: Option<Duration>,
    }

    impl ProvideCredentials for Counting {
        fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            self.fetches.fetch_add(1, Ordering::SeqCst);
            let expiry = self.lifetime.map(|l| SystemTime::now() + l);
            future::ProvideCredentials::ready(Ok(AwsCredentials::new(
                "AKIDEXAMPLE",
                "secret",
                Some("token".into()),
                expiry,
                "test",
            )))
        }
    }

    async fn fetches_for(lifetime: Option<Duration>, requests: usize) -> usize {
        let fetches = Arc::new(AtomicUsize::new(0));
        let cached = CachedCredentials::new(SharedCredentialsProvider::new(Counting {
            fetches: fetches.clone(),
            lifetime,
        }));
        for _ in 0..requests {
            cached.provide_credentials().await.unwrap();
        }
        fetches.load(Ordering::SeqCst)
    }

    #[tokio::test]
    async fn credentials_are_fetched_once_and_refreshed_before_they_expire() {
        assert_eq!(fetches_for(None, 5).await, 1, "no expiry: fetched once");
        assert_eq!(
            fetches_for(Some(Duration::from_secs(3600)), 5).await,
            1,
            "an hour left: kept"
        );
        assert_eq!(
            fetches_for(Some(Duration::from_secs(60)), 3).await,
            3,
            "a minute left: refreshed every time"
        );
    }
}
