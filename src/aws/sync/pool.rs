//! The pool half of a pass: find the app's pool by its owner tag (or create it), put its
//! settings and tags back, and link the roles.

use std::collections::BTreeMap;

use crate::names::RoleKind;
use crate::plan::aws::{DesiredAws, TAG_OWNER_UID};
use crate::plan::trust::PoolId;

use super::{Run, is_role};
use crate::aws::cognito::{Cognito, ObservedPool, PoolRoles};
use crate::aws::error::{AwsError, Phase};
use crate::aws::{Action, AwsObject, KnownPool};

const AUTHENTICATED: &str = "authenticated";
const UNAUTHENTICATED: &str = "unauthenticated";

/// The pools this app owns (by owner tag): the recorded one first, then those the tagging
/// API finds by the owner tag, then (only when [`KnownPool::Unrecorded`]) those carrying
/// the app's pool name, by id. Not `exhaustive`: stop at an owned recorded pool.
pub(crate) async fn find_owned_pools(
    cognito: &Cognito,
    desired: &DesiredAws,
    known: KnownPool<'_>,
    exhaustive: bool,
) -> Result<Vec<ObservedPool>, AwsError> {
    let mut owned = Vec::new();
    if let Some(recorded) = known.recorded().and_then(|id| PoolId::parse(id).ok())
        && let Some(pool) = cognito
            .observe(&recorded, &desired.pool_arn(&recorded))
            .await?
        && desired.owns(&pool.all_tags())
    {
        if !exhaustive {
            return Ok(vec![pool]);
        }
        owned.push(pool);
    }
    let mut candidates = cognito
        .pools_tagged(TAG_OWNER_UID, &desired.owner_uid)
        .await?;
    if known == KnownPool::Unrecorded {
        candidates.extend(cognito.pools_named(&desired.pool.name).await?);
        candidates.sort();
        candidates.dedup();
    }
    for id in candidates {
        if owned.iter().any(|p| p.id == id) {
            continue;
        }
        if let Some(pool) = cognito.observe(&id, &desired.pool_arn(&id)).await?
            && desired.owns(&pool.all_tags())
        {
            owned.push(pool);
        }
    }
    Ok(owned)
}

impl Run<'_> {
    /// An adopted pool must exist, must not belong to another LivenessApp, and must be
    /// open to this app's namespace (its adoptable-by tag, or the operator's flag).
    pub(super) async fn check_adoptable(&self, id: &PoolId) -> Result<(), AwsError> {
        let (cognito, desired) = (self.cognito, self.desired);
        let arn = desired.pool_arn(id);
        let Some(pool) = cognito.observe(id, &arn).await? else {
            return Err(AwsError::needs_change(
                "cognito-identity:DescribeIdentityPool",
                &arn,
                format!(
                    "spec.identityPool.existingPoolId: identity pool {id} does not exist in {}: \
                     fix the id, or remove existingPoolId to let the operator create a pool",
                    desired.region
                ),
            ));
        };
        desired
            .may_adopt(id, &pool.all_tags())
            .map_err(|why| AwsError::refused("cognito-identity:ListTagsForResource", &arn, why))
    }

    pub(super) async fn owned_pool(
        &mut self,
        known: KnownPool<'_>,
    ) -> Result<Option<PoolId>, AwsError> {
        let (cognito, desired) = (self.cognito, self.desired);
        let mut owned = find_owned_pools(cognito, desired, known, false)
            .await?
            .into_iter();
        let Some(pool) = owned.next() else {
            return self.create_pool().await;
        };
        for duplicate in owned {
            let arn = desired.pool_arn(&duplicate.id);
            self.write(
                Action::Deleted,
                AwsObject::IdentityPool(duplicate.id.to_string()),
                format!("duplicate of {} (same owner tag)", pool.id),
                cognito.delete(&duplicate.id, &arn),
            )
            .await?;
        }
        self.pool_settings(&pool).await?;
        Ok(Some(pool.id))
    }

    async fn create_pool(&mut self) -> Result<Option<PoolId>, AwsError> {
        let (cognito, desired) = (self.cognito, self.desired);
        let plan = &desired.pool;
        if !self.apply {
            self.record(
                Action::Created,
                AwsObject::IdentityPool(plan.name.clone()),
                "new identity pool",
            );
            return Ok(None);
        }
        let id = cognito.create(plan, &desired.tags).await?;
        // Tags given at creation do not show in ListTagsForResource (nor to tag:GetResources)
        // everywhere; a crash before this call is healed by the next pass (an
        // `Unrecorded` one: the pool is found by its name and creation tags, tagged then).
        cognito.tag(&desired.pool_arn(&id), &desired.tags).await?;
        self.record(
            Action::Created,
            AwsObject::IdentityPool(id.to_string()),
            format!("named {}", plan.name),
        );
        Ok(Some(id))
    }

    async fn pool_settings(&mut self, pool: &ObservedPool) -> Result<(), AwsError> {
        let (cognito, desired) = (self.cognito, self.desired);
        let plan = &desired.pool;
        let arn = desired.pool_arn(&pool.id);
        let mut providers = plan.providers.clone();
        providers.sort();
        let drift: Vec<&str> = [
            (pool.name != plan.name, "name"),
            (
                pool.allow_unauthenticated != plan.allow_unauthenticated,
                "AllowUnauthenticatedIdentities",
            ),
            (pool.providers != providers, "CognitoIdentityProviders"),
            (pool.allow_classic_flow, "AllowClassicFlow"),
            (pool.other_logins > 0, "social/OIDC/SAML sign-in providers"),
        ]
        .into_iter()
        .filter_map(|(differs, what)| differs.then_some(what))
        .collect();
        if !drift.is_empty() {
            let mut tags = pool.all_tags();
            tags.extend(desired.tags.clone());
            self.write(
                Action::Updated,
                AwsObject::IdentityPool(pool.id.to_string()),
                format!("{} restored", drift.join(", ")),
                cognito.update(&pool.id, &arn, plan, &tags),
            )
            .await?;
        }
        if desired
            .tags
            .iter()
            .any(|(k, v)| pool.listed_tags.get(k) != Some(v))
        {
            self.write(
                Action::Updated,
                AwsObject::IdentityPool(pool.id.to_string()),
                "tags restored",
                cognito.tag(&arn, &desired.tags),
            )
            .await?;
        }
        Ok(())
    }
    /// Links client (and guest) roles. A pool of ours gets exactly these links; an
    /// adopted pool keeps its other links and role mappings.
    pub(super) async fn links(
        &mut self,
        pool: &PoolId,
        adopted: bool,
        role_arns: &BTreeMap<RoleKind, String>,
    ) -> Result<(), AwsError> {
        let (cognito, desired) = (self.cognito, self.desired);
        let arn = desired.pool_arn(pool);
        let op = "cognito-identity:GetIdentityPoolRoles";
        let Some(current) = cognito.roles(pool, &arn).await? else {
            return Err(if adopted {
                AwsError::needs_change(
                    op,
                    &arn,
                    format!(
                        "spec.identityPool.existingPoolId: identity pool {pool} does not exist in {}: \
                         fix the id, or remove existingPoolId to let the operator create a pool",
                        desired.region
                    ),
                )
                .in_phase(Phase::IdentityPool)
            } else {
                AwsError::transient(op, &arn, format!("identity pool {pool} vanished"))
            });
        };
        let mut want = if adopted {
            current.clone()
        } else {
            PoolRoles::default()
        };
        let client = role_arns[&RoleKind::Client].clone();
        want.roles.insert(AUTHENTICATED.into(), client.clone());
        let guest_name = desired.app.role_name(RoleKind::Guest);
        match role_arns.get(&RoleKind::Guest) {
            Some(guest) => {
                want.roles.insert(UNAUTHENTICATED.into(), guest.clone());
            }
            None => {
                let ours = |a: &String| is_role(a, &guest_name);
                if !adopted || want.roles.get(UNAUTHENTICATED).is_some_and(ours) {
                    want.roles.remove(UNAUTHENTICATED);
                }
            }
        }
        if want.roles == current.roles && want.mappings == current.mappings {
            return Ok(());
        }
        let (action, detail) = if adopted && current.roles.get(AUTHENTICATED) != Some(&client) {
            (
                Action::Adopted,
                "the app's roles linked to the existing pool",
            )
        } else {
            (Action::Updated, "role links restored")
        };
        let created_role = self.created_role;
        let set = async {
            cognito.set_roles(pool, &arn, &want).await.map_err(|e| {
                if created_role && e.code() == Some("InvalidParameterException") {
                    e.into_transient("a role created moments ago may not be visible to Cognito yet")
                } else {
                    e
                }
            })
        };
        self.write(action, AwsObject::RoleLinks(pool.to_string()), detail, set)
            .await
    }
}
