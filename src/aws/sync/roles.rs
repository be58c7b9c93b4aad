//! The role half of a pass: create each role or put back its trust policy, tags and
//! single inline policy; remove what someone added; drop a guest role no longer wanted.
//! A role the shared bulk read shows in sync costs no call of its own.

use crate::names::RoleKind;
use crate::plan::aws::{DesiredAws, RolePlan, TAG_OWNER_UID};
use crate::plan::trust::{PoolId, TrustPolicy};

use super::Run;
use crate::aws::error::AwsError;
use crate::aws::fleet_roles::{RoleFacts, Seen};
use crate::aws::iam::ObservedRole;
use crate::aws::{Action, AwsObject};
use crate::plan::policy::DocumentDigest;

fn boundary_in_place(plan: &RolePlan, role: &ObservedRole) -> bool {
    role.boundary.as_deref() == Some(plan.permissions_boundary.as_str())
}

fn trust_in_place(trust: Option<&TrustPolicy>, theirs: DocumentDigest) -> bool {
    trust.is_none_or(|t| t.document().same_as(theirs))
}

fn tags_in_place(desired: &DesiredAws, role: &ObservedRole) -> bool {
    desired
        .tags
        .iter()
        .all(|(k, v)| role.tags.get(k) == Some(v))
}

fn policy_in_place(plan: &RolePlan, document: &str) -> bool {
    plan.policy.same_as_aws(document)
}

/// Whether `facts` show the role as planned: its ARN and path, the cluster's boundary, the
/// trust policy (when the pool is known), the app's tags (the owner's among them, so the
/// app owns it), only its own inline policy, no managed one.
fn shows_in_sync(
    facts: &RoleFacts,
    plan: &RolePlan,
    trust: Option<&TrustPolicy>,
    desired: &DesiredAws,
) -> bool {
    let only_our_policy = RoleFacts::inline([(plan.policy_name, plan.policy.digest())]);
    facts.place == RoleFacts::place(&plan.arn, &plan.path)
        && facts.boundary == Some(RoleFacts::boundary(&plan.permissions_boundary))
        && trust_in_place(trust, facts.trust)
        && facts.has_tags(&desired.tags)
        && facts.inline == only_our_policy
        && !facts.attached
}

impl Run<'_> {
    /// Creates the role or puts back its trust policy, tags and single inline policy,
    /// removing inline and managed policies someone added. Returns its ARN.
    pub(super) async fn role(
        &mut self,
        plan: &RolePlan,
        pool: Option<&PoolId>,
    ) -> Result<String, AwsError> {
        let (iam, desired) = (self.iam, self.desired);
        let object = || AwsObject::Role(plan.kind, plan.name.clone());
        let trust = pool.map(|p| plan.trust_policy(p));
        if let Some(arn) = self.in_sync_by_shared_read(plan, trust.as_ref()).await? {
            return Ok(arn);
        }
        let Some(role) = iam.get_role(&plan.name, &plan.arn).await? else {
            let mut arn = plan.arn.clone();
            if let (true, Some(trust)) = (self.apply, &trust) {
                arn = iam.create_role(plan, trust, &desired.tags).await?;
                self.created_role = true;
                iam.put_inline(&plan.name, &arn, plan.policy_name, &plan.policy)
                    .await?;
            }
            self.record(Action::Created, object(), format!("at {arn}"));
            return Ok(arn);
        };
        if !desired.owns(&role.tags) {
            return Err(AwsError::conflict(
                "iam:CreateRole",
                &plan.arn,
                format!(
                    "IAM role {} exists but is not owned by this LivenessApp ({TAG_OWNER_UID} is {}, expected {}); \
                     it may be left from a deleted LivenessApp of the same name with deletionPolicy Retain: \
                     delete that role, or tag it {TAG_OWNER_UID}={} to hand it to this app",
                    plan.name,
                    role.tags
                        .get(TAG_OWNER_UID)
                        .map_or("absent".into(), |u| format!("'{u}'")),
                    desired.owner_uid,
                    desired.owner_uid,
                ),
            ));
        }
        if role.path != plan.path {
            return Err(AwsError::conflict(
                "iam:CreateRole",
                &role.arn,
                format!(
                    "IAM role {} exists under path {} instead of {}: delete it so it can be recreated",
                    plan.name, role.path, plan.path
                ),
            ));
        }
        let arn = role.arn.clone();
        // First, so that the policy writes below happen on a role that carries it (the
        // operator's own policy allows them only then).
        if !boundary_in_place(plan, &role) {
            let detail = match &role.boundary {
                None => "permissions boundary restored".to_string(),
                Some(other) => format!("permissions boundary {other} replaced by the cluster's"),
            };
            self.write(
                Action::Updated,
                object(),
                detail,
                iam.put_boundary(&plan.name, &arn, &plan.permissions_boundary),
            )
            .await?;
        }
        if let Some(trust) = &trust
            && !trust_in_place(Some(trust), role.trust)
        {
            self.write(
                Action::Updated,
                object(),
                "trust policy restored",
                iam.update_trust(&plan.name, &arn, trust),
            )
            .await?;
        }
        if !tags_in_place(desired, &role) {
            self.write(
                Action::Updated,
                object(),
                "tags restored",
                iam.tag_role(&plan.name, &arn, &desired.tags),
            )
            .await?;
        }
        self.role_policies(plan, &arn).await?;
        Ok(arn)
    }

    /// The role's ARN when the shared bulk read shows it exactly as planned (no call, or
    /// one GetRole where the read does not report boundaries); `None`: check it call by
    /// call, which is also how any difference gets written.
    async fn in_sync_by_shared_read(
        &self,
        plan: &RolePlan,
        trust: Option<&TrustPolicy>,
    ) -> Result<Option<String>, AwsError> {
        let (iam, desired) = (self.iam, self.desired);
        let Seen::Present(facts) = iam.seen(&plan.name).await else {
            return Ok(None);
        };
        let facts = if facts.boundary.is_some() {
            facts
        } else {
            match iam.get_role(&plan.name, &plan.arn).await? {
                Some(role) => RoleFacts::of_role(&role, facts.inline, facts.attached),
                None => return Ok(None),
            }
        };
        Ok(shows_in_sync(&facts, plan, trust, desired).then(|| plan.arn.clone()))
    }

    async fn role_policies(&mut self, plan: &RolePlan, arn: &str) -> Result<(), AwsError> {
        let iam = self.iam;
        let object = || AwsObject::Role(plan.kind, plan.name.clone());
        let inline = iam.list_inline(&plan.name, arn).await?;
        for extra in inline.iter().filter(|p| *p != plan.policy_name) {
            self.write(
                Action::Updated,
                object(),
                format!("removed inline policy {extra} (not part of the app)"),
                iam.delete_inline(&plan.name, arn, extra),
            )
            .await?;
        }
        let current = if inline.iter().any(|p| p == plan.policy_name) {
            iam.get_inline(&plan.name, arn, plan.policy_name).await?
        } else {
            None
        };
        let detail = match &current {
            None => Some("inline policy restored"),
            Some(doc) if !policy_in_place(plan, doc) => Some("inline policy put back"),
            Some(_) => None,
        };
        if let Some(detail) = detail {
            self.write(
                Action::Updated,
                object(),
                detail,
                iam.put_inline(&plan.name, arn, plan.policy_name, &plan.policy),
            )
            .await?;
        }
        for policy_arn in iam.list_attached(&plan.name, arn).await? {
            self.write(
                Action::Updated,
                object(),
                format!("detached managed policy {policy_arn} (not part of the app)"),
                iam.detach(&plan.name, arn, &policy_arn),
            )
            .await?;
        }
        Ok(())
    }

    /// Guests were allowed and no longer are: the (already unlinked) guest role goes.
    pub(super) async fn remove_unwanted_guest(&mut self) -> Result<(), AwsError> {
        let (iam, desired) = (self.iam, self.desired);
        let name = desired.app.role_name(RoleKind::Guest);
        if let Seen::Absent = iam.seen(&name).await {
            return Ok(());
        }
        let arn = desired.role_arn(&name);
        if let Some(role) = iam.get_role(&name, &arn).await?
            && desired.owns(&role.tags)
        {
            self.write(
                Action::Deleted,
                AwsObject::Role(RoleKind::Guest, name.clone()),
                "guests are no longer allowed",
                iam.delete_role(&name, &arn),
            )
            .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::aws::desired_aws;
    use crate::testing;

    fn desired() -> DesiredAws {
        let env = testing::operator_env("prod", "123456789012");
        let app = testing::app(
            "web",
            "onboarding",
            "0b6f-uid",
            "{region: us-east-1, identityPool: {allowUnauthenticated: true}, endpoint: {auth: {mode: none}}}",
        );
        desired_aws(&testing::validated(&app, &env), &env)
    }

    /// The facts of the client role exactly as planned, with someone else's tag beside ours.
    fn as_planned(desired: &DesiredAws, trust: &TrustPolicy) -> RoleFacts {
        let plan = &desired.client_role;
        RoleFacts {
            place: RoleFacts::place(&plan.arn, &plan.path),
            boundary: Some(RoleFacts::boundary(&plan.permissions_boundary)),
            trust: trust.document().digest(),
            inline: RoleFacts::inline([(plan.policy_name, plan.policy.digest())]),
            attached: false,
            tags: desired
                .tags
                .iter()
                .map(|(k, v)| RoleFacts::tag(k, v))
                .chain([RoleFacts::tag("cost-center", "42")])
                .collect(),
        }
    }

    #[test]
    fn only_a_role_exactly_as_planned_is_shown_in_sync() {
        let desired = desired();
        let plan = &desired.client_role;
        let pool = PoolId::parse("us-east-1:0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9").unwrap();
        let trust = plan.trust_policy(&pool);
        let facts = as_planned(&desired, &trust);
        assert!(shows_in_sync(&facts, plan, Some(&trust), &desired));

        let other_pool = PoolId::parse("us-east-1:11111111-4b5a-4978-8695-a4b3c2d1e0f9").unwrap();
        let drifted: [(&str, RoleFacts); 8] = [
            (
                "path",
                RoleFacts {
                    place: RoleFacts::place(&plan.arn, "/elsewhere/"),
                    ..facts.clone()
                },
            ),
            (
                "no boundary",
                RoleFacts {
                    boundary: Some(RoleFacts::boundary("")),
                    ..facts.clone()
                },
            ),
            (
                "other boundary",
                RoleFacts {
                    boundary: Some(RoleFacts::boundary("arn:aws:iam::123456789012:policy/wide")),
                    ..facts.clone()
                },
            ),
            (
                "trust",
                RoleFacts {
                    trust: plan.trust_policy(&other_pool).document().digest(),
                    ..facts.clone()
                },
            ),
            (
                "inline",
                RoleFacts {
                    inline: RoleFacts::inline([(
                        plan.policy_name,
                        desired.backend_role.policy.digest(),
                    )]),
                    ..facts.clone()
                },
            ),
            (
                "extra inline",
                RoleFacts {
                    inline: RoleFacts::inline([
                        ("extra", plan.policy.digest()),
                        (plan.policy_name, plan.policy.digest()),
                    ]),
                    ..facts.clone()
                },
            ),
            (
                "attached",
                RoleFacts {
                    attached: true,
                    ..facts.clone()
                },
            ),
            (
                "owner",
                RoleFacts {
                    tags: desired
                        .tags
                        .iter()
                        .map(|(k, v)| match k.as_str() {
                            TAG_OWNER_UID => RoleFacts::tag(k, "another-uid"),
                            _ => RoleFacts::tag(k, v),
                        })
                        .collect(),
                    ..facts.clone()
                },
            ),
        ];
        for (what, drifted) in drifted {
            assert!(
                !shows_in_sync(&drifted, plan, Some(&trust), &desired),
                "{what}"
            );
        }
        // The pool not known yet: the trust policy is not compared.
        let other_trust = RoleFacts {
            trust: plan.trust_policy(&other_pool).document().digest(),
            ..facts
        };
        assert!(shows_in_sync(&other_trust, plan, None, &desired));
    }
}
