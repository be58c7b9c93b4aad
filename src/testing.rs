//! Builders for tests (unit tests and, through the `test-util` feature, tests/): an
//! [`OperatorEnv`] and a [`ValidatedApp`] from a spec in YAML, without a cluster or AWS.
//! Not compiled into release binaries.

use crate::crd::{LivenessApp, LivenessAppSpec};
use crate::env::{AwsAccount, EnvFlags, OperatorEnv};
use crate::validate::{ValidatedApp, validate};

/// The OIDC provider tests plan with.
pub const TEST_OIDC_PROVIDER: &str = "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE";

/// An operator environment for `cluster` in `account_id` (partition `aws`).
pub fn operator_env(cluster: &str, account_id: &str) -> OperatorEnv {
    operator_env_with(cluster, account_id, TEST_OIDC_PROVIDER, "liveness-api:test")
}

/// An operator environment with every setting given.
pub fn operator_env_with(
    cluster: &str,
    account_id: &str,
    oidc_provider: &str,
    image: &str,
) -> OperatorEnv {
    EnvFlags {
        cluster,
        oidc_provider,
        endpoint_image: image,
        extra_regions: &[],
        adoptable_pools: &[],
        allowed_output_buckets: &[],
        endpoint_trusted_proxies: &[],
        endpoint_env: &[],
    }
    .parse()
    .expect("test settings parse")
    .with_account(AwsAccount::parse(account_id, "aws").expect("test account parses"))
}

/// A LivenessApp `namespace/name` with `uid` and the spec in `spec_yaml`.
pub fn app(namespace: &str, name: &str, uid: &str, spec_yaml: &str) -> LivenessApp {
    let spec: LivenessAppSpec = serde_yaml::from_str(spec_yaml).expect("test spec parses");
    let mut app = LivenessApp::new(name, spec);
    app.metadata.namespace = Some(namespace.into());
    app.metadata.uid = Some(uid.into());
    app
}

/// The validated form of `app`; panics with the problems when it is invalid.
pub fn validated(app: &LivenessApp, env: &OperatorEnv) -> ValidatedApp {
    validate(app, env).unwrap_or_else(|problems| panic!("test app is invalid: {problems:?}"))
}
