//! The IAM side of bootstrap: read what exists, decide the [`Change`]s, and (unless it is
//! a dry run) make them. Every write follows a read that showed it is needed, so a second
//! run changes nothing.

use aws_config::SdkConfig;
use aws_sdk_iam::Client;
use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_iam::types::Tag;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use crate::env::AwsAccount;
use crate::names::IAM_PATH_ROOT;
use crate::plan::boundary::BOUNDARY_POLICY_NAME;
use crate::plan::policy::PolicyDocument;

use super::{Bootstrap, BootstrapPlan, Change, OPERATOR_POLICY_NAME, Outcome};

/// IAM keeps at most this many versions of a managed policy.
const MAX_POLICY_VERSIONS: usize = 5;

/// A call bootstrap could not make.
#[derive(Debug, thiserror::Error)]
#[error("{operation} on {resource}: {message}")]
pub struct BootstrapError {
    /// The IAM action, e.g. `iam:CreatePolicy`.
    pub operation: String,
    /// ARN or name the call was about.
    pub resource: String,
    /// What went wrong and what to do.
    pub message: String,
}

impl BootstrapError {
    fn new(operation: &str, resource: &str, message: String) -> Self {
        Self {
            operation: operation.into(),
            resource: resource.into(),
            message,
        }
    }
}

fn sdk<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
    operation: &'static str,
    resource: &str,
) -> impl FnOnce(SdkError<E, HttpResponse>) -> BootstrapError {
    let resource = resource.to_string();
    move |err| {
        let code = err.code().unwrap_or("").to_string();
        let detail = err
            .message()
            .map(str::to_string)
            .unwrap_or_else(|| format!("{err:?}"));
        let message = if code.starts_with("AccessDenied") {
            format!(
                "your credentials may not call {operation}: run bootstrap as an administrator of \
                 the account (it creates a managed policy and a role). AWS said: {detail}"
            )
        } else {
            format!("AWS refused it ({code}): {detail}")
        };
        BootstrapError::new(operation, &resource, message)
    }
}

fn is_not_found<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    err.code() == Some("NoSuchEntity")
}

fn tags(plan: &BootstrapPlan) -> Vec<Tag> {
    plan.tags
        .iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .expect("key and value set")
        })
        .collect()
}

/// Runs bootstrap with the credentials of `config`: the account and partition come from
/// STS; with `dry_run` only reads are made.
pub async fn run(
    bootstrap: &Bootstrap,
    config: &SdkConfig,
    dry_run: bool,
) -> Result<Outcome, BootstrapError> {
    let sts = aws_sdk_sts::Client::new(config);
    let identity = crate::aws::identity::caller_identity(&sts)
        .await
        .map_err(|e| BootstrapError::new("sts:GetCallerIdentity", "*", e.to_string()))?;
    let plan = bootstrap.plan(AwsAccount {
        account_id: identity.account_id,
        partition: identity.partition,
    });
    let iam = Client::new(config);
    let mut changes = boundary_changes(&iam, &plan).await?;
    let (role_changes, warnings) = role_changes(&iam, &plan).await?;
    changes.extend(role_changes);
    if !dry_run {
        for change in &changes {
            apply(&iam, &plan, change).await?;
        }
    }
    Ok(Outcome {
        plan,
        changes,
        warnings,
        dry_run,
    })
}

/// The boundary's document as IAM holds it (default version), `None` when it is missing.
async fn boundary_changes(
    iam: &Client,
    plan: &BootstrapPlan,
) -> Result<Vec<Change>, BootstrapError> {
    let arn = &plan.boundary_arn;
    let policy = match iam.get_policy().policy_arn(arn).send().await {
        Ok(out) => out.policy().cloned(),
        Err(e) if is_not_found(&e) => None,
        Err(e) => return Err(sdk("iam:GetPolicy", arn)(e)),
    };
    let Some(policy) = policy else {
        return Ok(vec![Change::BoundaryCreated]);
    };
    let default = policy.default_version_id().unwrap_or("v1");
    let version = iam
        .get_policy_version()
        .policy_arn(arn)
        .version_id(default)
        .send()
        .await
        .map_err(sdk("iam:GetPolicyVersion", arn))?;
    let document = version
        .policy_version()
        .and_then(|v| v.document())
        .unwrap_or("");
    if plan.boundary.same_as_aws(document) {
        return Ok(vec![]);
    }
    let versions = iam
        .list_policy_versions()
        .policy_arn(arn)
        .send()
        .await
        .map_err(sdk("iam:ListPolicyVersions", arn))?;
    let mut old: Vec<(u64, String)> = versions
        .versions()
        .iter()
        .filter(|v| !v.is_default_version())
        .filter_map(|v| v.version_id())
        .map(|id| {
            (
                id.trim_start_matches('v').parse().unwrap_or(0),
                id.to_string(),
            )
        })
        .collect();
    old.sort();
    let deleted = (versions.versions().len() >= MAX_POLICY_VERSIONS)
        .then(|| old.first().map(|(_, id)| id.clone()))
        .flatten();
    Ok(vec![Change::BoundaryUpdated { deleted }])
}

/// What the operator's role needs, and warnings about anything else it carries.
async fn role_changes(
    iam: &Client,
    plan: &BootstrapPlan,
) -> Result<(Vec<Change>, Vec<String>), BootstrapError> {
    let name = &plan.role_name;
    let role = match iam.get_role().role_name(name).send().await {
        Ok(out) => out.role().cloned(),
        Err(e) if is_not_found(&e) => None,
        Err(e) => return Err(sdk("iam:GetRole", name)(e)),
    };
    let Some(role) = role else {
        return Ok((vec![Change::RoleCreated, Change::PolicyPut], vec![]));
    };
    if role.path() != IAM_PATH_ROOT {
        return Err(BootstrapError::new(
            "iam:GetRole",
            role.arn(),
            format!(
                "a role named {name} exists on path {} instead of {IAM_PATH_ROOT}: it is not the \
                 one bootstrap made; delete or rename it, or pick another --cluster",
                role.path()
            ),
        ));
    }
    let mut changes = Vec::new();
    let trust = role.assume_role_policy_document().unwrap_or("");
    if !plan.trust.document().same_as_aws(trust) {
        changes.push(Change::TrustUpdated);
    }
    let inline = iam
        .list_role_policies()
        .role_name(name)
        .send()
        .await
        .map_err(sdk("iam:ListRolePolicies", name))?;
    let ours = if inline
        .policy_names()
        .iter()
        .any(|p| p == OPERATOR_POLICY_NAME)
    {
        let out = iam
            .get_role_policy()
            .role_name(name)
            .policy_name(OPERATOR_POLICY_NAME)
            .send()
            .await
            .map_err(sdk("iam:GetRolePolicy", name))?;
        plan.operator_policy.same_as_aws(out.policy_document())
    } else {
        false
    };
    if !ours {
        changes.push(Change::PolicyPut);
    }
    let mut warnings: Vec<String> = inline
        .policy_names()
        .iter()
        .filter(|p| *p != OPERATOR_POLICY_NAME)
        .map(|p| extra_power(name, &format!("inline policy {p}")))
        .collect();
    let attached = iam
        .list_attached_role_policies()
        .role_name(name)
        .send()
        .await
        .map_err(sdk("iam:ListAttachedRolePolicies", name))?;
    warnings.extend(attached.attached_policies().iter().map(|p| {
        extra_power(
            name,
            &format!("managed policy {}", p.policy_arn().unwrap_or("?")),
        )
    }));
    Ok((changes, warnings))
}

fn extra_power(role: &str, what: &str) -> String {
    format!(
        "{role} also carries {what}: the operator may then do more than its policy allows \
         (its explicit denies still hold); bootstrap leaves it, remove it unless you mean it"
    )
}

async fn apply(iam: &Client, plan: &BootstrapPlan, change: &Change) -> Result<(), BootstrapError> {
    let path = crate::names::iam_path(&plan.bootstrap.cluster);
    let (arn, name) = (&plan.boundary_arn, &plan.role_name);
    let json = |doc: &PolicyDocument| doc.to_json();
    match change {
        Change::BoundaryCreated => {
            iam.create_policy()
                .policy_name(BOUNDARY_POLICY_NAME)
                .path(&path)
                .policy_document(json(&plan.boundary))
                .description(format!(
                    "liveness-operator: permissions boundary of every role of cluster {}",
                    plan.bootstrap.cluster
                ))
                .set_tags(Some(tags(plan)))
                .send()
                .await
                .map_err(sdk("iam:CreatePolicy", arn))?;
        }
        Change::BoundaryUpdated { deleted } => {
            if let Some(version) = deleted {
                iam.delete_policy_version()
                    .policy_arn(arn)
                    .version_id(version)
                    .send()
                    .await
                    .map_err(sdk("iam:DeletePolicyVersion", arn))?;
            }
            iam.create_policy_version()
                .policy_arn(arn)
                .policy_document(json(&plan.boundary))
                .set_as_default(true)
                .send()
                .await
                .map_err(sdk("iam:CreatePolicyVersion", arn))?;
        }
        Change::RoleCreated => {
            iam.create_role()
                .role_name(name)
                .path(IAM_PATH_ROOT)
                .assume_role_policy_document(json(plan.trust.document()))
                .description(format!(
                    "liveness-operator of cluster {} (IRSA: {})",
                    plan.bootstrap.cluster,
                    plan.bootstrap.subject()
                ))
                .set_tags(Some(tags(plan)))
                .send()
                .await
                .map_err(sdk("iam:CreateRole", name))?;
        }
        Change::TrustUpdated => {
            iam.update_assume_role_policy()
                .role_name(name)
                .policy_document(json(plan.trust.document()))
                .send()
                .await
                .map_err(sdk("iam:UpdateAssumeRolePolicy", name))?;
        }
        Change::PolicyPut => {
            iam.put_role_policy()
                .role_name(name)
                .policy_name(OPERATOR_POLICY_NAME)
                .policy_document(json(&plan.operator_policy))
                .send()
                .await
                .map_err(sdk("iam:PutRolePolicy", name))?;
        }
    }
    Ok(())
}
