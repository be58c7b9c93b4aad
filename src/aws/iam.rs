//! IAM role operations, one SDK operation each (lists through the SDK's paginators, all
//! pages), with errors named by IAM action and role ARN. Every write tells the shared bulk
//! read ([`FleetRoles`]) which role it touched.
//! Decisions (what to change) live in [`super::sync`]; this file only talks to IAM.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_sdk_iam::Client;
use aws_sdk_iam::types::{EntityType, Tag};

use crate::plan::aws::{INLINE_POLICY_NAME, RolePlan};
use crate::plan::policy::{DocumentDigest, PolicyDocument};
use crate::plan::trust::TrustPolicy;

use super::error::{AwsError, NotFoundIsNone};
use super::fleet_roles::{FleetRoles, RoleFacts, Roles, Seen, role_key};
use crate::names::IAM_PATH_ROOT;

/// A role as IAM reports it.
#[derive(Clone, Debug)]
pub(crate) struct ObservedRole {
    pub arn: String,
    pub path: String,
    /// ARN of the permissions boundary, if the role has one.
    pub boundary: Option<String>,
    /// Trust policy as returned.
    pub trust: DocumentDigest,
    pub tags: BTreeMap<String, String>,
}

/// The IAM client of the layer.
#[derive(Clone, Debug)]
pub(crate) struct Iam {
    pub client: Client,
    pub fleet: Arc<FleetRoles>,
}

fn sdk<E>(
    op: &str,
    arn: &str,
) -> impl FnOnce(
    aws_sdk_iam::error::SdkError<E, aws_smithy_runtime_api::client::orchestrator::HttpResponse>,
) -> AwsError
where
    E: aws_sdk_iam::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let (op, arn) = (op.to_string(), arn.to_string());
    move |e| AwsError::from_sdk(&op, &arn, e)
}

fn tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .expect("key and value are set")
        })
        .collect()
}

fn observed(role: &aws_sdk_iam::types::Role) -> ObservedRole {
    ObservedRole {
        arn: role.arn().into(),
        path: role.path().into(),
        boundary: boundary_arn(role.permissions_boundary()),
        trust: DocumentDigest::of_aws(role.assume_role_policy_document().unwrap_or("")),
        tags: tag_map(role.tags()),
    }
}

fn boundary_arn(
    boundary: Option<&aws_sdk_iam::types::AttachedPermissionsBoundary>,
) -> Option<String> {
    boundary
        .and_then(|b| b.permissions_boundary_arn())
        .map(str::to_string)
}

fn tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

fn facts(role: &aws_sdk_iam::types::RoleDetail) -> RoleFacts {
    RoleFacts {
        place: RoleFacts::place(
            role.arn().unwrap_or_default(),
            role.path().unwrap_or_default(),
        ),
        boundary: boundary_arn(role.permissions_boundary())
            .as_deref()
            .map(RoleFacts::boundary),
        trust: DocumentDigest::of_aws(role.assume_role_policy_document().unwrap_or("")),
        inline: RoleFacts::inline(role.role_policy_list().iter().map(|p| {
            (
                p.policy_name().unwrap_or_default(),
                DocumentDigest::of_aws(p.policy_document().unwrap_or_default()),
            )
        })),
        attached: !role.attached_managed_policies().is_empty(),
        tags: role
            .tags()
            .iter()
            .map(|t| RoleFacts::tag(t.key(), t.value()))
            .collect(),
    }
}

impl Iam {
    /// Role `name` as the shared bulk read saw it (taken now if there is none).
    pub async fn seen(&self, name: &str) -> Seen {
        self.fleet.seen(name, || self.operator_roles()).await
    }

    /// Every role under the operator's IAM path, by name (GetAccountAuthorizationDetails,
    /// roles only, all pages; IAM cannot filter it by path, so that is done here).
    async fn operator_roles(&self) -> Result<Roles, AwsError> {
        let mut pages = self
            .client
            .get_account_authorization_details()
            .filter(EntityType::Role)
            // Pages of 100 roles, each kept only as the few fields the checks compare
            // before the next is read: a large account's read never sits in memory whole.
            .max_items(100)
            .into_paginator()
            .send();
        let mut roles = Roles::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(sdk("iam:GetAccountAuthorizationDetails", "*"))?;
            roles.extend(
                page.role_detail_list()
                    .iter()
                    .filter(|role| role.path().is_some_and(|p| p.starts_with(IAM_PATH_ROOT)))
                    .filter_map(|role| Some((role_key(role.role_name()?), facts(role)))),
            );
        }
        roles.shrink_to_fit();
        Ok(roles)
    }

    /// The role, or `None` when it does not exist.
    pub async fn get_role(&self, name: &str, arn: &str) -> Result<Option<ObservedRole>, AwsError> {
        let out = self
            .client
            .get_role()
            .role_name(name)
            .send()
            .await
            .map_err(sdk("iam:GetRole", arn))
            .found()?;
        Ok(out.and_then(|o| o.role().map(observed)))
    }

    /// Creates the role with its trust policy and tags in one call (so a role of ours is
    /// never untagged), returning its ARN.
    pub async fn create_role(
        &self,
        plan: &RolePlan,
        trust: &TrustPolicy,
        role_tags: &BTreeMap<String, String>,
    ) -> Result<String, AwsError> {
        self.fleet.written(&plan.name);
        let out = self
            .client
            .create_role()
            .role_name(&plan.name)
            .path(&plan.path)
            .assume_role_policy_document(trust.document().to_json())
            .permissions_boundary(&plan.permissions_boundary)
            .description(format!(
                "liveness-operator: {} role of a LivenessApp",
                plan.kind.as_str()
            ))
            .set_tags(Some(tags(role_tags)))
            .send()
            .await
            .map_err(sdk("iam:CreateRole", &plan.arn))?;
        Ok(out
            .role()
            .map(|r| r.arn().to_string())
            .unwrap_or_else(|| plan.arn.clone()))
    }

    /// Sets the role's permissions boundary to `boundary` (the cluster's, nothing else).
    pub async fn put_boundary(
        &self,
        name: &str,
        arn: &str,
        boundary: &str,
    ) -> Result<(), AwsError> {
        self.fleet.written(name);
        self.client
            .put_role_permissions_boundary()
            .role_name(name)
            .permissions_boundary(boundary)
            .send()
            .await
            .map_err(sdk("iam:PutRolePermissionsBoundary", arn))?;
        Ok(())
    }

    pub async fn update_trust(
        &self,
        name: &str,
        arn: &str,
        trust: &TrustPolicy,
    ) -> Result<(), AwsError> {
        self.fleet.written(name);
        self.client
            .update_assume_role_policy()
            .role_name(name)
            .policy_document(trust.document().to_json())
            .send()
            .await
            .map_err(sdk("iam:UpdateAssumeRolePolicy", arn))?;
        Ok(())
    }

    pub async fn tag_role(
        &self,
        name: &str,
        arn: &str,
        role_tags: &BTreeMap<String, String>,
    ) -> Result<(), AwsError> {
        self.fleet.written(name);
        self.client
            .tag_role()
            .role_name(name)
            .set_tags(Some(tags(role_tags)))
            .send()
            .await
            .map_err(sdk("iam:TagRole", arn))?;
        Ok(())
    }

    /// Names of the role's inline policies (all pages).
    pub async fn list_inline(&self, name: &str, arn: &str) -> Result<Vec<String>, AwsError> {
        self.client
            .list_role_policies()
            .role_name(name)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(sdk("iam:ListRolePolicies", arn))
    }

    /// The inline policy document as returned (URL-encoded JSON), `None` if absent.
    pub async fn get_inline(
        &self,
        name: &str,
        arn: &str,
        policy: &str,
    ) -> Result<Option<String>, AwsError> {
        let out = self
            .client
            .get_role_policy()
            .role_name(name)
            .policy_name(policy)
            .send()
            .await
            .map_err(sdk("iam:GetRolePolicy", arn))
            .found()?;
        Ok(out.map(|o| o.policy_document().to_string()))
    }

    pub async fn put_inline(
        &self,
        name: &str,
        arn: &str,
        policy: &str,
        document: &PolicyDocument,
    ) -> Result<(), AwsError> {
        self.fleet.written(name);
        self.client
            .put_role_policy()
            .role_name(name)
            .policy_name(policy)
            .policy_document(document.to_json())
            .send()
            .await
            .map_err(sdk("iam:PutRolePolicy", arn))?;
        Ok(())
    }

    /// Deletes an inline policy; already gone counts as done.
    pub async fn delete_inline(&self, name: &str, arn: &str, policy: &str) -> Result<(), AwsError> {
        self.fleet.written(name);
        self.client
            .delete_role_policy()
            .role_name(name)
            .policy_name(policy)
            .send()
            .await
            .map_err(sdk("iam:DeleteRolePolicy", arn))
            .found()?;
        Ok(())
    }

    /// ARNs of managed policies attached to the role (all pages).
    pub async fn list_attached(&self, name: &str, arn: &str) -> Result<Vec<String>, AwsError> {
        let attached = self
            .client
            .list_attached_role_policies()
            .role_name(name)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(sdk("iam:ListAttachedRolePolicies", arn))?;
        Ok(attached
            .iter()
            .filter_map(|p| p.policy_arn().map(str::to_string))
            .collect())
    }

    /// Detaches a managed policy; already detached counts as done.
    pub async fn detach(&self, name: &str, arn: &str, policy_arn: &str) -> Result<(), AwsError> {
        self.fleet.written(name);
        self.client
            .detach_role_policy()
            .role_name(name)
            .policy_arn(policy_arn)
            .send()
            .await
            .map_err(sdk("iam:DetachRolePolicy", arn))
            .found()?;
        Ok(())
    }

    /// Deletes the role. IAM refuses while policies remain, so the operator's own inline
    /// policy goes first; only when IAM still refuses (someone added a policy or attached
    /// one by hand) are the role's policies listed and removed: two calls for a role of
    /// ours instead of four. NotFound at any step counts as done.
    pub async fn delete_role(&self, name: &str, arn: &str) -> Result<(), AwsError> {
        self.delete_inline(name, arn, INLINE_POLICY_NAME).await?;
        match self.delete_bare_role(name, arn).await {
            Err(e) if e.code() == Some("DeleteConflict") => {}
            done => return done,
        }
        let Some(inline) = self.list_inline(name, arn).await.found()? else {
            return Ok(());
        };
        for policy in inline {
            self.delete_inline(name, arn, &policy).await?;
        }
        let Some(attached) = self.list_attached(name, arn).await.found()? else {
            return Ok(());
        };
        for policy_arn in attached {
            self.detach(name, arn, &policy_arn).await?;
        }
        self.delete_bare_role(name, arn).await
    }

    async fn delete_bare_role(&self, name: &str, arn: &str) -> Result<(), AwsError> {
        self.fleet.written(name);
        self.client
            .delete_role()
            .role_name(name)
            .send()
            .await
            .map_err(sdk("iam:DeleteRole", arn))
            .found()?;
        Ok(())
    }
}
