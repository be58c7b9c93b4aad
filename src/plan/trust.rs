//! Trust policies, built so that an unsafe one cannot be written.
//!
//! A role trusting `cognito-identity.amazonaws.com` without the
//! `cognito-identity.amazonaws.com:aud` condition can be assumed with a token from *any*
//! identity pool in any account. [`TrustPolicy`] therefore has a private field and only
//! two constructors: [`TrustPolicy::cognito`] (needs a [`PoolId`], which only exists once
//! the pool does) and [`TrustPolicy::irsa`]; both always carry their `aud` condition. The
//! IAM layer accepts only `TrustPolicy` for CreateRole / UpdateAssumeRolePolicy.
//!
//! ```compile_fail
//! use liveness_operator::plan::{policy::PolicyDocument, trust::TrustPolicy};
//! let _ = TrustPolicy(PolicyDocument::new(vec![])); // private: does not compile
//! ```

use super::policy::{Effect, PolicyDocument, Statement};
pub use crate::ids::{InvalidOidcProvider, InvalidPoolId, OidcProvider, PoolId};

/// Service principal of Cognito identity pools.
pub const COGNITO_IDENTITY: &str = "cognito-identity.amazonaws.com";
/// The web-identity assume action used by identity pools and IRSA.
pub const ASSUME_WEB_IDENTITY: &str = "sts:AssumeRoleWithWebIdentity";
/// Audience of IRSA tokens.
pub const STS_AUDIENCE: &str = "sts.amazonaws.com";

/// Which identities of the pool a Cognito-trusted role is for (`amr` claim).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Amr {
    /// Signed-in identities.
    Authenticated,
    /// Guest identities.
    Unauthenticated,
}

impl Amr {
    /// The claim value.
    pub fn as_str(self) -> &'static str {
        match self {
            Amr::Authenticated => "authenticated",
            Amr::Unauthenticated => "unauthenticated",
        }
    }
}

/// A role trust policy that always restricts its audience. See the module docs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustPolicy(PolicyDocument);

impl TrustPolicy {
    /// Identities of exactly this pool, authenticated or guest, may assume the role.
    pub fn cognito(pool: &PoolId, amr: Amr) -> Self {
        let statement = Statement {
            sid: Some("IdentityPool".into()),
            effect: Effect::Allow,
            principal: Some([("Federated".into(), vec![COGNITO_IDENTITY.into()])].into()),
            action: vec![ASSUME_WEB_IDENTITY.into()],
            resource: None,
            condition: Default::default(),
        }
        .when(
            "StringEquals",
            "cognito-identity.amazonaws.com:aud",
            &[pool.as_str()],
        )
        .when(
            "ForAnyValue:StringLike",
            "cognito-identity.amazonaws.com:amr",
            &[amr.as_str()],
        );
        Self(PolicyDocument::new(vec![statement]))
    }

    /// Pods running as `service_account_subject` (`system:serviceaccount:<ns>:<sa>`) in
    /// the cluster of `provider` may assume the role.
    pub fn irsa(
        provider: &OidcProvider,
        partition: &str,
        account_id: &str,
        service_account_subject: &str,
    ) -> Self {
        let host = provider.host_path();
        let statement = Statement {
            sid: Some("EndpointServiceAccount".into()),
            effect: Effect::Allow,
            principal: Some(
                [(
                    "Federated".into(),
                    vec![provider.arn(partition, account_id)],
                )]
                .into(),
            ),
            action: vec![ASSUME_WEB_IDENTITY.into()],
            resource: None,
            condition: Default::default(),
        }
        .when(
            "StringEquals",
            &format!("{host}:sub"),
            &[service_account_subject],
        )
        .when("StringEquals", &format!("{host}:aud"), &[STS_AUDIENCE]);
        Self(PolicyDocument::new(vec![statement]))
    }

    /// The document to send to IAM.
    pub fn document(&self) -> &PolicyDocument {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_ids_must_look_like_region_colon_uuid() {
        assert!(PoolId::parse("us-east-1:0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9").is_ok());
        for bad in [
            "",
            "us-east-1",
            "us-east-1:",
            ":abc",
            "us-east-1:xyz",
            "US:ab",
        ] {
            assert!(PoolId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn oidc_provider_accepts_issuer_url_and_builds_its_arn() {
        let p =
            OidcProvider::parse("https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE/").unwrap();
        assert_eq!(p.host_path(), "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE");
        assert_eq!(
            p.arn("aws", "123456789012"),
            "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE"
        );
        assert!(OidcProvider::parse("").is_err());
        assert!(OidcProvider::parse("https://").is_err());
        assert!(OidcProvider::parse("a b").is_err());
    }
}
