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

pub mod calls;
mod cleanup;
mod cognito;
pub mod error;
mod fleet_roles;
mod iam;
pub mod identity;
#[cfg(test)]
mod paging_tests;
mod sync;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_config::timeout::TimeoutConfig;

use crate::names::RoleKind;
use crate::plan::aws::DesiredAws;

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
    /// is no longer wanted. `known_pool_id` (from status) is a hint, the tags decide. An
    /// app already in sync costs read calls only.
    async fn ensure(
        &self,
        desired: &DesiredAws,
        known_pool_id: Option<&str>,
    ) -> Result<Provisioned, AwsError>;

    /// What [`LivenessAws::ensure`] would change, without changing anything.
    async fn observe(
        &self,
        desired: &DesiredAws,
        known_pool_id: Option<&str>,
    ) -> Result<Observed, AwsError>;

    /// Honours `desired.deletion_policy`: `Delete` removes every object the app owns (an
    /// adopted pool only loses our role links), NotFound counting as done; `Retain`
    /// removes nothing and makes no call.
    async fn delete(
        &self,
        desired: &DesiredAws,
        known_pool_id: Option<&str>,
    ) -> Result<Vec<Change>, AwsError>;
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
/// region on first use. Every client counts its calls in the shared [`Calls`].
#[derive(Debug)]
pub struct SdkAws {
    config: SdkConfig,
    calls: Calls,
    iam: iam::Iam,
    sts: aws_sdk_sts::Client,
    cognito: Mutex<HashMap<String, cognito::Cognito>>,
}

impl SdkAws {
    /// Clients from `config` (credentials, endpoint, retry and timeouts as given).
    pub fn new(config: &SdkConfig, calls: Calls) -> Self {
        let iam_config = aws_sdk_iam::config::Builder::from(config)
            .interceptor(calls.interceptor("iam"))
            .build();
        let sts_config = aws_sdk_sts::config::Builder::from(config)
            .interceptor(calls.interceptor("sts"))
            .build();
        Self {
            config: config.clone(),
            iam: iam::Iam {
                client: aws_sdk_iam::Client::from_conf(iam_config),
                fleet: Arc::default(),
            },
            sts: aws_sdk_sts::Client::from_conf(sts_config),
            cognito: Mutex::default(),
            calls,
        }
    }

    /// Clients from the standard AWS environment (IRSA in the operator's pod), with
    /// timeouts so a hung call surfaces as a transient error; `region` is the region of
    /// the account-level clients (STS, IAM).
    pub async fn from_env(calls: Calls, region: &str) -> Self {
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
        Self::new(&config, calls)
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
        clients
            .entry(region.to_string())
            .or_insert_with(|| {
                let config = aws_sdk_cognitoidentity::config::Builder::from(&self.config)
                    .region(aws_config::Region::new(region.to_string()))
                    .interceptor(self.calls.interceptor("cognito-identity"))
                    .build();
                cognito::Cognito {
                    client: aws_sdk_cognitoidentity::Client::from_conf(config),
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
        known_pool_id: Option<&str>,
    ) -> Result<Provisioned, AwsError> {
        let cognito = self.cognito(&desired.region);
        let outcome = sync::run(&self.iam, &cognito, desired, known_pool_id, true).await?;
        outcome.provisioned(desired)
    }

    async fn observe(
        &self,
        desired: &DesiredAws,
        known_pool_id: Option<&str>,
    ) -> Result<Observed, AwsError> {
        let cognito = self.cognito(&desired.region);
        let outcome = sync::run(&self.iam, &cognito, desired, known_pool_id, false).await?;
        Ok(Observed {
            identity_pool_id: outcome.pool.map(|p| p.to_string()),
            pending: outcome.changes,
        })
    }

    async fn delete(
        &self,
        desired: &DesiredAws,
        known_pool_id: Option<&str>,
    ) -> Result<Vec<Change>, AwsError> {
        let cognito = self.cognito(&desired.region);
        cleanup::run(&self.iam, &cognito, desired, known_pool_id).await
    }
}
