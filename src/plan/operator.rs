//! The IAM policy the operator itself needs, and nothing more.
//!
//! It lists exactly the operations [`crate::aws`] calls (a test runs a full lifecycle
//! against the emulator, counts every call and checks each one against this policy, and
//! that each action here was used). Roles are scoped to the operator's IAM path, and
//! PassRole to handing those roles to Cognito.

use crate::names::iam_path;

use super::policy::{PolicyDocument, Statement};

/// Identity pool operations on a pool (created or adopted).
pub const POOL_ACTIONS: &[&str] = &[
    "cognito-identity:DescribeIdentityPool",
    "cognito-identity:UpdateIdentityPool",
    "cognito-identity:DeleteIdentityPool",
    "cognito-identity:TagResource",
    "cognito-identity:ListTagsForResource",
    "cognito-identity:GetIdentityPoolRoles",
    "cognito-identity:SetIdentityPoolRoles",
];
/// Identity pool operations without a resource (no pool exists yet / all pools).
pub const ACCOUNT_POOL_ACTIONS: &[&str] = &[
    "cognito-identity:CreateIdentityPool",
    "cognito-identity:ListIdentityPools",
];
/// IAM operations on the operator's roles.
pub const ROLE_ACTIONS: &[&str] = &[
    "iam:GetRole",
    "iam:CreateRole",
    "iam:DeleteRole",
    "iam:TagRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:GetRolePolicy",
    "iam:PutRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:ListRolePolicies",
    "iam:ListAttachedRolePolicies",
    "iam:DetachRolePolicy",
];

/// The operator's policy for `cluster` in `account_id` of `partition`.
pub fn operator_policy(partition: &str, account_id: &str, cluster: &str) -> PolicyDocument {
    let path = iam_path(cluster);
    let roles = format!("arn:{partition}:iam::{account_id}:role{path}*");
    PolicyDocument::new(vec![
        Statement::allow(
            "IdentityPools",
            POOL_ACTIONS,
            vec![format!(
                "arn:{partition}:cognito-identity:*:{account_id}:identitypool/*"
            )],
        ),
        Statement::allow(
            "CreateAndFindIdentityPools",
            ACCOUNT_POOL_ACTIONS,
            vec!["*".into()],
        ),
        Statement::allow("OperatorRoles", ROLE_ACTIONS, vec![roles.clone()]),
        // SetIdentityPoolRoles hands the roles to Cognito: allowed for those roles only.
        Statement::allow("PassOperatorRolesToCognito", &["iam:PassRole"], vec![roles]).when(
            "StringEquals",
            "iam:PassedToService",
            &["cognito-identity.amazonaws.com"],
        ),
        Statement::allow("WhoAmI", &["sts:GetCallerIdentity"], vec!["*".into()]),
    ])
}

/// Every action the policy allows, for tests and reviews.
pub fn operator_actions() -> Vec<&'static str> {
    POOL_ACTIONS
        .iter()
        .chain(ACCOUNT_POOL_ACTIONS)
        .chain(ROLE_ACTIONS)
        .chain(&["iam:PassRole", "sts:GetCallerIdentity"])
        .copied()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_pass_role_are_scoped_to_the_operator_path() {
        let policy = operator_policy("aws", "123456789012", "prod");
        let by_sid = |sid: &str| {
            policy
                .statement
                .iter()
                .find(|s| s.sid.as_deref() == Some(sid))
                .unwrap()
        };
        let scoped = vec!["arn:aws:iam::123456789012:role/liveness-operator/prod/*".to_string()];
        assert_eq!(by_sid("OperatorRoles").resource, Some(scoped.clone()));
        let pass = by_sid("PassOperatorRolesToCognito");
        assert_eq!(pass.action, ["iam:PassRole"]);
        assert_eq!(pass.resource, Some(scoped));
        assert_eq!(
            pass.condition["StringEquals"]["iam:PassedToService"],
            ["cognito-identity.amazonaws.com"]
        );
        let all: Vec<_> = policy
            .statement
            .iter()
            .flat_map(|s| s.action.clone())
            .collect();
        assert_eq!(all, operator_actions());
        assert!(all.iter().all(|a| !a.contains('*')), "no wildcard actions");
    }
}
