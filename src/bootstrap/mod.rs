//! `liveness-operator bootstrap`: the two IAM objects an install needs before the chart,
//! made idempotently with the caller's (an administrator's) credentials, so nobody has to
//! copy policy JSON into the console:
//!
//! - the cluster's permissions boundary, the managed policy
//!   `/liveness-operator/<cluster>/liveness-boundary` ([`crate::plan::boundary`]). If it
//!   exists with another document (an older release's), a new default version with this
//!   release's document is created (the oldest non-default version is deleted first when
//!   IAM's limit of 5 is reached); the previous versions stay for review or rollback.
//! - the operator's IRSA role `/liveness-operator/liveness-operator-<cluster>`, trusted by
//!   the cluster's OIDC provider for `system:serviceaccount:<namespace>:<service-account>`
//!   with `aud = sts.amazonaws.com`, carrying [`crate::plan::operator::operator_policy`]
//!   inline (put back when it differs, as is the trust policy). The role sits outside the
//!   cluster's path, so the operator cannot edit its own role.
//!
//! Then it prints the `helm install` line. `--dry-run` reads (STS, GetPolicy, GetRole, …)
//! but writes nothing, and prints every document it would write. This module is the
//! plan (pure) and the report; `apply.rs` talks to IAM.

mod apply;

use sha2::{Digest, Sha256};

use crate::env::{AwsAccount, FlagProblem};
use crate::ids::OidcProvider;
use crate::names::{IAM_PATH_ROOT, IAM_ROLE_NAME_MAX};
use crate::plan::aws::{MANAGER, TAG_CLUSTER, TAG_MANAGED_BY};
use crate::plan::boundary::{BOUNDARY_POLICY_NAME, boundary_policy, boundary_policy_arn};
use crate::plan::operator::operator_policy;
use crate::plan::policy::PolicyDocument;
use crate::plan::trust::TrustPolicy;

pub use apply::{BootstrapError, run};

/// Name of the operator's inline policy on its role.
pub const OPERATOR_POLICY_NAME: &str = "liveness-operator";
/// Default namespace of the operator (the chart's release namespace).
pub const DEFAULT_NAMESPACE: &str = "liveness-system";
/// Default ServiceAccount of the operator (the chart's, for release `liveness-operator`).
pub const DEFAULT_SERVICE_ACCOUNT: &str = "liveness-operator";

/// The flags of `liveness-operator bootstrap`, as given.
#[derive(Clone, Debug)]
pub struct BootstrapFlags<'a> {
    /// `--cluster`.
    pub cluster: &'a str,
    /// `--oidc-provider`.
    pub oidc_provider: &'a str,
    /// `--namespace`.
    pub namespace: &'a str,
    /// `--service-account`.
    pub service_account: &'a str,
}

/// Checked bootstrap settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bootstrap {
    /// The cluster name the operator will run with (`clusterName` of the chart).
    pub cluster: String,
    /// The cluster's IAM OIDC provider.
    pub oidc_provider: OidcProvider,
    /// Namespace the chart is installed in.
    pub namespace: String,
    /// The operator's ServiceAccount.
    pub service_account: String,
}

/// What the account should hold after bootstrap.
#[derive(Clone, Debug)]
pub struct BootstrapPlan {
    /// The settings.
    pub bootstrap: Bootstrap,
    /// Account and partition of the caller.
    pub account: AwsAccount,
    /// ARN of the boundary policy.
    pub boundary_arn: String,
    /// The boundary document.
    pub boundary: PolicyDocument,
    /// Name of the operator's role.
    pub role_name: String,
    /// ARN of the operator's role.
    pub role_arn: String,
    /// Its trust policy (IRSA).
    pub trust: TrustPolicy,
    /// Its inline policy.
    pub operator_policy: PolicyDocument,
    /// Tags of the role and the boundary policy.
    pub tags: Vec<(String, String)>,
}

/// One thing bootstrap did, or would do with `--dry-run`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// CreatePolicy of the boundary.
    BoundaryCreated,
    /// CreatePolicyVersion (default) of the boundary; `deleted` is the version removed to
    /// stay within IAM's five.
    BoundaryUpdated {
        /// The version deleted first, if any.
        deleted: Option<String>,
    },
    /// CreateRole of the operator's role.
    RoleCreated,
    /// UpdateAssumeRolePolicy of the operator's role.
    TrustUpdated,
    /// PutRolePolicy of the operator's inline policy.
    PolicyPut,
}

/// What a run found and did.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The plan.
    pub plan: BootstrapPlan,
    /// Changes made (or, in a dry run, to be made), in order.
    pub changes: Vec<Change>,
    /// Things a reviewer should know (e.g. other policies on the operator's role).
    pub warnings: Vec<String>,
    /// Whether nothing was written.
    pub dry_run: bool,
}

fn is_dns_label(value: &str, max: usize, dots: bool) -> bool {
    let ok_char =
        |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || (dots && c == '.');
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    !value.is_empty()
        && value.len() <= max
        && value.chars().all(ok_char)
        && edge(value.chars().next())
        && edge(value.chars().last())
}

impl BootstrapFlags<'_> {
    /// Every problem of the flags at once, each naming its flag, or the settings.
    pub fn parse(&self) -> Result<Bootstrap, Vec<FlagProblem>> {
        let mut problems = Vec::new();
        if let Err(message) = crate::rules::cluster_name(self.cluster) {
            problems.push(FlagProblem {
                flag: "--cluster",
                message,
            });
        }
        let oidc = OidcProvider::parse(self.oidc_provider)
            .map_err(|e| {
                problems.push(FlagProblem {
                    flag: "--oidc-provider",
                    message: e.to_string(),
                })
            })
            .ok();
        if !is_dns_label(self.namespace, 63, false) {
            problems.push(FlagProblem {
                flag: "--namespace",
                message: format!(
                    "'{}' is not a Kubernetes namespace: use 1 to 63 of a-z, 0-9 and '-', starting and ending with a letter or digit",
                    self.namespace
                ),
            });
        }
        if !is_dns_label(self.service_account, 253, true) {
            problems.push(FlagProblem {
                flag: "--service-account",
                message: format!(
                    "'{}' is not a ServiceAccount name: use 1 to 253 of a-z, 0-9, '-' and '.', starting and ending with a letter or digit",
                    self.service_account
                ),
            });
        }
        match oidc {
            Some(oidc_provider) if problems.is_empty() => Ok(Bootstrap {
                cluster: self.cluster.into(),
                oidc_provider,
                namespace: self.namespace.into(),
                service_account: self.service_account.into(),
            }),
            _ => Err(problems),
        }
    }
}

/// `liveness-operator-<cluster>`; a cluster name too long for IAM's 64 characters is
/// shortened and given a hash of the full name, so two clusters never share a role.
pub fn operator_role_name(cluster: &str) -> String {
    let name = format!("liveness-operator-{cluster}");
    if name.len() <= IAM_ROLE_NAME_MAX {
        return name;
    }
    let hash = hex8(&Sha256::digest(cluster.as_bytes()));
    let keep = IAM_ROLE_NAME_MAX - "liveness-operator-".len() - 1 - hash.len();
    format!(
        "liveness-operator-{}-{hash}",
        cluster[..keep].trim_end_matches('-')
    )
}

fn hex8(digest: &[u8]) -> String {
    digest.iter().take(4).map(|b| format!("{b:02x}")).collect()
}

/// `arn:<partition>:iam::<account>:role/liveness-operator/liveness-operator-<cluster>`:
/// under the operator's root path, outside every cluster's path.
pub fn operator_role_arn(partition: &str, account_id: &str, cluster: &str) -> String {
    format!(
        "arn:{partition}:iam::{account_id}:role{IAM_PATH_ROOT}{}",
        operator_role_name(cluster)
    )
}

impl Bootstrap {
    /// `system:serviceaccount:<namespace>:<service-account>`.
    pub fn subject(&self) -> String {
        format!(
            "system:serviceaccount:{}:{}",
            self.namespace, self.service_account
        )
    }

    /// What `account` should hold.
    pub fn plan(&self, account: AwsAccount) -> BootstrapPlan {
        let (partition, account_id) = (&account.partition, &account.account_id);
        BootstrapPlan {
            boundary_arn: boundary_policy_arn(partition, account_id, &self.cluster),
            boundary: boundary_policy(partition, account_id),
            role_name: operator_role_name(&self.cluster),
            role_arn: operator_role_arn(partition, account_id, &self.cluster),
            trust: TrustPolicy::irsa(&self.oidc_provider, partition, account_id, &self.subject()),
            operator_policy: operator_policy(partition, account_id, &self.cluster),
            tags: vec![
                (TAG_CLUSTER.into(), self.cluster.clone()),
                (TAG_MANAGED_BY.into(), MANAGER.into()),
            ],
            bootstrap: self.clone(),
            account,
        }
    }
}

impl BootstrapPlan {
    /// The `helm install` command for this cluster, with the values the chart reads
    /// (`aws.roleArn`, `aws.oidcProvider`, `clusterName`, `serviceAccount.name`).
    pub fn helm_install(&self) -> String {
        let b = &self.bootstrap;
        let mut line = format!(
            "helm install liveness-operator charts/liveness-operator -n {} --create-namespace \\\n  \
             --set aws.roleArn={} \\\n  --set aws.oidcProvider={} \\\n  --set clusterName={}",
            b.namespace,
            self.role_arn,
            b.oidc_provider.host_path(),
            b.cluster
        );
        if b.service_account != DEFAULT_SERVICE_ACCOUNT {
            line.push_str(&format!(
                " \\\n  --set serviceAccount.name={}",
                b.service_account
            ));
        }
        line
    }
}

impl Change {
    fn describe(&self, plan: &BootstrapPlan) -> String {
        match self {
            Change::BoundaryCreated => format!(
                "create the boundary policy {BOUNDARY_POLICY_NAME} ({})",
                plan.boundary_arn
            ),
            Change::BoundaryUpdated { deleted } => format!(
                "make this release's boundary document the default version of {}{}",
                plan.boundary_arn,
                deleted
                    .as_ref()
                    .map(|v| format!(" (deleting its oldest version {v} first: IAM keeps 5)"))
                    .unwrap_or_default()
            ),
            Change::RoleCreated => format!("create the operator's role {}", plan.role_arn),
            Change::TrustUpdated => format!(
                "put back the trust policy of {} (IRSA for {})",
                plan.role_arn,
                plan.bootstrap.subject()
            ),
            Change::PolicyPut => format!(
                "put the operator's inline policy {OPERATOR_POLICY_NAME} on {}",
                plan.role_name
            ),
        }
    }
}

impl Outcome {
    /// The text `bootstrap` prints.
    pub fn report(&self) -> String {
        let plan = &self.plan;
        let mut out = format!(
            "liveness-operator bootstrap: cluster {}, account {} ({}){}\n",
            plan.bootstrap.cluster,
            plan.account.account_id,
            plan.account.partition,
            if self.dry_run {
                ", dry run: nothing is changed"
            } else {
                ""
            }
        );
        if self.changes.is_empty() {
            out.push_str("In sync: the boundary policy and the operator's role are as this release wants them.\n");
        }
        for change in &self.changes {
            let verb = if self.dry_run { "would" } else { "did" };
            out.push_str(&format!("  {verb}: {}\n", change.describe(plan)));
        }
        for warning in &self.warnings {
            out.push_str(&format!("  warning: {warning}\n"));
        }
        if self.dry_run {
            for (title, doc) in [
                (
                    format!("boundary policy {}", plan.boundary_arn),
                    &plan.boundary,
                ),
                (
                    format!("trust policy of {}", plan.role_arn),
                    plan.trust.document(),
                ),
                (
                    format!("inline policy {OPERATOR_POLICY_NAME} of {}", plan.role_name),
                    &plan.operator_policy,
                ),
            ] {
                out.push_str(&format!("\n# {title}\n{}\n", doc.to_pretty_json()));
            }
        }
        out.push_str(&format!(
            "\nInstall the chart (add --set image.repository=... for your registry):\n\n{}\n",
            plan.helm_install()
        ));
        out
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
