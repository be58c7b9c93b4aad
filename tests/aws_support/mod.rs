//! Harness of the `aws_*` tests: the real [`SdkAws`] on ministack, plus uncounted raw SDK
//! clients that play the user (editing things by hand) and the reviewer (checking what
//! AWS holds, as the console would show it).
#![allow(dead_code)]

pub mod drift;

use std::collections::BTreeMap;

use aws_sdk_cognitoidentity::Client as CognitoClient;
use aws_sdk_iam::Client as IamClient;
use liveness_operator::aws::{Calls, KnownPool, LivenessAws, Provisioned, SdkAws};
use liveness_operator::names::RoleKind;
use liveness_operator::plan::aws::{DesiredAws, PoolMode, desired_aws};
use liveness_operator::plan::policy::parse_aws_document;
use liveness_operator::plan::trust::PoolId;
use liveness_operator::testing;
use serde_json::Value;

use crate::support::testground::{self, TestGround};

/// The IRSA issuer the tests register in ministack.
pub const OIDC_ISSUER: &str = "oidc.eks.us-east-1.amazonaws.com/id/TESTGROUND";
/// Region of every test app.
pub const REGION: &str = "us-east-1";
/// A spec with every role and a user pool provider.
pub const FULL_SPEC: &str = "{region: us-east-1, identityPool: {allowUnauthenticated: true, userPool: {providerName: cognito-idp.us-east-1.amazonaws.com/us-east-1_TestPool1, clientId: testclient123}}}";

/// One test's view of AWS.
pub struct Rig {
    pub ground: &'static TestGround,
    /// The implementation under test; its calls are counted in `calls`.
    pub aws: SdkAws,
    pub calls: Calls,
    /// Uncounted clients for hand edits and checks.
    pub iam: IamClient,
    pub cognito: CognitoClient,
    /// ministack's account.
    pub account: String,
}

impl Rig {
    pub async fn new() -> Self {
        let ground = testground::ensure();
        let config = ground.aws_config().await;
        let calls = Calls::new();
        let aws = SdkAws::new(&config, calls.clone());
        let iam = IamClient::new(&config);
        let cognito = CognitoClient::from_conf(
            aws_sdk_cognitoidentity::config::Builder::from(&config)
                .region(aws_config::Region::new(REGION))
                .build(),
        );
        let account = aws
            .caller_identity()
            .await
            .expect("sts:GetCallerIdentity")
            .account_id;
        // Register the cluster's OIDC provider once, as EKS would have.
        let created = iam
            .create_open_id_connect_provider()
            .url(format!("https://{OIDC_ISSUER}"))
            .client_id_list("sts.amazonaws.com")
            .thumbprint_list("9e99a48a9960b14926bb7f3b02e22da2b0ab7280")
            .send()
            .await;
        if let Err(e) = created {
            let code = aws_sdk_iam::error::ProvideErrorMetadata::code(&e);
            assert_eq!(code, Some("EntityAlreadyExists"), "{e:?}");
        }
        Self {
            ground,
            aws,
            calls,
            iam,
            cognito,
            account,
        }
    }

    /// A fresh app (unique name and uid) with this spec.
    pub fn app(&self, spec_yaml: &str) -> DesiredAws {
        let name = testground::unique("lv");
        let uid = testground::unique("uid");
        self.app_named(spec_yaml, &name, &uid)
    }

    /// The app `name` (namespace `aws-tests`) with this uid and spec.
    pub fn app_named(&self, spec_yaml: &str, name: &str, uid: &str) -> DesiredAws {
        self.app_in_env(spec_yaml, name, uid, |_| {})
    }

    /// A fresh app planned with operator settings changed by `settings`.
    pub fn app_with(
        &self,
        spec_yaml: &str,
        settings: impl FnOnce(&mut liveness_operator::env::OperatorEnv),
    ) -> DesiredAws {
        let name = testground::unique("lv");
        let uid = testground::unique("uid");
        self.app_in_env(spec_yaml, &name, &uid, settings)
    }

    fn app_in_env(
        &self,
        spec_yaml: &str,
        name: &str,
        uid: &str,
        settings: impl FnOnce(&mut liveness_operator::env::OperatorEnv),
    ) -> DesiredAws {
        let mut env =
            testing::operator_env_with("testground", &self.account, OIDC_ISSUER, "unused");
        settings(&mut env);
        let app = testing::app("aws-tests", name, uid, spec_yaml);
        desired_aws(&testing::validated(&app, &env), &env)
    }

    /// Ids of the pools carrying the app's pool name.
    pub async fn pools_named(&self, desired: &DesiredAws) -> Vec<String> {
        crate::support::aws::pools_named(&self.cognito, &desired.pool.name).await
    }

    /// The role, if it exists.
    pub async fn role(&self, name: &str) -> Option<aws_sdk_iam::types::Role> {
        match self.iam.get_role().role_name(name).send().await {
            Ok(out) => out.role().cloned(),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_no_such_entity_exception()) =>
            {
                None
            }
            Err(e) => panic!("GetRole {name}: {e:?}"),
        }
    }

    /// Names of the roles of this app that exist.
    pub async fn existing_roles(&self, desired: &DesiredAws) -> Vec<String> {
        let mut names = Vec::new();
        for (_, name) in desired.all_role_names() {
            if self.role(&name).await.is_some() {
                names.push(name);
            }
        }
        names
    }

    /// Checks that neither the app's pool nor any of its roles is left; `when` says which
    /// deletion in the failure message.
    pub async fn assert_nothing_left(&self, desired: &DesiredAws, when: &str) {
        assert!(
            self.pools_named(desired).await.is_empty(),
            "pool left behind ({when})"
        );
        assert!(
            self.existing_roles(desired).await.is_empty(),
            "roles left behind ({when})"
        );
    }

    /// Checks, as a reviewer with the console open would, that AWS holds exactly the plan.
    pub async fn assert_converged(&self, desired: &DesiredAws, provisioned: &Provisioned) {
        let pool = PoolId::parse(&provisioned.identity_pool_id).unwrap();
        if desired.pool.mode == PoolMode::Create {
            assert_eq!(
                self.pools_named(desired).await,
                [pool.to_string()],
                "exactly one pool of the app"
            );
            let described = self
                .cognito
                .describe_identity_pool()
                .identity_pool_id(pool.as_str())
                .send()
                .await
                .unwrap();
            assert_eq!(
                described.allow_unauthenticated_identities(),
                desired.pool.allow_unauthenticated
            );
            let providers: Vec<(String, String)> = described
                .cognito_identity_providers()
                .iter()
                .map(|p| {
                    (
                        p.provider_name().unwrap_or("").to_string(),
                        p.client_id().unwrap_or("").to_string(),
                    )
                })
                .collect();
            let wanted: Vec<(String, String)> = desired
                .pool
                .providers
                .iter()
                .map(|p| (p.provider_name.clone(), p.client_id.clone()))
                .collect();
            assert_eq!(providers, wanted);
            let tags = self
                .cognito
                .list_tags_for_resource()
                .resource_arn(desired.pool_arn(&pool))
                .send()
                .await
                .unwrap();
            let tags: BTreeMap<_, _> = tags
                .tags()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .collect();
            for (k, v) in &desired.tags {
                assert_eq!(tags.get(k), Some(v), "pool tag {k}");
            }
        }
        for plan in desired.roles() {
            let role = self
                .role(&plan.name)
                .await
                .unwrap_or_else(|| panic!("{} missing", plan.name));
            assert_eq!(role.path(), "/liveness-operator/testground/");
            assert_eq!(
                role.permissions_boundary()
                    .and_then(|b| b.permissions_boundary_arn()),
                Some(plan.permissions_boundary.as_str()),
                "{} carries the cluster's boundary",
                plan.name
            );
            assert_eq!(
                plan.permissions_boundary,
                format!(
                    "arn:aws:iam::{}:policy/liveness-operator/testground/liveness-boundary",
                    self.account
                )
            );
            let trust = role.assume_role_policy_document().unwrap();
            assert!(
                plan.trust_policy(&pool).document().same_as_aws(trust),
                "trust of {}: {}",
                plan.name,
                decoded(trust)
            );
            let tags: BTreeMap<_, _> = role
                .tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect();
            for (k, v) in &desired.tags {
                assert_eq!(tags.get(k), Some(v), "tag {k} of {}", plan.name);
            }
            let inline = self
                .iam
                .list_role_policies()
                .role_name(&plan.name)
                .send()
                .await
                .unwrap();
            assert_eq!(
                inline.policy_names(),
                ["liveness"],
                "inline policies of {}",
                plan.name
            );
            let doc = self
                .iam
                .get_role_policy()
                .role_name(&plan.name)
                .policy_name("liveness")
                .send()
                .await
                .unwrap();
            assert!(
                plan.policy.same_as_aws(doc.policy_document()),
                "policy of {}",
                plan.name
            );
            let attached = self
                .iam
                .list_attached_role_policies()
                .role_name(&plan.name)
                .send()
                .await
                .unwrap();
            assert!(
                attached.attached_policies().is_empty(),
                "attached to {}",
                plan.name
            );
        }
        let links = self.links(&pool).await;
        assert_eq!(
            links.get("authenticated"),
            Some(&provisioned.client_role_arn)
        );
        assert_eq!(
            links.get("unauthenticated"),
            provisioned.guest_role_arn.as_ref()
        );
        assert_eq!(
            provisioned.guest_role_arn.is_some(),
            desired.guest_role.is_some()
        );
        if desired.guest_role.is_none() {
            let guest = desired.app.role_name(RoleKind::Guest);
            assert!(
                self.role(&guest).await.is_none(),
                "unwanted guest role {guest} exists"
            );
        }
    }

    /// The pool's role links.
    pub async fn links(&self, pool: &PoolId) -> BTreeMap<String, String> {
        let roles = self
            .cognito
            .get_identity_pool_roles()
            .identity_pool_id(pool.as_str())
            .send()
            .await
            .unwrap();
        roles
            .roles()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .collect()
    }

    /// Provisions a fresh app (its first pass) and returns its pool id.
    pub async fn provisioned_pool(&self, desired: &DesiredAws) -> String {
        self.aws
            .ensure(desired, KnownPool::FirstPass)
            .await
            .expect("a fresh app is provisioned")
            .identity_pool_id
    }

    /// Removes whatever the app left (for tests that end with objects in place).
    pub async fn tidy(&self, desired: &DesiredAws, pool: Option<&str>) {
        let mut delete = desired.clone();
        delete.deletion_policy = liveness_operator::crd::DeletionPolicy::Delete;
        self.aws
            .delete(&delete, KnownPool::from_status(pool, false))
            .await
            .expect("clean-up");
    }
}

/// A policy document as IAM returned it, decoded for assertion messages.
pub fn decoded(text: &str) -> Value {
    parse_aws_document(text).unwrap_or(Value::Null)
}
