//! The IAM policy the operator itself needs, and nothing more.
//!
//! It lists exactly the operations [`crate::aws`] calls (a test runs a full lifecycle
//! against the emulator, counts every call and checks each one against this policy with an
//! independent IAM evaluator, and that each action here was used). Its power is capped per
//! cluster, so the operator is safe to install in a shared account:
//!
//! - roles only under the cluster's IAM path, created and given inline policies only with
//!   the cluster's permissions boundary ([`super::boundary`]); removing or swapping a
//!   boundary, attaching a managed policy and editing the boundary policy are denied
//!   explicitly, so another policy on the operator's role cannot lift the cap;
//! - PassRole only for those roles and only to Cognito;
//! - identity pools created, tagged, changed and deleted only when tagged for the cluster.
//!
//! Actions without resource-level permissions ([`STAR_ONLY_ACTIONS`]) cannot be scoped by
//! IAM; the AWS layer guards them in code (it reads a pool's tags before
//! SetIdentityPoolRoles). `docs/threat-model.md` walks through each statement.

use crate::names::iam_path;

use super::aws::{TAG_APP, TAG_CLUSTER, TAG_MANAGED_BY, TAG_OWNER_UID};
use super::boundary::boundary_policy_arn;
use super::policy::{PolicyDocument, Statement};

/// Reads of any pool of the account (an adopted pool carries no tag of ours).
pub const POOL_READ_ACTIONS: &[&str] = &[
    "cognito-identity:DescribeIdentityPool",
    "cognito-identity:ListTagsForResource",
    "cognito-identity:GetIdentityPoolRoles",
];
/// Changes of a pool, allowed only on pools tagged for the cluster.
pub const POOL_WRITE_ACTIONS: &[&str] = &[
    "cognito-identity:UpdateIdentityPool",
    "cognito-identity:DeleteIdentityPool",
];
/// Tagging, allowed only on pools tagged for the cluster, keeping the cluster tag and
/// writing only [`POOL_TAG_KEYS`].
pub const POOL_TAG_ACTIONS: &[&str] = &["cognito-identity:TagResource"];
/// Creating a pool, allowed only when it is tagged for the cluster.
pub const POOL_CREATE_ACTIONS: &[&str] = &["cognito-identity:CreateIdentityPool"];
/// Pool operations IAM cannot scope to a pool (see [`STAR_ONLY_ACTIONS`]). The tagging
/// API finds an app's pools by their owner tag in one call; the listing is only for a pass
/// that may follow a crash (`crate::aws::KnownPool::Unrecorded`).
pub const POOL_UNSCOPED_ACTIONS: &[&str] = &[
    "cognito-identity:ListIdentityPools",
    "cognito-identity:SetIdentityPoolRoles",
    "tag:GetResources",
];
/// One read of every role's policies for the whole fleet's drift checks
/// (`crate::aws`'s shared role read): IAM cannot scope it to a path, so it returns the
/// account's authorization details; the operator keeps only its own path's roles. A
/// read, never a write: removing it from the policy makes each role be read on its own.
pub const BULK_READ_ACTIONS: &[&str] = &["iam:GetAccountAuthorizationDetails"];
/// Who the operator is (account and partition).
pub const IDENTITY_ACTIONS: &[&str] = &["sts:GetCallerIdentity"];
/// Actions AWS authorizes on `Resource: "*"` only (no resource-level permissions, by
/// AWS's service reference): IAM cannot scope them to a pool, so each one is either
/// conditioned on tags of the request (CreateIdentityPool) or guarded in code (the AWS
/// layer reads a pool's tags before SetIdentityPoolRoles, and PassRole limits the roles it
/// can link to the cluster's own).
pub const STAR_ONLY_ACTIONS: &[&str] = &[
    "cognito-identity:CreateIdentityPool",
    "cognito-identity:ListIdentityPools",
    "cognito-identity:SetIdentityPoolRoles",
    "tag:GetResources",
    "iam:GetAccountAuthorizationDetails",
    "sts:GetCallerIdentity",
];
/// Role operations allowed only with the cluster's boundary (`iam:PermissionsBoundary`):
/// on the role being created, the role whose policy changes, or the boundary being set.
pub const BOUNDED_ROLE_ACTIONS: &[&str] = &[
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:PutRolePermissionsBoundary",
];
/// The other operations on the cluster's roles (none of them can add power).
pub const ROLE_ACTIONS: &[&str] = &[
    "iam:GetRole",
    "iam:DeleteRole",
    "iam:TagRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:GetRolePolicy",
    "iam:ListRolePolicies",
    "iam:ListAttachedRolePolicies",
    "iam:DetachRolePolicy",
];
/// Denied on every resource, whatever else the operator's role may be given.
pub const DENIED_ACTIONS: &[&str] = &["iam:DeleteRolePermissionsBoundary", "iam:AttachRolePolicy"];
/// Denied on the boundary policy: nobody using the operator's credentials can change it.
pub const BOUNDARY_CHANGE_ACTIONS: &[&str] = &[
    "iam:CreatePolicyVersion",
    "iam:DeletePolicy",
    "iam:DeletePolicyVersion",
    "iam:SetDefaultPolicyVersion",
];
/// Denied unless the boundary involved is the cluster's (`StringNotEquals`; a request
/// without a boundary is denied too).
pub const OTHER_BOUNDARY_DENIED: &[&str] = &[
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "iam:PutRolePermissionsBoundary",
];
/// The tag keys the operator may write on a pool ([`crate::plan::aws`]'s tags).
pub const POOL_TAG_KEYS: &[&str] = &[TAG_OWNER_UID, TAG_APP, TAG_CLUSTER, TAG_MANAGED_BY];
/// The service the operator passes roles to.
pub const PASSED_TO_SERVICE: &str = "cognito-identity.amazonaws.com";

/// The operator's policy for `cluster` in `account_id` of `partition`.
pub fn operator_policy(partition: &str, account_id: &str, cluster: &str) -> PolicyDocument {
    let roles = vec![format!(
        "arn:{partition}:iam::{account_id}:role{}*",
        iam_path(cluster)
    )];
    let pools = vec![format!(
        "arn:{partition}:cognito-identity:*:{account_id}:identitypool/*"
    )];
    let boundary = boundary_policy_arn(partition, account_id, cluster);
    let request_tag = format!("aws:RequestTag/{TAG_CLUSTER}");
    let resource_tag = format!("aws:ResourceTag/{TAG_CLUSTER}");
    let star = || vec!["*".to_string()];
    PolicyDocument::new(vec![
        Statement::allow("ReadIdentityPools", POOL_READ_ACTIONS, pools.clone()),
        Statement::allow("ChangeThisClustersPools", POOL_WRITE_ACTIONS, pools.clone()).when(
            "StringEquals",
            &resource_tag,
            &[cluster],
        ),
        Statement::allow("TagThisClustersPools", POOL_TAG_ACTIONS, pools)
            .when("StringEquals", &resource_tag, &[cluster])
            .when("StringEquals", &request_tag, &[cluster])
            .when("ForAllValues:StringEquals", "aws:TagKeys", POOL_TAG_KEYS),
        Statement::allow(
            "CreatePoolsTaggedForThisCluster",
            POOL_CREATE_ACTIONS,
            star(),
        )
        .when("StringEquals", &request_tag, &[cluster])
        .when("ForAllValues:StringEquals", "aws:TagKeys", POOL_TAG_KEYS),
        Statement::allow(
            "PoolActionsWithoutResourceLevelPermissions",
            POOL_UNSCOPED_ACTIONS,
            star(),
        ),
        Statement::allow(
            "RolesWithThisClustersBoundary",
            BOUNDED_ROLE_ACTIONS,
            roles.clone(),
        )
        .when("StringEquals", "iam:PermissionsBoundary", &[&boundary]),
        Statement::allow("ThisClustersRoles", ROLE_ACTIONS, roles.clone()),
        Statement::allow("PassThisClustersRolesToCognito", &["iam:PassRole"], roles).when(
            "StringEquals",
            "iam:PassedToService",
            &[PASSED_TO_SERVICE],
        ),
        Statement::allow("ReadRolesInBulk", BULK_READ_ACTIONS, star()),
        Statement::allow("WhoAmI", IDENTITY_ACTIONS, star()),
        Statement::deny(
            "NeverRemoveABoundaryOrAttachAPolicy",
            DENIED_ACTIONS,
            star(),
        ),
        Statement::deny("OnlyThisClustersBoundary", OTHER_BOUNDARY_DENIED, star()).when(
            "StringNotEquals",
            "iam:PermissionsBoundary",
            &[&boundary],
        ),
        Statement::deny(
            "TheBoundaryPolicyIsFixed",
            BOUNDARY_CHANGE_ACTIONS,
            vec![boundary],
        ),
    ])
}

/// Every action the policy allows, each once, in the order of its statements.
pub fn operator_actions() -> Vec<&'static str> {
    POOL_READ_ACTIONS
        .iter()
        .chain(POOL_WRITE_ACTIONS)
        .chain(POOL_TAG_ACTIONS)
        .chain(POOL_CREATE_ACTIONS)
        .chain(POOL_UNSCOPED_ACTIONS)
        .chain(BOUNDED_ROLE_ACTIONS)
        .chain(ROLE_ACTIONS)
        .chain(&["iam:PassRole"])
        .chain(BULK_READ_ACTIONS)
        .chain(IDENTITY_ACTIONS)
        .copied()
        .collect()
}

#[cfg(test)]
#[path = "operator_tests.rs"]
mod tests;
