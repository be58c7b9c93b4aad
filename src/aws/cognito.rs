//! Cognito identity pool operations, one SDK operation each (lists through the SDK's
//! paginators, all pages), with errors named by IAM action and pool ARN. Finding pools by
//! tag goes through the Resource Groups Tagging API of the pool's region. Decisions live in
//! [`super::sync`] and [`super::cleanup`].

use std::collections::{BTreeMap, HashMap};

use aws_sdk_cognitoidentity::Client;
use aws_sdk_cognitoidentity::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cognitoidentity::types::{CognitoIdentityProvider, RoleMapping};
use aws_sdk_resourcegroupstagging::types::TagFilter;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use crate::plan::aws::{CognitoProvider, PoolPlan};
use crate::plan::trust::PoolId;

use super::error::{AwsError, NotFoundIsNone};

/// A pool's settings and tags as Cognito reports them.
#[derive(Clone, Debug)]
pub(crate) struct ObservedPool {
    pub id: PoolId,
    pub name: String,
    pub allow_unauthenticated: bool,
    pub allow_classic_flow: bool,
    pub providers: Vec<CognitoProvider>,
    /// Social / OIDC / SAML sign-ins; a pool of ours has none.
    pub other_logins: usize,
    /// ListTagsForResource.
    pub listed_tags: BTreeMap<String, String>,
    /// DescribeIdentityPool's IdentityPoolTags (the tags given at creation).
    pub pool_tags: BTreeMap<String, String>,
}

impl ObservedPool {
    /// Every tag the pool is known to carry, for the ownership check.
    pub fn all_tags(&self) -> BTreeMap<String, String> {
        let mut tags = self.pool_tags.clone();
        tags.extend(self.listed_tags.clone());
        tags
    }
}

/// The role links of a pool.
#[derive(Clone, Debug, Default)]
pub(crate) struct PoolRoles {
    /// `authenticated` / `unauthenticated` → role ARN.
    pub roles: BTreeMap<String, String>,
    /// Rule- or token-based mappings (kept on adopted pools, none on ours).
    pub mappings: HashMap<String, RoleMapping>,
}

/// The Cognito Identity and tagging clients of one region.
#[derive(Clone, Debug)]
pub(crate) struct Cognito {
    pub client: Client,
    pub tagging: aws_sdk_resourcegroupstagging::Client,
}

/// `ResourceTypeFilters` value of identity pools.
const POOL_RESOURCE_TYPE: &str = "cognito-identity:identitypool";

fn sdk<E>(op: &str, arn: &str) -> impl FnOnce(SdkError<E, HttpResponse>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let (op, arn) = (op.to_string(), arn.to_string());
    move |e| AwsError::from_sdk(&op, &arn, e)
}

fn providers(plan: &PoolPlan) -> Vec<CognitoIdentityProvider> {
    plan.providers
        .iter()
        .map(|p| {
            CognitoIdentityProvider::builder()
                .provider_name(&p.provider_name)
                .client_id(&p.client_id)
                .server_side_token_check(false)
                .build()
        })
        .collect()
}

fn hash_map(tags: &BTreeMap<String, String>) -> HashMap<String, String> {
    tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn invalid_id(op: &str, arn: &str, id: &str) -> AwsError {
    AwsError::needs_change(
        op,
        arn,
        format!("Cognito returned a malformed pool id '{id}'"),
    )
}

impl Cognito {
    /// Settings and tags of a pool (DescribeIdentityPool + ListTagsForResource), `None`
    /// when it does not exist.
    pub async fn observe(&self, id: &PoolId, arn: &str) -> Result<Option<ObservedPool>, AwsError> {
        let Some(pool) = self
            .client
            .describe_identity_pool()
            .identity_pool_id(id.as_str())
            .send()
            .await
            .map_err(sdk("cognito-identity:DescribeIdentityPool", arn))
            .found()?
        else {
            return Ok(None);
        };
        let Some(listed) = self
            .client
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .map_err(sdk("cognito-identity:ListTagsForResource", arn))
            .found()?
        else {
            return Ok(None);
        };
        let to_btree = |m: Option<&HashMap<String, String>>| -> BTreeMap<String, String> {
            m.into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        };
        let mut providers: Vec<CognitoProvider> = pool
            .cognito_identity_providers()
            .iter()
            .map(|p| CognitoProvider {
                provider_name: p.provider_name().unwrap_or("").into(),
                client_id: p.client_id().unwrap_or("").into(),
            })
            .collect();
        providers.sort();
        Ok(Some(ObservedPool {
            id: id.clone(),
            name: pool.identity_pool_name().into(),
            allow_unauthenticated: pool.allow_unauthenticated_identities(),
            allow_classic_flow: pool.allow_classic_flow().unwrap_or(false),
            providers,
            other_logins: pool.supported_login_providers().map_or(0, HashMap::len)
                + pool.open_id_connect_provider_arns().len()
                + pool.saml_provider_arns().len(),
            listed_tags: to_btree(listed.tags()),
            pool_tags: to_btree(pool.identity_pool_tags()),
        }))
    }

    /// Ids of the region's pools tagged `key=value` (tag:GetResources, all pages): one
    /// call per 100 pools found, whatever the number of pools in the region. The tagging
    /// index is eventually consistent, so a pool tagged moments ago may be missing; the
    /// caller decides when that matters.
    pub async fn pools_tagged(&self, key: &str, value: &str) -> Result<Vec<PoolId>, AwsError> {
        let op = "tag:GetResources";
        let filter = TagFilter::builder().key(key).values(value).build();
        let mappings = self
            .tagging
            .get_resources()
            .resource_type_filters(POOL_RESOURCE_TYPE)
            .tag_filters(filter)
            .resources_per_page(100)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(sdk(op, "*"))?;
        let mut ids = mappings
            .iter()
            .filter_map(|mapping| mapping.resource_arn())
            .map(|arn| {
                arn.split_once(":identitypool/")
                    .and_then(|(_, id)| PoolId::parse(id).ok())
                    .ok_or_else(|| invalid_id(op, "*", arn))
            })
            .collect::<Result<Vec<_>, _>>()?;
        ids.sort();
        Ok(ids)
    }

    /// Ids of every pool in the region named `name` (all pages).
    pub async fn pools_named(&self, name: &str) -> Result<Vec<PoolId>, AwsError> {
        let pools = self
            .client
            .list_identity_pools()
            .max_results(60)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(sdk("cognito-identity:ListIdentityPools", "*"))?;
        let mut ids = pools
            .iter()
            .filter(|pool| pool.identity_pool_name() == Some(name))
            .filter_map(|pool| pool.identity_pool_id())
            .map(|id| {
                PoolId::parse(id)
                    .map_err(|_| invalid_id("cognito-identity:ListIdentityPools", "*", id))
            })
            .collect::<Result<Vec<_>, _>>()?;
        ids.sort();
        Ok(ids)
    }

    /// Creates a pool carrying `tags` from its first moment.
    pub async fn create(
        &self,
        plan: &PoolPlan,
        tags: &BTreeMap<String, String>,
    ) -> Result<PoolId, AwsError> {
        let out = self
            .client
            .create_identity_pool()
            .identity_pool_name(&plan.name)
            .allow_unauthenticated_identities(plan.allow_unauthenticated)
            .allow_classic_flow(false)
            .set_cognito_identity_providers(Some(providers(plan)))
            .set_identity_pool_tags(Some(hash_map(tags)))
            .send()
            .await
            .map_err(sdk("cognito-identity:CreateIdentityPool", "*"))?;
        let id = out.identity_pool_id();
        PoolId::parse(id).map_err(|_| invalid_id("cognito-identity:CreateIdentityPool", "*", id))
    }

    /// Puts every setting back to `plan` (UpdateIdentityPool replaces the whole
    /// configuration, so each one is sent, sign-in providers cleared).
    pub async fn update(
        &self,
        id: &PoolId,
        arn: &str,
        plan: &PoolPlan,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), AwsError> {
        self.client
            .update_identity_pool()
            .identity_pool_id(id.as_str())
            .identity_pool_name(&plan.name)
            .allow_unauthenticated_identities(plan.allow_unauthenticated)
            .allow_classic_flow(false)
            .set_cognito_identity_providers(Some(providers(plan)))
            .set_supported_login_providers(Some(HashMap::new()))
            .set_open_id_connect_provider_arns(Some(Vec::new()))
            .set_saml_provider_arns(Some(Vec::new()))
            .set_identity_pool_tags(Some(hash_map(tags)))
            .send()
            .await
            .map_err(sdk("cognito-identity:UpdateIdentityPool", arn))?;
        Ok(())
    }

    pub async fn tag(&self, arn: &str, tags: &BTreeMap<String, String>) -> Result<(), AwsError> {
        self.client
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(hash_map(tags)))
            .send()
            .await
            .map_err(sdk("cognito-identity:TagResource", arn))?;
        Ok(())
    }

    /// The pool's role links, `None` when the pool does not exist.
    pub async fn roles(&self, id: &PoolId, arn: &str) -> Result<Option<PoolRoles>, AwsError> {
        let out = self
            .client
            .get_identity_pool_roles()
            .identity_pool_id(id.as_str())
            .send()
            .await
            .map_err(sdk("cognito-identity:GetIdentityPoolRoles", arn))
            .found()?;
        Ok(out.map(|o| PoolRoles {
            roles: o
                .roles()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            mappings: o.role_mappings().cloned().unwrap_or_default(),
        }))
    }

    /// Replaces the pool's role links (SetIdentityPoolRoles sets both members at once).
    pub async fn set_roles(
        &self,
        id: &PoolId,
        arn: &str,
        links: &PoolRoles,
    ) -> Result<(), AwsError> {
        self.client
            .set_identity_pool_roles()
            .identity_pool_id(id.as_str())
            .set_roles(Some(
                links
                    .roles
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ))
            .set_role_mappings((!links.mappings.is_empty()).then(|| links.mappings.clone()))
            .send()
            .await
            .map_err(sdk("cognito-identity:SetIdentityPoolRoles", arn))?;
        Ok(())
    }

    /// Deletes a pool; already gone counts as done.
    pub async fn delete(&self, id: &PoolId, arn: &str) -> Result<(), AwsError> {
        self.client
            .delete_identity_pool()
            .identity_pool_id(id.as_str())
            .send()
            .await
            .map_err(sdk("cognito-identity:DeleteIdentityPool", arn))
            .found()?;
        Ok(())
    }
}
