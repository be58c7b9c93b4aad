//! Hand edits a user might make in the console, each undone by the next `ensure`.

use liveness_operator::names::RoleKind;
use liveness_operator::plan::aws::DesiredAws;

use super::Rig;

/// One kind of hand edit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Drift {
    /// The client role's inline policy deleted.
    InlinePolicyDeleted,
    /// The backend's inline policy widened to `rekognition:*`.
    InlinePolicyWidened,
    /// The guest role's trust policy without its `aud` condition (any pool could use it).
    TrustPolicyLoosened,
    /// An extra inline policy granting everything on the client role.
    ExtraInlinePolicy,
    /// A managed policy attached to the backend role.
    ManagedPolicyAttached,
    /// The guest role deleted.
    RoleDeleted,
    /// A tag removed from the backend role.
    RoleTagRemoved,
    /// The guest role unlinked from the pool.
    LinksChanged,
    /// Guests disallowed and the user pool provider removed on the pool.
    PoolSettingsChanged,
    /// A tag removed from the pool.
    PoolTagRemoved,
    /// The client role's permissions boundary removed.
    BoundaryRemoved,
    /// The backend role's permissions boundary swapped for AdministratorAccess.
    BoundarySwapped,
    /// The pool deleted.
    PoolDeleted,
}

impl Drift {
    /// Every kind, in an order where each leaves the app otherwise intact.
    pub const ALL: [Drift; 13] = [
        Drift::InlinePolicyDeleted,
        Drift::InlinePolicyWidened,
        Drift::TrustPolicyLoosened,
        Drift::ExtraInlinePolicy,
        Drift::ManagedPolicyAttached,
        Drift::RoleDeleted,
        Drift::RoleTagRemoved,
        Drift::LinksChanged,
        Drift::PoolSettingsChanged,
        Drift::PoolTagRemoved,
        Drift::BoundaryRemoved,
        Drift::BoundarySwapped,
        Drift::PoolDeleted,
    ];

    /// A piece of the change `ensure` reports when it undoes the edit.
    pub fn reported_as(self) -> &'static str {
        match self {
            Drift::InlinePolicyDeleted => "inline policy restored",
            Drift::InlinePolicyWidened => "inline policy put back",
            Drift::TrustPolicyLoosened => "trust policy restored",
            Drift::ExtraInlinePolicy => "removed inline policy hand-added",
            Drift::ManagedPolicyAttached => "detached managed policy",
            Drift::RoleDeleted => "created guest role",
            Drift::RoleTagRemoved => "backend role",
            Drift::LinksChanged => "role links restored",
            Drift::PoolSettingsChanged => {
                "AllowUnauthenticatedIdentities, CognitoIdentityProviders restored"
            }
            Drift::PoolTagRemoved => "tags restored",
            Drift::BoundaryRemoved => "permissions boundary restored",
            Drift::BoundarySwapped => {
                "permissions boundary arn:aws:iam::aws:policy/AdministratorAccess replaced"
            }
            Drift::PoolDeleted => "created identity pool",
        }
    }

    /// Makes the edit with uncounted clients.
    pub async fn apply(self, rig: &Rig, desired: &DesiredAws, pool: &str) {
        let role = |kind| desired.app.role_name(kind);
        let iam = &rig.iam;
        let cognito = &rig.cognito;
        match self {
            Drift::BoundaryRemoved => {
                iam.delete_role_permissions_boundary()
                    .role_name(role(RoleKind::Client))
                    .send()
                    .await
                    .unwrap();
            }
            Drift::BoundarySwapped => {
                iam.put_role_permissions_boundary()
                    .role_name(role(RoleKind::Backend))
                    .permissions_boundary("arn:aws:iam::aws:policy/AdministratorAccess")
                    .send()
                    .await
                    .unwrap();
            }
            Drift::InlinePolicyDeleted => {
                iam.delete_role_policy()
                    .role_name(role(RoleKind::Client))
                    .policy_name("liveness")
                    .send()
                    .await
                    .unwrap();
            }
            Drift::InlinePolicyWidened => {
                iam.put_role_policy()
                    .role_name(role(RoleKind::Backend))
                    .policy_name("liveness")
                    .policy_document(allow_all("rekognition:*"))
                    .send()
                    .await
                    .unwrap();
            }
            Drift::TrustPolicyLoosened => {
                let loose = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},"Action":"sts:AssumeRoleWithWebIdentity"}]}"#;
                iam.update_assume_role_policy()
                    .role_name(role(RoleKind::Guest))
                    .policy_document(loose)
                    .send()
                    .await
                    .unwrap();
            }
            Drift::ExtraInlinePolicy => {
                iam.put_role_policy()
                    .role_name(role(RoleKind::Client))
                    .policy_name("hand-added")
                    .policy_document(allow_all("*"))
                    .send()
                    .await
                    .unwrap();
            }
            Drift::ManagedPolicyAttached => {
                let created = iam
                    .create_policy()
                    .policy_name(crate::support::testground::unique("hand-made"))
                    .policy_document(allow_all("s3:*"))
                    .send()
                    .await
                    .unwrap();
                let arn = created.policy().unwrap().arn().unwrap().to_string();
                iam.attach_role_policy()
                    .role_name(role(RoleKind::Backend))
                    .policy_arn(arn)
                    .send()
                    .await
                    .unwrap();
            }
            Drift::RoleDeleted => {
                let name = role(RoleKind::Guest);
                iam.delete_role_policy()
                    .role_name(&name)
                    .policy_name("liveness")
                    .send()
                    .await
                    .unwrap();
                iam.delete_role().role_name(&name).send().await.unwrap();
            }
            Drift::RoleTagRemoved => {
                iam.untag_role()
                    .role_name(role(RoleKind::Backend))
                    .tag_keys("faceliveness.dev/app")
                    .send()
                    .await
                    .unwrap();
            }
            Drift::LinksChanged => {
                let links = rig
                    .links(&liveness_operator::plan::trust::PoolId::parse(pool).unwrap())
                    .await;
                cognito
                    .set_identity_pool_roles()
                    .identity_pool_id(pool)
                    .roles("authenticated", links["authenticated"].clone())
                    .send()
                    .await
                    .unwrap();
            }
            Drift::PoolSettingsChanged => {
                cognito
                    .update_identity_pool()
                    .identity_pool_id(pool)
                    .identity_pool_name(&desired.pool.name)
                    .allow_unauthenticated_identities(false)
                    .set_cognito_identity_providers(Some(vec![]))
                    .send()
                    .await
                    .unwrap();
            }
            Drift::PoolTagRemoved => {
                cognito
                    .untag_resource()
                    .resource_arn(
                        desired.pool_arn(
                            &liveness_operator::plan::trust::PoolId::parse(pool).unwrap(),
                        ),
                    )
                    .tag_keys("managed-by")
                    .send()
                    .await
                    .unwrap();
            }
            Drift::PoolDeleted => {
                cognito
                    .delete_identity_pool()
                    .identity_pool_id(pool)
                    .send()
                    .await
                    .unwrap();
            }
        }
    }
}

fn allow_all(action: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{action}","Resource":"*"}}]}}"#
    )
}
