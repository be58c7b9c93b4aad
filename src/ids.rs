//! Identifiers parsed once, at the edge where they enter (a spec, a flag, an AWS answer),
//! so code that holds one knows it is well formed: an identity pool id and the cluster's
//! IAM OIDC provider. The validation, the operator's settings and the plan all use these
//! types; none of them re-checks the text.

use std::fmt;

/// An identity pool id, `<region>:<uuid>`. Exists only for a pool that exists (parsed from
/// AWS or from `existingPoolId`) or as the offline-plan placeholder.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PoolId(String);

/// Text that is not an identity pool id.
#[derive(Debug, thiserror::Error)]
#[error("'{0}' is not an identity pool id (<region>:<uuid>)")]
pub struct InvalidPoolId(pub String);

impl PoolId {
    /// Parses `<region>:<uuid>` by [`crate::rules::identity_pool_id`].
    pub fn parse(id: &str) -> Result<Self, InvalidPoolId> {
        crate::rules::identity_pool_id(id)
            .map(|id| Self(id.to_string()))
            .map_err(|_| InvalidPoolId(id.to_string()))
    }

    /// `<identity-pool-id>`: stands for the id AWS will assign, in offline plans only.
    pub fn placeholder() -> Self {
        Self("<identity-pool-id>".into())
    }

    /// The id as AWS writes it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PoolId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The cluster's IAM OIDC provider for IRSA, e.g.
/// `oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE` (no scheme).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OidcProvider {
    host_path: String,
}

/// Text that is not an OIDC provider.
#[derive(Debug, thiserror::Error)]
#[error(
    "'{0}' is not an IAM OIDC provider: use the issuer without https://, e.g. oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
)]
pub struct InvalidOidcProvider(pub String);

impl OidcProvider {
    /// Accepts the issuer with or without `https://` and a trailing `/`.
    pub fn parse(issuer: &str) -> Result<Self, InvalidOidcProvider> {
        let host_path = issuer
            .trim()
            .trim_start_matches("https://")
            .trim_end_matches('/');
        let valid = !host_path.is_empty()
            && host_path.contains('.')
            && !host_path.contains("://")
            && host_path
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "./-_".contains(c));
        if valid {
            Ok(Self {
                host_path: host_path.to_string(),
            })
        } else {
            Err(InvalidOidcProvider(issuer.to_string()))
        }
    }

    /// Issuer without scheme; the prefix of its condition keys.
    pub fn host_path(&self) -> &str {
        &self.host_path
    }

    /// `arn:<partition>:iam::<account>:oidc-provider/<host/path>`.
    pub fn arn(&self, partition: &str, account_id: &str) -> String {
        format!(
            "arn:{partition}:iam::{account_id}:oidc-provider/{}",
            self.host_path
        )
    }
}
