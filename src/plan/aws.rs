//! Spec → the AWS objects one LivenessApp owns: identity pool, roles, policies and tags.
//!
//! Pure and infallible: no clients, and the input is a [`ValidatedApp`], so every value
//! was checked before. The controller and `liveness-operator plan` both build a
//! [`DesiredAws`] here, and [`crate::aws`] makes AWS match it. Names come from
//! [`crate::names`]; trust policies from [`super::trust`].

use std::collections::BTreeMap;

use crate::crd::{DeletionPolicy, OutputSpec};
use crate::env::OperatorEnv;
use crate::names::{AppIdentity, RoleKind};
use crate::validate::ValidatedApp;
pub use crate::validate::{CognitoProvider, PoolMode};

use super::boundary::boundary_policy_arn;
use super::policy::{PolicyDocument, Statement};
use super::trust::{Amr, PoolId, TrustPolicy};

/// Tag carrying the LivenessApp's `metadata.uid`: proof of ownership.
pub const TAG_OWNER_UID: &str = "faceliveness.dev/owner-uid";
/// Tag carrying `<namespace>/<name>`, for people reading the console.
pub const TAG_APP: &str = "faceliveness.dev/app";
/// Tag carrying the operator's cluster name.
pub const TAG_CLUSTER: &str = "faceliveness.dev/cluster";
/// Tag a pool's owner sets to let LivenessApps of some namespaces adopt it: the value lists
/// the namespaces, separated by spaces or `/` (AWS tag values allow no commas).
pub const TAG_ADOPTABLE_BY: &str = "faceliveness.dev/adoptable-by";
/// Tag naming the tool that manages the object.
pub const TAG_MANAGED_BY: &str = "managed-by";
/// Value of [`TAG_MANAGED_BY`].
pub const MANAGER: &str = "liveness-operator";
/// Name of the one inline policy on each role.
pub const INLINE_POLICY_NAME: &str = "liveness";

/// Everything AWS should hold for one LivenessApp.
#[derive(Clone, Debug)]
pub struct DesiredAws {
    /// Names derive from this.
    pub app: AppIdentity,
    /// metadata.uid of the LivenessApp.
    pub owner_uid: String,
    /// Region of the identity pool.
    pub region: String,
    /// Account of the roles and pool.
    pub account_id: String,
    /// AWS partition.
    pub partition: String,
    /// What happens on CR deletion.
    pub deletion_policy: DeletionPolicy,
    /// The identity pool.
    pub pool: PoolPlan,
    /// Tags on every object this app creates.
    pub tags: BTreeMap<String, String>,
    /// Role of signed-in identities.
    pub client_role: RolePlan,
    /// Role of guests, when allowed.
    pub guest_role: Option<RolePlan>,
    /// Role of the endpoint pods.
    pub backend_role: RolePlan,
}

/// The identity pool: created and owned, or adopted.
#[derive(Clone, Debug)]
pub struct PoolPlan {
    /// Create a pool or adopt an existing one.
    pub mode: PoolMode,
    /// Name of a created pool (also shown for adopted ones, never applied to them).
    pub name: String,
    /// AllowUnauthenticatedIdentities of a created pool; whether a guest role is linked.
    pub allow_unauthenticated: bool,
    /// CognitoIdentityProviders of a created pool.
    pub providers: Vec<CognitoProvider>,
    /// An adopted pool is allowed by the operator's `--adoptable-pools`, so it needs no
    /// [`TAG_ADOPTABLE_BY`] tag (it still must not belong to another LivenessApp).
    pub adoption_granted_by_operator: bool,
}

/// One IAM role with its single inline policy.
#[derive(Clone, Debug)]
pub struct RolePlan {
    /// Client, guest or backend.
    pub kind: RoleKind,
    /// Role name (from [`AppIdentity::role_name`]).
    pub name: String,
    /// IAM path, [`crate::names::iam_path`] of the cluster.
    pub path: String,
    /// ARN the role will have.
    pub arn: String,
    /// Who may assume it.
    pub trust: RoleTrust,
    /// The cluster's permissions boundary, set on the role at creation and restored when
    /// removed or swapped ([`super::boundary`]).
    pub permissions_boundary: String,
    /// Name of the inline policy.
    pub policy_name: &'static str,
    /// The inline policy.
    pub policy: PolicyDocument,
}

/// Who may assume a role. Cognito trust needs the pool id, known only once the pool
/// exists, so it is completed by [`RolePlan::trust_policy`].
#[derive(Clone, Debug)]
pub enum RoleTrust {
    /// Identities of the app's pool with this `amr`.
    IdentityPool(Amr),
    /// The endpoint's ServiceAccount through IRSA.
    Irsa(TrustPolicy),
}

impl RolePlan {
    /// The trust policy, given the id of the app's pool.
    pub fn trust_policy(&self, pool: &PoolId) -> TrustPolicy {
        match &self.trust {
            RoleTrust::IdentityPool(amr) => TrustPolicy::cognito(pool, *amr),
            RoleTrust::Irsa(policy) => policy.clone(),
        }
    }
}

impl DesiredAws {
    /// Roles that should exist, client first.
    pub fn roles(&self) -> impl Iterator<Item = &RolePlan> {
        [
            Some(&self.client_role),
            self.guest_role.as_ref(),
            Some(&self.backend_role),
        ]
        .into_iter()
        .flatten()
    }

    /// Every role name this app may ever own (for clean-up of roles no longer desired).
    pub fn all_role_names(&self) -> [(RoleKind, String); 3] {
        [RoleKind::Client, RoleKind::Guest, RoleKind::Backend]
            .map(|kind| (kind, self.app.role_name(kind)))
    }

    /// ARN of the role `name` under the operator's path in this account.
    pub fn role_arn(&self, name: &str) -> String {
        role_arn(
            &self.partition,
            &self.account_id,
            &self.app.iam_path(),
            name,
        )
    }

    /// `arn:<partition>:cognito-identity:<region>:<account>:identitypool/<id>`.
    pub fn pool_arn(&self, pool: &PoolId) -> String {
        format!(
            "arn:{}:cognito-identity:{}:{}:identitypool/{pool}",
            self.partition, self.region, self.account_id
        )
    }

    /// Whether a pool's `tags` let this app adopt it: not owned by another LivenessApp,
    /// and either the operator's flag or the pool's [`TAG_ADOPTABLE_BY`] names the app's
    /// namespace. `Err` says why not and how to allow it.
    pub fn may_adopt(&self, pool: &PoolId, tags: &BTreeMap<String, String>) -> Result<(), String> {
        if let Some(owner) = tags.get(TAG_OWNER_UID)
            && owner != &self.owner_uid
        {
            let app = tags
                .get(TAG_APP)
                .map_or("another LivenessApp", String::as_str);
            return Err(format!(
                "identity pool {pool} belongs to LivenessApp {app} ({TAG_OWNER_UID}={owner}): a pool made by the operator for one app is never adopted by another; give this app its own pool (remove existingPoolId)"
            ));
        }
        let namespace = &self.app.namespace;
        let listed = tags.get(TAG_ADOPTABLE_BY).is_some_and(|value| {
            value
                .split(|c: char| c.is_whitespace() || c == '/')
                .any(|ns| ns == namespace)
        });
        if self.pool.adoption_granted_by_operator || listed {
            return Ok(());
        }
        Err(format!(
            "identity pool {pool} does not allow adoption by namespace {namespace}: its owner adds the tag {TAG_ADOPTABLE_BY}={namespace} to the pool (namespaces separated by spaces), or the operator is started with --adoptable-pools {namespace}/{pool}"
        ))
    }

    /// Whether `tags` prove that this app owns the object.
    pub fn owns(&self, tags: &BTreeMap<String, String>) -> bool {
        tags.get(TAG_OWNER_UID) == Some(&self.owner_uid)
    }
}

/// Builds the desired AWS state of one validated LivenessApp.
pub fn desired_aws(app: &ValidatedApp, env: &OperatorEnv) -> DesiredAws {
    let identity = &app.identity;
    let account = &env.account;
    let role = |kind, trust, policy| RolePlan {
        kind,
        name: identity.role_name(kind),
        path: identity.iam_path(),
        arn: role_arn(
            &account.partition,
            &account.account_id,
            &identity.iam_path(),
            &identity.role_name(kind),
        ),
        trust,
        permissions_boundary: boundary_policy_arn(
            &account.partition,
            &account.account_id,
            &identity.cluster,
        ),
        policy_name: INLINE_POLICY_NAME,
        policy,
    };
    let tags = BTreeMap::from([
        (TAG_OWNER_UID.to_string(), app.uid.clone()),
        (TAG_APP.into(), identity.tag_value()),
        (TAG_CLUSTER.into(), identity.cluster.clone()),
        (TAG_MANAGED_BY.into(), MANAGER.into()),
    ]);
    let backend_trust = TrustPolicy::irsa(
        &env.oidc_provider,
        &account.partition,
        &account.account_id,
        &identity.service_account_subject(),
    );
    let allow_guests = app.pool.allow_unauthenticated;
    DesiredAws {
        owner_uid: app.uid.clone(),
        region: app.region.clone(),
        account_id: account.account_id.clone(),
        partition: account.partition.clone(),
        deletion_policy: app.deletion_policy,
        pool: PoolPlan {
            mode: app.pool.mode.clone(),
            name: identity.pool_name(),
            allow_unauthenticated: allow_guests,
            providers: app.pool.providers.clone(),
            adoption_granted_by_operator: match &app.pool.mode {
                PoolMode::Adopt(id) => env.allows_adoption(&identity.namespace, id),
                PoolMode::Create => false,
            },
        },
        tags,
        client_role: role(
            RoleKind::Client,
            RoleTrust::IdentityPool(Amr::Authenticated),
            browser_policy(),
        ),
        guest_role: allow_guests.then(|| {
            role(
                RoleKind::Guest,
                RoleTrust::IdentityPool(Amr::Unauthenticated),
                browser_policy(),
            )
        }),
        backend_role: role(
            RoleKind::Backend,
            RoleTrust::Irsa(backend_trust),
            backend_policy(app, &account.partition, &account.account_id),
        ),
        app: identity.clone(),
    }
}

fn role_arn(partition: &str, account_id: &str, path: &str, name: &str) -> String {
    format!("arn:{partition}:iam::{account_id}:role{path}{name}")
}

/// Browser roles may only stream a liveness check. StartFaceLivenessSession has no
/// resource-level permissions, hence `*`.
fn browser_policy() -> PolicyDocument {
    PolicyDocument::new(vec![Statement::allow(
        "StartLivenessStream",
        &["rekognition:StartFaceLivenessSession"],
        vec!["*".into()],
    )])
}

/// The backend creates sessions and reads results (no resource-level permissions), and,
/// when images are stored, writes under the prefix and uses the app's key.
fn backend_policy(app: &ValidatedApp, partition: &str, account_id: &str) -> PolicyDocument {
    let mut statements = vec![Statement::allow(
        "LivenessSessions",
        &[
            "rekognition:CreateFaceLivenessSession",
            "rekognition:GetFaceLivenessSessionResults",
        ],
        vec!["*".into()],
    )];
    if let Some(output) = &app.endpoint.output {
        statements.push(
            Statement::allow(
                "StoreSessionImages",
                &["s3:PutObject"],
                vec![format!(
                    "arn:{partition}:s3:::{}/{}*",
                    output.s3_bucket,
                    output.s3_key_prefix.as_deref().unwrap_or("")
                )],
            )
            // The bucket must be the operator's account's: a name alone could be anyone's.
            .when("StringEquals", "s3:ResourceAccount", &[account_id]),
        );
        if let Some(statement) = kms_statement(output, &app.region, partition, account_id) {
            statements.push(statement);
        }
    }
    PolicyDocument::new(statements)
}

/// Rekognition encrypts the images with the caller's key (GenerateDataKey, also what S3
/// needs for an SSE-KMS PutObject) and decrypts them to return them from
/// GetFaceLivenessSessionResults (Decrypt). IAM cannot scope a policy to an alias, so an
/// alias becomes "any key of the account in the region that carries this alias".
fn kms_statement(
    output: &OutputSpec,
    region: &str,
    partition: &str,
    account_id: &str,
) -> Option<Statement> {
    const ACTIONS: &[&str] = &["kms:GenerateDataKey", "kms:Decrypt"];
    let key = output.kms_key_id.as_deref()?;
    let statement = if key.starts_with("arn:") && key.contains(":key/") {
        Statement::allow("UseImageKey", ACTIONS, vec![key.to_string()])
    } else if let Some(alias) = alias_name(key) {
        let key_region = key.split(':').nth(3).unwrap_or(region);
        Statement::allow(
            "UseImageKey",
            ACTIONS,
            vec![format!(
                "arn:{partition}:kms:{key_region}:{account_id}:key/*"
            )],
        )
        .when("ForAnyValue:StringEquals", "kms:ResourceAliases", &[&alias])
    } else {
        Statement::allow(
            "UseImageKey",
            ACTIONS,
            vec![format!(
                "arn:{partition}:kms:{region}:{account_id}:key/{key}"
            )],
        )
    };
    Some(statement)
}

/// `alias/x` for `alias/x` or `arn:…:alias/x`.
fn alias_name(key: &str) -> Option<String> {
    if key.starts_with("alias/") {
        Some(key.to_string())
    } else if key.starts_with("arn:") {
        key.split_once(":alias/").map(|(_, a)| format!("alias/{a}"))
    } else {
        None
    }
}

#[cfg(test)]
#[path = "aws_tests.rs"]
mod tests;
