//! The text of `liveness-operator plan`: a LivenessApp's AWS objects (policy JSON
//! included) and Kubernetes objects as one YAML stream, computed offline for review in a
//! GitOps pull request. Values only AWS can know are placeholders.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::crd::{DeletionPolicy, LivenessApp};
use crate::env::{AwsAccount, EnvFlags, FlagProblem, OperatorEnv};
use crate::validate::{PoolMode, validate};

use super::aws::{DesiredAws, RolePlan, desired_aws};
use super::boundary::boundary_policy;
use super::keys::{KeyMaterial, SESSION_KEY, SIGNING_KEYS};
use super::kube::{AwsIds, desired_kube};
use super::operator::operator_policy;
use super::route::RouteObject;
use super::trust::PoolId;

/// Account id used when `--account-id` is not given (AWS's documentation account).
pub const EXAMPLE_ACCOUNT_ID: &str = "123456789012";
/// Stands for the LivenessApp's uid, which only the apiserver assigns.
pub const UID_PLACEHOLDER: &str = "<uid>";

/// Flags of `liveness-operator plan`.
#[derive(Clone, Debug)]
pub struct PlanOptions {
    /// Account the operator runs in.
    pub account_id: String,
    /// AWS partition.
    pub partition: String,
    /// Operator's cluster name.
    pub cluster: String,
    /// The cluster's IAM OIDC provider; `None` shows an EXAMPLE provider of the region.
    pub oidc_provider: Option<String>,
    /// Endpoint image.
    pub image: String,
    /// Regions accepted beyond the built-in list.
    pub extra_regions: Vec<String>,
}

/// Why nothing could be planned.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The file is not a LivenessApp.
    #[error("not a LivenessApp: {0}")]
    Parse(#[from] serde_yaml::Error),
    /// The LivenessApp is invalid; one line per problem.
    #[error("the LivenessApp is invalid:\n{0}")]
    Invalid(String),
    /// A flag of `plan` is unusable; one line per problem.
    #[error("invalid flags:\n{0}")]
    Flags(String),
}

fn lines(items: impl IntoIterator<Item = impl std::fmt::Display>) -> String {
    let lines: Vec<String> = items.into_iter().map(|p| format!("  {p}")).collect();
    lines.join("\n")
}

impl PlanOptions {
    /// The operator environment these flags describe (`region` picks the EXAMPLE OIDC
    /// provider when none is given).
    pub fn env(&self, region: &str) -> Result<OperatorEnv, Vec<FlagProblem>> {
        let oidc = self
            .oidc_provider
            .clone()
            .unwrap_or_else(|| format!("oidc.eks.{region}.amazonaws.com/id/EXAMPLE"));
        let flags = EnvFlags {
            cluster: &self.cluster,
            oidc_provider: &oidc,
            endpoint_image: &self.image,
            extra_regions: &self.extra_regions,
            adoptable_pools: &[],
            allowed_output_buckets: &[],
            endpoint_trusted_proxies: &[],
            endpoint_env: &[],
        };
        let account = AwsAccount::parse(&self.account_id, &self.partition);
        match (flags.parse(), account) {
            (Ok(parsed), Ok(account)) => Ok(parsed.with_account(account)),
            (parsed, account) => Err(parsed
                .err()
                .into_iter()
                .chain(account.err())
                .flatten()
                .collect()),
        }
    }
}

/// Renders the plan of the LivenessApp in `yaml`.
pub fn render_plan(yaml: &str, options: &PlanOptions) -> Result<String, RenderError> {
    let mut app: LivenessApp = serde_yaml::from_str(yaml)?;
    let meta = &mut app.metadata;
    meta.namespace.get_or_insert_with(|| "default".into());
    meta.uid.get_or_insert_with(|| UID_PLACEHOLDER.into());
    let env = options
        .env(&app.spec.region)
        .map_err(|problems| RenderError::Flags(lines(problems)))?;
    let app = validate(&app, &env).map_err(|problems| RenderError::Invalid(lines(problems)))?;
    let desired = desired_aws(&app, &env);
    let pool_id = match &desired.pool.mode {
        PoolMode::Adopt(id) => id.clone(),
        PoolMode::Create => PoolId::placeholder(),
    };
    // Key material is made when the app is applied and never printed.
    let placeholder_keys = KeyMaterial {
        session_key: Vec::new(),
        signing_keys: Vec::new(),
        rotated_at: k8s_openapi::jiff::Timestamp::UNIX_EPOCH,
    };
    let mut kube = desired_kube(
        &app,
        &env,
        AwsIds {
            identity_pool_id: pool_id.as_str(),
            backend_role_arn: &desired.backend_role.arn,
        },
        &placeholder_keys,
    );
    kube.keys.data = None;
    kube.keys.string_data = Some(
        [SESSION_KEY, SIGNING_KEYS]
            .map(|k| (k.to_string(), "<made when the app is applied>".to_string()))
            .into(),
    );
    let (namespace, name) = (&app.identity.namespace, &app.identity.name);
    let mut out = format!(
        "# liveness-operator plan for LivenessApp {namespace}/{name}\n\
         # Offline: account {}, cluster {}, OIDC provider {}.\n\
         # <identity-pool-id> and <uid> are assigned when the app is applied.\n",
        options.account_id,
        options.cluster,
        env.oidc_provider.host_path()
    );
    out.push_str("---\n# AWS objects (for review; not a Kubernetes object)\n");
    out.push_str(&to_yaml(&aws_view(&desired, &pool_id)));
    for object in [
        to_yaml(&kube.keys),
        to_yaml(&kube.service_account),
        to_yaml(&kube.config_map),
        to_yaml(&kube.deployment),
        to_yaml(&kube.service),
    ]
    .into_iter()
    .chain(kube.route.as_ref().map(|route| match route {
        RouteObject::Ingress(ingress) => to_yaml(ingress),
        RouteObject::HttpRoute(route) => to_yaml(route),
    })) {
        out.push_str("---\n");
        out.push_str(&object);
    }
    Ok(out)
}

/// The flags of `plan --operator-policy` / `--boundary-policy`, checked: the account and
/// partition by [`AwsAccount::parse`], the cluster by [`crate::rules::cluster_name`].
pub fn policy_flags(
    account_id: &str,
    partition: &str,
    cluster: &str,
) -> Result<AwsAccount, RenderError> {
    let account = AwsAccount::parse(account_id, partition);
    let cluster = crate::rules::cluster_name(cluster).map_err(|message| {
        vec![FlagProblem {
            flag: "--cluster",
            message,
        }]
    });
    match (account, cluster) {
        (Ok(account), Ok(_)) => Ok(account),
        (account, cluster) => Err(RenderError::Flags(lines(
            account.err().into_iter().chain(cluster.err()).flatten(),
        ))),
    }
}

/// The operator's own IAM policy as indented JSON.
pub fn render_operator_policy(partition: &str, account_id: &str, cluster: &str) -> String {
    let mut json = operator_policy(partition, account_id, cluster).to_pretty_json();
    json.push('\n');
    json
}

/// The cluster's permissions boundary (the managed policy every role of the operator must
/// carry) as indented JSON.
pub fn render_boundary_policy(partition: &str, account_id: &str) -> String {
    let mut json = boundary_policy(partition, account_id).to_pretty_json();
    json.push('\n');
    json
}

fn to_yaml(value: &impl Serialize) -> String {
    serde_yaml::to_string(value).expect("plan objects serialize")
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AwsView {
    region: String,
    account_id: String,
    deletion_policy: DeletionPolicy,
    identity_pool: PoolView,
    roles: Vec<RoleView>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PoolView {
    action: &'static str,
    id: String,
    arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    allow_unauthenticated_identities: bool,
    cognito_identity_providers: Vec<BTreeMap<&'static str, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<BTreeMap<String, String>>,
    roles: BTreeMap<&'static str, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RoleView {
    kind: &'static str,
    name: String,
    path: String,
    arn: String,
    tags: BTreeMap<String, String>,
    trust_policy: String,
    inline_policies: BTreeMap<&'static str, String>,
}

fn aws_view(desired: &DesiredAws, pool_id: &PoolId) -> AwsView {
    let created = desired.pool.mode == PoolMode::Create;
    let mut links = BTreeMap::from([("authenticated", desired.client_role.arn.clone())]);
    if let Some(guest) = &desired.guest_role {
        links.insert("unauthenticated", guest.arn.clone());
    }
    let role = |role: &RolePlan| RoleView {
        kind: role.kind.as_str(),
        name: role.name.clone(),
        path: role.path.clone(),
        arn: role.arn.clone(),
        tags: desired.tags.clone(),
        trust_policy: role.trust_policy(pool_id).document().to_pretty_json(),
        inline_policies: BTreeMap::from([(role.policy_name, role.policy.to_pretty_json())]),
    };
    AwsView {
        region: desired.region.clone(),
        account_id: desired.account_id.clone(),
        deletion_policy: desired.deletion_policy,
        identity_pool: PoolView {
            action: if created { "create" } else { "adopt" },
            id: pool_id.to_string(),
            arn: desired.pool_arn(pool_id),
            name: created.then(|| desired.pool.name.clone()),
            allow_unauthenticated_identities: desired.pool.allow_unauthenticated,
            cognito_identity_providers: desired
                .pool
                .providers
                .iter()
                .map(|p| {
                    BTreeMap::from([
                        ("providerName", p.provider_name.clone()),
                        ("clientId", p.client_id.clone()),
                    ])
                })
                .collect(),
            tags: created.then(|| desired.tags.clone()),
            roles: links,
        },
        roles: desired.roles().map(role).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> PlanOptions {
        PlanOptions {
            account_id: EXAMPLE_ACCOUNT_ID.into(),
            partition: "aws".into(),
            cluster: "default".into(),
            oidc_provider: None,
            image: "liveness-api:test".into(),
            extra_regions: vec![],
        }
    }

    const APP: &str = "apiVersion: faceliveness.dev/v1alpha1\nkind: LivenessApp\nmetadata: {name: onboarding, namespace: web}\nspec: {region: us-east-1, identityPool: {allowUnauthenticated: true}, endpoint: {auth: {mode: none}}}\n";

    #[test]
    fn plan_shows_policies_as_json_and_every_kubernetes_object() {
        let text = render_plan(APP, &options()).unwrap();
        let docs: Vec<serde_yaml::Value> = serde_yaml::Deserializer::from_str(&text)
            .map(|d| serde::Deserialize::deserialize(d).unwrap())
            .collect();
        assert_eq!(docs.len(), 6);
        let aws = &docs[0];
        assert_eq!(aws["identityPool"]["action"].as_str(), Some("create"));
        assert_eq!(
            aws["identityPool"]["id"].as_str(),
            Some("<identity-pool-id>")
        );
        let roles = aws["roles"].as_sequence().unwrap();
        assert_eq!(roles.len(), 3);
        let trust: serde_json::Value =
            serde_json::from_str(roles[0]["trustPolicy"].as_str().unwrap()).unwrap();
        assert_eq!(
            trust["Statement"][0]["Condition"]["StringEquals"]["cognito-identity.amazonaws.com:aud"]
                [0],
            "<identity-pool-id>"
        );
        let inline: serde_json::Value =
            serde_json::from_str(roles[0]["inlinePolicies"]["liveness"].as_str().unwrap()).unwrap();
        assert_eq!(
            inline["Statement"][0]["Action"][0],
            "rekognition:StartFaceLivenessSession"
        );
        // The key Secret is shown, its material never: it is made when applied.
        assert_eq!(docs[1]["kind"].as_str(), Some("Secret"));
        assert!(docs[1].get("data").is_none());
        assert_eq!(
            docs[1]["stringData"]["session-key"].as_str(),
            Some("<made when the app is applied>")
        );
        let kinds: Vec<_> = docs[2..]
            .iter()
            .map(|d| d["kind"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            kinds,
            ["ServiceAccount", "ConfigMap", "Deployment", "Service"]
        );
        assert_eq!(
            docs[2]["metadata"]["ownerReferences"][0]["uid"].as_str(),
            Some("<uid>")
        );
        assert!(text.contains(
            "arn:aws:iam::123456789012:role/liveness-operator/default/lv-web-onboarding-"
        ));
        assert!(text.contains("oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE"));
    }

    #[test]
    fn an_invalid_app_is_refused_with_every_problem() {
        let bad = APP.replace("us-east-1", "mars-north-1");
        let err = render_plan(&bad, &options()).unwrap_err().to_string();
        assert!(err.contains("spec.region"), "{err}");
    }

    #[test]
    fn operator_policy_is_valid_json_for_the_given_account() {
        let text = render_operator_policy("aws", "111122223333", "default");
        let policy: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(policy["Version"], "2012-10-17");
        assert!(text.contains("arn:aws:iam::111122223333:role/liveness-operator/default/*"));
        assert!(text.contains(
            "arn:aws:iam::111122223333:policy/liveness-operator/default/liveness-boundary"
        ));
    }

    #[test]
    fn boundary_policy_is_the_boundary_document_as_json() {
        let text = render_boundary_policy("aws-cn", "111122223333");
        let policy: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            policy,
            serde_json::to_value(boundary_policy("aws-cn", "111122223333")).unwrap()
        );
    }

    #[test]
    fn policy_flags_name_every_bad_flag() {
        let err = policy_flags("1234", "azure", "Prod_1")
            .unwrap_err()
            .to_string();
        for flag in ["--account-id", "--partition", "--cluster"] {
            assert!(err.contains(flag), "{err}");
        }
        assert_eq!(
            policy_flags("111122223333", "aws-us-gov", "prod").unwrap(),
            AwsAccount {
                account_id: "111122223333".into(),
                partition: "aws-us-gov".into()
            }
        );
    }
}
