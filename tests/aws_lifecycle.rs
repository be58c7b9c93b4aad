//! The AWS life of a LivenessApp on ministack with the real SDK clients: create, stay in
//! sync for free, undo every kind of hand edit, delete or retain, adopt a pool, and
//! refuse a role that belongs to someone else.

mod support;

mod aws_support;

use aws_support::drift::Drift;
use aws_support::{FULL_SPEC, Rig};
use liveness_operator::aws::{Action, AwsObject, Category, KnownPool, LivenessAws};
use liveness_operator::crd::DeletionPolicy;
use liveness_operator::names::RoleKind;

fn described(changes: &[liveness_operator::aws::Change]) -> Vec<String> {
    changes.iter().map(|c| c.to_string()).collect()
}

#[tokio::test]
async fn create_stays_in_sync_undoes_every_hand_edit_and_delete_leaves_nothing() {
    let rig = Rig::new().await;
    let desired = rig.app(FULL_SPEC);

    let created = rig
        .aws
        .ensure(&desired, KnownPool::FirstPass)
        .await
        .expect("first ensure");
    let kinds: Vec<_> = created.changes.iter().map(|c| c.action).collect();
    assert_eq!(
        kinds,
        [
            Action::Created,
            Action::Created,
            Action::Created,
            Action::Created,
            Action::Updated
        ],
        "{:?}",
        described(&created.changes)
    );
    assert!(!created.identity_pool_adopted);
    rig.assert_converged(&desired, &created).await;
    let mut pool = created.identity_pool_id.clone();

    // In sync: reads only, nothing reported, and observe agrees.
    let before = rig.calls.snapshot();
    let again = rig
        .aws
        .ensure(&desired, KnownPool::Recorded(&pool))
        .await
        .unwrap();
    let cost = rig.calls.snapshot().since(&before);
    assert_eq!(cost.writes(), 0, "{:?}", cost.write_operations());
    assert!(cost.reads() > 0);
    assert!(again.changes.is_empty(), "{:?}", described(&again.changes));
    assert_eq!(again, created_without_changes(&created));
    assert!(
        rig.aws
            .observe(&desired, KnownPool::Recorded(&pool))
            .await
            .unwrap()
            .in_sync()
    );

    for drift in Drift::ALL {
        drift.apply(&rig, &desired, &pool).await;

        let before = rig.calls.snapshot();
        let seen = rig
            .aws
            .observe(&desired, KnownPool::Recorded(&pool))
            .await
            .unwrap();
        assert_eq!(
            rig.calls.snapshot().since(&before).writes(),
            0,
            "observe wrote ({drift:?})"
        );
        assert!(!seen.in_sync(), "observe missed {drift:?}");

        let fixed = rig
            .aws
            .ensure(&desired, KnownPool::Recorded(&pool))
            .await
            .unwrap();
        let text = described(&fixed.changes).join("; ");
        assert!(
            text.contains(drift.reported_as()),
            "{drift:?} reported as: {text}"
        );
        if drift != Drift::PoolDeleted {
            // Observe predicts exactly what ensure then does (a deleted pool's new id and
            // the trust policies naming it are only known once it exists).
            assert_eq!(
                described(&seen.pending),
                described(&fixed.changes),
                "observe and ensure disagree on {drift:?}"
            );
        }
        if drift == Drift::PoolDeleted {
            assert_ne!(
                fixed.identity_pool_id, pool,
                "a new pool replaces the deleted one"
            );
            pool = fixed.identity_pool_id.clone();
        }
        rig.assert_converged(&desired, &fixed).await;

        let before = rig.calls.snapshot();
        let settled = rig
            .aws
            .ensure(&desired, KnownPool::Recorded(&pool))
            .await
            .unwrap();
        let cost = rig.calls.snapshot().since(&before);
        assert_eq!(
            cost.writes(),
            0,
            "after {drift:?}: {:?}",
            cost.write_operations()
        );
        assert!(settled.changes.is_empty());
    }

    let before = rig.calls.snapshot();
    let deleted = rig
        .aws
        .delete(&desired, KnownPool::Recorded(&pool))
        .await
        .unwrap();
    let cost = rig.calls.snapshot().since(&before);
    // Clean-up finds the app's pools by the recorded id and the owner tag: no listing of
    // the region's pools, whatever their number.
    assert_eq!(cost.of("cognito-identity:ListIdentityPools"), 0);
    assert_eq!(cost.of("tag:GetResources"), 1);
    // A role with only its own policy is deleted without listing its policies.
    assert_eq!(cost.of("iam:ListRolePolicies"), 0);
    assert_eq!(cost.of("iam:ListAttachedRolePolicies"), 0);
    assert_eq!(cost.of("iam:DeleteRole"), 3);
    let deleted_objects: Vec<_> = deleted
        .iter()
        .map(|c| (c.action, c.object.clone()))
        .collect();
    assert!(deleted_objects.contains(&(Action::Deleted, AwsObject::IdentityPool(pool.clone()))));
    assert_eq!(
        deleted.len(),
        4,
        "pool and three roles: {:?}",
        described(&deleted)
    );
    rig.assert_nothing_left(&desired, "after delete").await;

    // Deleting again is done already: NotFound everywhere, no error, no change.
    assert!(
        rig.aws
            .delete(&desired, KnownPool::Recorded(&pool))
            .await
            .unwrap()
            .is_empty()
    );
}

fn created_without_changes(
    created: &liveness_operator::aws::Provisioned,
) -> liveness_operator::aws::Provisioned {
    liveness_operator::aws::Provisioned {
        changes: vec![],
        ..created.clone()
    }
}

#[tokio::test]
async fn roles_with_policies_added_by_hand_are_still_deleted() {
    let rig = Rig::new().await;
    let desired = rig.app(FULL_SPEC);
    let pool = rig.provisioned_pool(&desired).await;
    for drift in [Drift::ExtraInlinePolicy, Drift::ManagedPolicyAttached] {
        drift.apply(&rig, &desired, &pool).await;
    }
    let before = rig.calls.snapshot();
    rig.aws
        .delete(&desired, KnownPool::Recorded(&pool))
        .await
        .expect("IAM's DeleteConflict is met by removing the other policies");
    let cost = rig.calls.snapshot().since(&before);
    rig.assert_nothing_left(&desired, "policies added by hand")
        .await;
    // Only the two roles IAM refused to delete had their policies listed.
    assert_eq!(
        cost.of("iam:ListRolePolicies"),
        2,
        "{:?}",
        cost.by_operation
    );
    assert_eq!(cost.of("iam:DetachRolePolicy"), 1);
}

#[tokio::test]
async fn retain_leaves_every_object_and_makes_no_call() {
    let rig = Rig::new().await;
    let mut desired = rig.app(FULL_SPEC);
    desired.deletion_policy = DeletionPolicy::Retain;
    let created = rig
        .aws
        .ensure(&desired, KnownPool::FirstPass)
        .await
        .unwrap();

    let before = rig.calls.snapshot();
    let changes = rig
        .aws
        .delete(&desired, KnownPool::Recorded(&created.identity_pool_id))
        .await
        .unwrap();
    assert!(changes.is_empty());
    assert_eq!(rig.calls.snapshot().since(&before).total(), 0);
    rig.assert_converged(&desired, &created).await;
    assert_eq!(rig.existing_roles(&desired).await.len(), 3);

    rig.tidy(&desired, Some(&created.identity_pool_id)).await;
}

#[tokio::test]
async fn a_pool_is_found_by_its_owner_tag_not_by_status() {
    let rig = Rig::new().await;
    let desired = rig.app(FULL_SPEC);
    let created = rig
        .aws
        .ensure(&desired, KnownPool::FirstPass)
        .await
        .unwrap();

    // Status lost (or a stale id in it): the pool is found by its owner tag with one
    // tag:GetResources, not created again. Only a pass that may follow a crash
    // (`Unrecorded`) also lists the region's pools by name.
    let stale = "us-east-1:00000000-0000-4000-8000-000000000000";
    for known in [
        KnownPool::FirstPass,
        KnownPool::Recorded(stale),
        KnownPool::Unrecorded,
    ] {
        let before = rig.calls.snapshot();
        let found = rig.aws.ensure(&desired, known).await.unwrap();
        let cost = rig.calls.snapshot().since(&before);
        assert_eq!(
            found.identity_pool_id, created.identity_pool_id,
            "{known:?}"
        );
        assert!(
            found.changes.is_empty(),
            "{known:?}: {:?}",
            described(&found.changes)
        );
        assert_eq!(cost.of("tag:GetResources"), 1, "{known:?}");
        let listed = cost.of("cognito-identity:ListIdentityPools");
        assert_eq!(
            listed > 0,
            known == KnownPool::Unrecorded,
            "{known:?}: {listed}"
        );
    }

    // Another app with the same pool name (same namespace/name, other uid) does not
    // take it: pool names are not unique, the owner tag decides.
    let name = desired.app.name.clone();
    let impostor = rig.app_named(FULL_SPEC, &name, "another-uid");
    assert_eq!(impostor.pool.name, desired.pool.name);
    let err = rig
        .aws
        .ensure(&impostor, KnownPool::Recorded(&created.identity_pool_id))
        .await
        .unwrap_err();
    assert_eq!(err.category(), Category::NeedsChange);
    assert!(
        err.to_string().contains("not owned by this LivenessApp"),
        "{err}"
    );
    // It created its own pool before meeting the roles it does not own; tidy that.
    let impostor_pools = rig.pools_named(&desired).await;
    assert_eq!(
        impostor_pools.len(),
        2,
        "the impostor's pool is separate: {impostor_pools:?}"
    );
    rig.tidy(&impostor, None).await;
    assert_eq!(
        rig.pools_named(&desired).await,
        std::slice::from_ref(&created.identity_pool_id)
    );
    assert_eq!(
        rig.existing_roles(&desired).await.len(),
        3,
        "roles of the owner kept"
    );

    rig.tidy(&desired, Some(&created.identity_pool_id)).await;
}

#[tokio::test]
async fn turning_guests_off_unlinks_and_deletes_the_guest_role() {
    let rig = Rig::new().await;
    let with_guests = rig.app(FULL_SPEC);
    let created = rig
        .aws
        .ensure(&with_guests, KnownPool::FirstPass)
        .await
        .unwrap();
    assert!(created.guest_role_arn.is_some());

    let name = with_guests.app.name.clone();
    let without = rig.app_named(
        &FULL_SPEC.replace("allowUnauthenticated: true", "allowUnauthenticated: false"),
        &name,
        &with_guests.owner_uid,
    );
    let updated = rig
        .aws
        .ensure(&without, KnownPool::Recorded(&created.identity_pool_id))
        .await
        .unwrap();
    let text = described(&updated.changes).join("; ");
    assert!(
        text.contains("AllowUnauthenticatedIdentities restored"),
        "{text}"
    );
    assert!(text.contains("deleted guest role"), "{text}");
    assert_eq!(updated.guest_role_arn, None);
    rig.assert_converged(&without, &updated).await;

    rig.tidy(&without, Some(&updated.identity_pool_id)).await;
    assert!(rig.existing_roles(&with_guests).await.is_empty());
}

#[tokio::test]
async fn an_adopted_pool_gets_our_roles_keeps_its_settings_and_is_never_deleted() {
    let rig = Rig::new().await;
    // A pool made elsewhere (e.g. by Amplify), with its own settings and tags.
    let made = rig
        .cognito
        .create_identity_pool()
        .identity_pool_name("amplify_made_pool")
        .allow_unauthenticated_identities(true)
        // Its owner lets apps of the namespace adopt it.
        .identity_pool_tags("faceliveness.dev/adoptable-by", "aws-tests")
        .send()
        .await
        .unwrap();
    let pool = made.identity_pool_id().to_string();
    let desired = rig.app(&format!(
        "{{region: us-east-1, identityPool: {{existingPoolId: '{pool}'}}, endpoint: {{auth: {{mode: none}}}}}}"
    ));

    let adopted = rig
        .aws
        .ensure(&desired, KnownPool::FirstPass)
        .await
        .unwrap();
    assert!(adopted.identity_pool_adopted);
    assert_eq!(adopted.identity_pool_id, pool);
    let link = adopted
        .changes
        .iter()
        .find(|c| c.object == AwsObject::RoleLinks(pool.clone()))
        .expect("links reported");
    assert_eq!(link.action, Action::Adopted);
    rig.assert_converged(&desired, &adopted).await;
    let described_pool = rig
        .cognito
        .describe_identity_pool()
        .identity_pool_id(&pool)
        .send()
        .await
        .unwrap();
    assert!(
        described_pool.allow_unauthenticated_identities(),
        "adopted pool settings are not ours to change"
    );

    let before = rig.calls.snapshot();
    rig.aws
        .ensure(&desired, KnownPool::Recorded(&pool))
        .await
        .unwrap();
    assert_eq!(rig.calls.snapshot().since(&before).writes(), 0);

    let deleted = rig
        .aws
        .delete(&desired, KnownPool::Recorded(&pool))
        .await
        .unwrap();
    assert!(
        deleted
            .iter()
            .any(|c| c.action == Action::Detached && c.object == AwsObject::RoleLinks(pool.clone())),
        "{:?}",
        described(&deleted)
    );
    assert!(rig.existing_roles(&desired).await.is_empty());
    let links = rig
        .links(&liveness_operator::plan::trust::PoolId::parse(&pool).unwrap())
        .await;
    assert!(links.is_empty(), "our roles still linked: {links:?}");
    rig.cognito
        .describe_identity_pool()
        .identity_pool_id(&pool)
        .send()
        .await
        .expect("the adopted pool survives deletion");
    rig.cognito
        .delete_identity_pool()
        .identity_pool_id(&pool)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn adopting_a_pool_that_does_not_exist_asks_for_a_spec_change() {
    let rig = Rig::new().await;
    let desired = rig.app(
        "{region: us-east-1, identityPool: {existingPoolId: 'us-east-1:00000000-0000-4000-8000-00000000dead'}, endpoint: {auth: {mode: none}}}",
    );
    let err = rig
        .aws
        .ensure(&desired, KnownPool::FirstPass)
        .await
        .unwrap_err();
    assert_eq!(err.category(), Category::NeedsChange);
    assert!(
        err.to_string().contains("spec.identityPool.existingPoolId"),
        "{err}"
    );
    rig.tidy(&desired, None).await;
    assert!(rig.existing_roles(&desired).await.is_empty());
}

#[tokio::test]
async fn a_role_that_is_not_ours_is_a_conflict_and_is_never_touched() {
    let rig = Rig::new().await;
    let desired = rig.app(FULL_SPEC);
    let backend = desired.app.role_name(RoleKind::Backend);
    let foreign_trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    rig.iam
        .create_role()
        .role_name(&backend)
        .path("/liveness-operator/")
        .assume_role_policy_document(foreign_trust)
        .send()
        .await
        .unwrap();

    let err = rig
        .aws
        .ensure(&desired, KnownPool::FirstPass)
        .await
        .unwrap_err();
    assert_eq!(err.category(), Category::NeedsChange);
    let text = err.to_string();
    assert!(
        text.contains(&backend) && text.contains("not owned by this LivenessApp"),
        "{text}"
    );

    // Deletion leaves the foreign role alone.
    let pool = rig.pools_named(&desired).await.pop();
    rig.tidy(&desired, pool.as_deref()).await;
    let role = rig.role(&backend).await.expect("foreign role kept");
    assert!(
        liveness_operator::plan::policy::parse_aws_document(
            role.assume_role_policy_document().unwrap()
        )
        .unwrap()
        .to_string()
        .contains("ec2.amazonaws.com")
    );
    rig.iam
        .delete_role()
        .role_name(&backend)
        .send()
        .await
        .unwrap();
}
