//! AWS behind one small trait, so the controller can hold `Arc<dyn LivenessAws>` and be
//! tested with a fake, while [`SdkAws`] (the real aws-sdk implementation) is exercised
//! against the emulator.
//!
//! - [`error`]: the layer's one error type and its Transient / NeedsChange category.
//! - [`calls`]: every call counted by operation; failure injection for tests (feature
//!   `test-util`).
//! - [`identity`]: account and partition of the operator's credentials, from STS.
//! - `cognito`, `iam`: one SDK operation per function (list operations through the SDK's
//!   paginators); `sync`, `cleanup`: the decisions.

pub mod budget;
pub mod calls;
mod cleanup;
mod cognito;
pub mod error;
mod fleet_roles;
mod iam;
pub mod identity;
#[cfg(test)]
mod paging_tests;
#[cfg(test)]
mod scripted_http;
mod sync;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_config::timeout::TimeoutConfig;
use aws_smithy_runtime_api::client::http::SharedHttpClient;

use budget::{BudgetedHttp, ThrottleFeedback};

use crate::names::RoleKind;
use crate::plan::aws::DesiredAws;

pub use budget::Budget;
#[cfg(feature = "test-util")]
pub use calls::FailWhen;
pub use calls::{CallSnapshot, Calls};
pub use error::{AwsError, Category, Phase};
pub use identity::CallerIdentity;

/// What the operator does in AWS for one LivenessApp. Implementations must be idempotent
/// and safe to re-run after a crash at any point.
///
/// `desired` comes from [`crate::plan::aws::desired_aws`] with the account id and
/// partition that [`LivenessAws::caller_identity`] returns (role and pool ARNs are built
/// from them).
#[async_trait]
pub trait LivenessAws: Send + Sync {
    /// Account, partition and ARN of the operator's credentials (input of the plan).
    async fn caller_identity(&self) -> Result<CallerIdentity, AwsError>;

    /// Makes AWS match `desired`: finds (by owner tag) or creates the pool, or adopts it;
    /// creates roles and puts back any drift; links the roles; removes a guest role that
    /// is no longer wanted. `known` (from status) is a hint, the tags decide. An app
    /// already in sync costs read calls only.
    async fn ensure(
        &self,
        desired: &DesiredAws,
        known: KnownPool<'_>,
    ) -> Result<Provisioned, AwsError>;

    /// What [`LivenessAws::ensure`] would change, without changing anything.
    async fn observe(
        &self,
        desired: &DesiredAws,
        known: KnownPool<'_>,
    ) -> Result<Observed, AwsError>;

    /// Honours `desired.deletion_policy`: `Delete` removes every object the app owns (an
    /// adopted pool only loses our role links), NotFound counting as done; `Retain`
    /// removes nothing and makes no call.
    async fn delete(
        &self,
        desired: &DesiredAws,
        known: KnownPool<'_>,
    ) -> Result<Vec<Change>, AwsError>;
}

/// What the caller knows of an app's identity pool, which decides how it is looked for.
/// No lookup lists every pool of the region, except after a possible crash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KnownPool<'a> {
    /// The id recorded in status: read directly (the owner tag still decides).
    Recorded(&'a str),
    /// No pass has run for the app yet (the controller adds its finalizer before the
    /// first): only a pool tagged for it, say from a restored backup, can exist, and the
    /// owner-tag lookup (`tag:GetResources`, one call) finds it.
    FirstPass,
    /// Nothing recorded, but an earlier pass may have created a pool and not lived to
    /// record it. The tagging index is eventually consistent (and some emulators index only
    /// tags added after creation), so the pools carrying the app's pool name are read
    /// too: a listing of the region's pools, paid only on this path.
    Unrecorded,
}

impl<'a> KnownPool<'a> {
    /// From the status's pool id and whether a pass may have run before.
    pub fn from_status(recorded: Option<&'a str>, first_pass: bool) -> Self {
        match (recorded, first_pass) {
            (Some(id), _) => KnownPool::Recorded(id),
            (None, true) => KnownPool::FirstPass,
            (None, false) => KnownPool::Unrecorded,
        }
    }

    /// The recorded id, if any.
    pub fn recorded(self) -> Option<&'a str> {
        match self {
            KnownPool::Recorded(id) => Some(id),
            _ => None,
        }
    }
}

/// What exists after a successful [`LivenessAws::ensure`] (for status), and what was done
/// (for events).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Provisioned {
    /// Id of the app's identity pool.
    pub identity_pool_id: String,
    /// Whether the pool is adopted (never deleted).
    pub identity_pool_adopted: bool,
    /// ARN of the client role.
    pub client_role_arn: String,
    /// ARN of the guest role, when guests are allowed.
    pub guest_role_arn: Option<String>,
    /// ARN of the backend role.
    pub backend_role_arn: String,
    /// Every change made, in order; empty when AWS was in sync.
    pub changes: Vec<Change>,
}

/// Result of [`LivenessAws::observe`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observed {
    /// The app's pool, if one exists (or is adopted).
    pub identity_pool_id: Option<String>,
    /// Changes `ensure` would make.
    pub pending: Vec<Change>,
}

impl Observed {
    /// Nothing to change.
    pub fn in_sync(&self) -> bool {
        self.pending.is_empty()
    }
}

/// One change to one AWS object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// What was (or would be) done.
    pub action: Action,
    /// To which object.
    pub object: AwsObject,
    /// Why or what exactly, e.g. "trust policy restored".
    pub detail: String,
}

/// Kind of change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Object created.
    Created,
    /// Existing pool taken into use (our roles linked to it).
    Adopted,
    /// Object changed back to the desired state.
    Updated,
    /// Object deleted.
    Deleted,
    /// Our roles unlinked from an adopted pool.
    Detached,
}

/// An AWS object of a LivenessApp.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AwsObject {
    /// Identity pool, by id (or name before it exists).
    IdentityPool(String),
    /// Role by kind and name.
    Role(RoleKind, String),
    /// The role links of the pool with this id.
    RoleLinks(String),
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Created => "created",
            Action::Adopted => "adopted",
            Action::Updated => "updated",
            Action::Deleted => "deleted",
            Action::Detached => "detached",
        })
    }
}

impl fmt::Display for AwsObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AwsObject::IdentityPool(id) => write!(f, "identity pool {id}"),
            AwsObject::Role(kind, name) => write!(f, "{} role {name}", kind.as_str()),
            AwsObject::RoleLinks(id) => write!(f, "role links of identity pool {id}"),
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.action, self.object)?;
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        Ok(())
    }
}

/// The aws-sdk implementation. IAM and STS are global; a Cognito client is made per
/// region on first use. Every client counts its calls in the shared [`Calls`] and, when
/// given a [`Budget`], paces its requests by its service's bucket.
#[derive(Debug)]
pub struct SdkAws {
    config: SdkConfig,
    calls: Calls,
    /// The budget, and the one HTTP client (one connection pool) its clients share.
    pacing: Option<(Budget, SharedHttpClient)>,
    iam: iam::Iam,
    sts: aws_sdk_sts::Client,
    cognito: Mutex<HashMap<String, cognito::Cognito>>,
}

/// Interceptors, retries and pacing of a client of `service`, on top of what `$config`
/// (the SdkConfig) gives; one macro because each SDK has its own builder type.
macro_rules! service_config {
    ($sdk:ident, $config:expr, $calls:expr, $pacing:expr, $service:literal) => {{
        let mut builder =
            $sdk::config::Builder::from($config).interceptor($calls.interceptor($service));
        if let Some((budget, http)) = $pacing {
            let bucket = budget.bucket($service);
            let (retry, partition) = budget::retry_settings($service);
            builder = builder
                .retry_config(retry)
                .retry_partition(partition)
                .http_client(BudgetedHttp::new(http.clone(), bucket.clone()))
                .interceptor(ThrottleFeedback::new(bucket));
        }
        builder
    }};
}

/// The HTTP client `config` names, or the SDK's default one (rustls with aws-lc, proxy
/// settings from the environment).
fn base_http_client(config: &SdkConfig) -> SharedHttpClient {
    config.http_client().unwrap_or_else(|| {
        use aws_smithy_http_client::{Builder, ConnectorBuilder, proxy::ProxyConfig, tls};
        Builder::new().build_with_connector_fn(|settings, components| {
            let mut connector = ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::AwsLc,
            ));
            connector.set_connector_settings(settings.cloned());
            if let Some(components) = components {
                connector.set_sleep_impl(components.sleep_impl());
            }
            connector.set_proxy_config(Some(ProxyConfig::from_env()));
            connector.build()
        })
    })
}

impl SdkAws {
    /// Clients from `config` (credentials, endpoint, retry and timeouts as given), without
    /// a budget.
    pub fn new(config: &SdkConfig, calls: Calls) -> Self {
        Self::build(config, calls, None)
    }

    /// Clients whose requests are paced by `budget` (one bucket per service, shared by
    /// every client of that service), with retries that outlast throttling.
    pub fn budgeted(config: &SdkConfig, calls: Calls, budget: Budget) -> Self {
        Self::build(config, calls, Some(budget))
    }

    fn build(config: &SdkConfig, calls: Calls, budget: Option<Budget>) -> Self {
        let pacing = budget.map(|budget| (budget, base_http_client(config)));
        let iam_config = service_config!(aws_sdk_iam, config, calls, &pacing, "iam").build();
        let sts_config = service_config!(aws_sdk_sts, config, calls, &pacing, "sts").build();
        Self {
            config: config.clone(),
            iam: iam::Iam {
                client: aws_sdk_iam::Client::from_conf(iam_config),
                fleet: Arc::default(),
            },
            sts: aws_sdk_sts::Client::from_conf(sts_config),
            cognito: Mutex::default(),
            calls,
            pacing,
        }
    }

    /// Clients from the standard AWS environment (IRSA in the operator's pod), with
    /// timeouts so a hung call surfaces as a transient error, paced by `budget`; `region`
    /// is the region of the account-level clients (STS, IAM).
    pub async fn from_env(calls: Calls, region: &str, budget: Budget) -> Self {
        let config = aws_config::from_env()
            .region(aws_config::Region::new(region.to_string()))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .operation_attempt_timeout(Duration::from_secs(20))
                    .operation_timeout(Duration::from_secs(60))
                    .build(),
            )
            .load()
            .await;
        Self::budgeted(&config, calls, budget)
    }

    /// Role checks prove a role in sync from one bulk IAM read shared by every app for
    /// up to `max_age` (see `fleet_roles`), instead of four reads per role.
    pub fn with_shared_role_reads(mut self, max_age: Duration) -> Self {
        self.iam.fleet = Arc::new(fleet_roles::FleetRoles::new(Some(max_age)));
        self
    }

    /// The shared call counter.
    pub fn calls(&self) -> &Calls {
        &self.calls
    }

    fn cognito(&self, region: &str) -> cognito::Cognito {
        let mut clients = self.cognito.lock().unwrap_or_else(|e| e.into_inner());
        let (config, calls, pacing) = (&self.config, &self.calls, &self.pacing);
        clients
            .entry(region.to_string())
            .or_insert_with(|| {
                let region = aws_config::Region::new(region.to_string());
                let cognito = service_config!(
                    aws_sdk_cognitoidentity,
                    config,
                    calls,
                    pacing,
                    "cognito-identity"
                )
                .region(region.clone())
                .build();
                let tagging =
                    service_config!(aws_sdk_resourcegroupstagging, config, calls, pacing, "tag")
                        .region(region)
                        .build();
                cognito::Cognito {
                    client: aws_sdk_cognitoidentity::Client::from_conf(cognito),
                    tagging: aws_sdk_resourcegroupstagging::Client::from_conf(tagging),
                }
            })
            .clone()
    }
}

#[async_trait]
impl LivenessAws for SdkAws {
    async fn caller_identity(&self) -> Result<CallerIdentity, AwsError> {
        identity::caller_identity(&self.sts).await
    }

    async fn ensure(
        &self,
        desired: &DesiredAws,
        known: KnownPool<'_>,
    ) -> Result<Provisioned, AwsError> {
        let cognito = self.cognito(&desired.region);
        let outcome = sync::run(&self.iam, &cognito, desired, known, true).await?;
        outcome.provisioned(desired)
    }

    async fn observe(
        &self,
        desired: &DesiredAws,
        known: KnownPool<'_>,
    ) -> Result<Observed, AwsError> {
        let cognito = self.cognito(&desired.region);
        let outcome = sync::run(&self.iam, &cognito, desired, known, false).await?;
        Ok(Observed {
            identity_pool_id: outcome.pool.map(|p| p.to_string()),
            pending: outcome.changes,
        })
    }

    async fn delete(
        &self,
        desired: &DesiredAws,
        known: KnownPool<'_>,
    ) -> Result<Vec<Change>, AwsError> {
        let cognito = self.cognito(&desired.region);
        cleanup::run(&self.iam, &cognito, desired, known).await
    }
}
