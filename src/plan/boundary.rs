//! The permissions boundary of a cluster: a managed policy, created once at bootstrap,
//! that caps every role the operator creates. Whatever inline policy a role carries, it can
//! never do more than this boundary allows, so the operator's own credentials cannot be
//! used to mint a role with more power than Face Liveness needs.

use crate::names::iam_path;

/// Name of the boundary policy (under the cluster's IAM path).
pub const BOUNDARY_POLICY_NAME: &str = "liveness-boundary";

/// `arn:<partition>:iam::<account>:policy/liveness-operator/<cluster>/liveness-boundary`.
pub fn boundary_policy_arn(partition: &str, account_id: &str, cluster: &str) -> String {
    format!(
        "arn:{partition}:iam::{account_id}:policy{}{BOUNDARY_POLICY_NAME}",
        iam_path(cluster)
    )
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
}
