//! Tenant isolation in AWS, on ministack with the real SDK clients: an existing identity
//! pool is adopted only when its owner allows it (the pool's `faceliveness.dev/adoptable-by`
//! tag lists the app's namespace, or the operator's `--adoptable-pools` names it), a pool
//! the operator made for another app is never adopted, and a refusal writes nothing.

mod support;

mod aws_support;

use aws_support::Rig;
use liveness_operator::aws::{KnownPool, LivenessAws, Phase};
use liveness_operator::env::AdoptablePool;
use liveness_operator::plan::aws::{DesiredAws, TAG_ADOPTABLE_BY};
use liveness_operator::plan::trust::PoolId;

/// A pool made by hand (team B's), with team B's role linked for signed-in users.
async fn foreign_pool(rig: &Rig) -> (String, String) {
    let id = rig
        .cognito
        .create_identity_pool()
        .identity_pool_name("team_b_pool")
        .allow_unauthenticated_identities(false)
        .send()
        .await
        .unwrap()
        .identity_pool_id;
    let role = format!("arn:aws:iam::{}:role/team-b-signed-in", rig.account);
    rig.cognito
        .set_identity_pool_roles()
        .identity_pool_id(&id)
        .roles("authenticated", &role)
        .send()
        .await
        .unwrap();
    (id, role)
}

fn adopting(pool: &str) -> String {
    format!(
        "{{region: us-east-1, identityPool: {{existingPoolId: '{pool}'}}, endpoint: {{auth: {{mode: none}}}}}}"
    )
}

async fn signed_in_role(rig: &Rig, pool: &str) -> Option<String> {
    let roles = rig
        .cognito
        .get_identity_pool_roles()
        .identity_pool_id(pool)
        .send()
        .await
        .unwrap();
    roles.roles()?.get("authenticated").cloned()
}

async fn tag_pool(rig: &Rig, desired: &DesiredAws, pool: &str, key: &str, value: &str) {
    rig.cognito
        .tag_resource()
        .resource_arn(desired.pool_arn(&PoolId::parse(pool).unwrap()))
        .tags(key, value)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn an_untagged_foreign_pool_is_refused_untouched_and_adopted_once_tagged() {
    let rig = Rig::new().await;
    let (pool, team_b_role) = foreign_pool(&rig).await;
    let desired = rig.app(&adopting(&pool));

    let before = rig.calls.snapshot();
    let refused = rig
        .aws
        .ensure(&desired, KnownPool::FirstPass)
        .await
        .unwrap_err();
    let cost = rig.calls.snapshot().since(&before);
    assert_eq!(refused.code(), Some("AdoptionRefused"), "{refused}");
    assert_eq!(refused.phase(), Some(Phase::IdentityPool));
    let message = refused.to_string();
    assert!(
        message.contains(&format!("{TAG_ADOPTABLE_BY}=aws-tests")),
        "the refusal names the tag to add: {message}"
    );
    assert_eq!(
        cost.writes(),
        0,
        "a refused adoption wrote: {:?}",
        cost.write_operations()
    );
    assert_eq!(signed_in_role(&rig, &pool).await, Some(team_b_role.clone()));
    assert!(
        rig.existing_roles(&desired).await.is_empty(),
        "no role was made"
    );

    // A tag naming another namespace does not open the pool either.
    tag_pool(&rig, &desired, &pool, TAG_ADOPTABLE_BY, "team-b other").await;
    let still = rig
        .aws
        .ensure(&desired, KnownPool::FirstPass)
        .await
        .unwrap_err();
    assert_eq!(still.code(), Some("AdoptionRefused"));

    tag_pool(&rig, &desired, &pool, TAG_ADOPTABLE_BY, "team-b aws-tests").await;
    let adopted = rig
        .aws
        .ensure(&desired, KnownPool::FirstPass)
        .await
        .unwrap();
    assert!(adopted.identity_pool_adopted);
    assert_eq!(adopted.identity_pool_id, pool);
    assert_eq!(
        signed_in_role(&rig, &pool).await,
        Some(adopted.client_role_arn.clone())
    );
    rig.tidy(&desired, Some(&pool)).await;
}

#[tokio::test]
async fn the_operator_flag_allows_a_pool_for_one_namespace() {
    let rig = Rig::new().await;
    let (pool, _) = foreign_pool(&rig).await;
    let grant = |namespace: &str| AdoptablePool {
        namespace: Some(namespace.into()),
        pool_id: pool.clone(),
    };
    let elsewhere = rig.app_with(&adopting(&pool), |env| {
        env.adoptable_pools.push(grant("another-namespace"))
    });
    let refused = rig
        .aws
        .ensure(&elsewhere, KnownPool::FirstPass)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some("AdoptionRefused"));

    let granted = rig.app_with(&adopting(&pool), |env| {
        env.adoptable_pools.push(grant("aws-tests"))
    });
    let adopted = rig
        .aws
        .ensure(&granted, KnownPool::FirstPass)
        .await
        .unwrap();
    assert!(adopted.identity_pool_adopted);
    rig.tidy(&granted, Some(&pool)).await;
}

#[tokio::test]
async fn a_pool_made_for_another_app_is_never_adopted() {
    let rig = Rig::new().await;
    let owner = rig.app("{region: us-east-1, identityPool: {allowUnauthenticated: true}, endpoint: {auth: {mode: none}}}");
    let made = rig.aws.ensure(&owner, KnownPool::FirstPass).await.unwrap();
    let pool = made.identity_pool_id.clone();
    // Even an adoptable-by tag and the operator's flag do not hand it to another app.
    tag_pool(&rig, &owner, &pool, TAG_ADOPTABLE_BY, "aws-tests").await;
    let thief = rig.app_with(&adopting(&pool), |env| {
        env.adoptable_pools.push(AdoptablePool {
            namespace: None,
            pool_id: pool.clone(),
        })
    });
    let before = rig.calls.snapshot();
    let refused = rig
        .aws
        .ensure(&thief, KnownPool::FirstPass)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some("AdoptionRefused"));
    assert!(
        refused.to_string().contains("belongs to LivenessApp"),
        "{refused}"
    );
    assert_eq!(rig.calls.snapshot().since(&before).writes(), 0);
    assert_eq!(
        signed_in_role(&rig, &pool).await,
        Some(made.client_role_arn.clone()),
        "the owner's links are untouched"
    );
    rig.tidy(&owner, Some(&pool)).await;
}
