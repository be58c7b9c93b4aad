//! The permissions boundary of a cluster: a managed policy, created once at bootstrap,
//! that caps every role the operator creates. Whatever inline policy a role carries, it can
//! never do more than this boundary allows, so the operator's own credentials cannot be
//! used to mint a role with more power than Face Liveness needs.
//!
//! The operator's policy ([`super::operator`]) allows CreateRole and PutRolePolicy only
//! with this boundary, and denies removing or swapping it; `tests/iam_policies.rs` checks
//! both with an independent IAM evaluator.

use crate::names::iam_path;

use super::policy::{PolicyDocument, Statement};

/// Name of the boundary policy (under the cluster's IAM path).
pub const BOUNDARY_POLICY_NAME: &str = "liveness-boundary";

/// The three Face Liveness actions, the most any role of an app may ever do in
/// Rekognition. They have no resource-level permissions (`Resource: "*"` only).
pub const LIVENESS_ACTIONS: &[&str] = &[
    "rekognition:StartFaceLivenessSession",
    "rekognition:CreateFaceLivenessSession",
    "rekognition:GetFaceLivenessSessionResults",
];
/// What the backend needs to write audit images to S3, encrypted with a KMS key.
pub const AUDIT_IMAGE_ACTIONS: &[&str] = &["s3:PutObject"];
/// KMS use of the backend when a key is configured.
pub const KMS_ACTIONS: &[&str] = &["kms:GenerateDataKey", "kms:Decrypt"];

/// `arn:<partition>:iam::<account>:policy/liveness-operator/<cluster>/liveness-boundary`.
pub fn boundary_policy_arn(partition: &str, account_id: &str, cluster: &str) -> String {
    format!(
        "arn:{partition}:iam::{account_id}:policy{}{BOUNDARY_POLICY_NAME}",
        iam_path(cluster)
    )
}

/// The boundary document: the liveness actions anywhere, `s3:PutObject` only into
/// buckets of `account_id` (`s3:ResourceAccount`), and the KMS actions only on keys of
/// `account_id`. It does not depend on the cluster, only its ARN does.
pub fn boundary_policy(partition: &str, account_id: &str) -> PolicyDocument {
    PolicyDocument::new(vec![
        Statement::allow("FaceLiveness", LIVENESS_ACTIONS, vec!["*".into()]),
        Statement::allow(
            "AuditImagesInThisAccount",
            AUDIT_IMAGE_ACTIONS,
            vec![format!("arn:{partition}:s3:::*/*")],
        )
        .when("StringEquals", "s3:ResourceAccount", &[account_id]),
        Statement::allow(
            "KeysOfThisAccount",
            KMS_ACTIONS,
            vec![format!("arn:{partition}:kms:*:{account_id}:key/*")],
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_boundary_lives_under_the_cluster_path() {
        assert_eq!(
            boundary_policy_arn("aws-cn", "111122223333", "prod"),
            "arn:aws-cn:iam::111122223333:policy/liveness-operator/prod/liveness-boundary"
        );
    }

    #[test]
    fn the_boundary_allows_liveness_and_in_account_s3_and_kms_only() {
        let policy = boundary_policy("aws-cn", "111122223333");
        let json = serde_json::to_value(&policy).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "FaceLiveness",
                        "Effect": "Allow",
                        "Action": [
                            "rekognition:StartFaceLivenessSession",
                            "rekognition:CreateFaceLivenessSession",
                            "rekognition:GetFaceLivenessSessionResults"
                        ],
                        "Resource": ["*"]
                    },
                    {
                        "Sid": "AuditImagesInThisAccount",
                        "Effect": "Allow",
                        "Action": ["s3:PutObject"],
                        "Resource": ["arn:aws-cn:s3:::*/*"],
                        "Condition": {"StringEquals": {"s3:ResourceAccount": ["111122223333"]}}
                    },
                    {
                        "Sid": "KeysOfThisAccount",
                        "Effect": "Allow",
                        "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                        "Resource": ["arn:aws-cn:kms:*:111122223333:key/*"]
                    }
                ]
            })
        );
    }

    #[test]
    fn the_boundary_only_allows_and_never_uses_wildcard_actions() {
        let policy = boundary_policy("aws", "111122223333");
        for statement in &policy.statement {
            assert!(statement.allows(), "{:?}", statement.sid);
            assert!(statement.action.iter().all(|a| !a.contains('*')));
        }
    }
}
