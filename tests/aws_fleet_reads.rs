//! The shared bulk IAM read on ministack with the real SDK clients: a converged fleet's
//! role checks cost one GetAccountAuthorizationDetails between them instead of four reads
//! per role, every kind of hand edit is still caught once the read is newer than the edit,
//! and a read older than the edit delays the check by at most its age, never writes.

mod support;

mod aws_support;

use std::time::Duration;

use aws_support::drift::Drift;
use aws_support::{FULL_SPEC, Rig};
use liveness_operator::aws::{Calls, Change, KnownPool, LivenessAws, SdkAws};
use liveness_operator::plan::aws::DesiredAws;

const BULK: &str = "iam:GetAccountAuthorizationDetails";
const PER_ROLE_POLICY_READS: [&str; 3] = [
    "iam:ListRolePolicies",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
];

async fn shared(rig: &Rig, max_age: Duration) -> (SdkAws, Calls) {
    let calls = Calls::new();
    let config = rig.ground.aws_config().await;
    (
        SdkAws::new(&config, calls.clone()).with_shared_role_reads(max_age),
        calls,
    )
}

/// Whether an ensure by `aws` finds the app in sync (changes nothing).
async fn in_sync(aws: &SdkAws, desired: &DesiredAws, pool: &str) -> bool {
    aws.ensure(desired, KnownPool::Recorded(pool))
        .await
        .unwrap()
        .changes
        .is_empty()
}

/// Panics unless `changes` report that `drift` was undone.
fn assert_undone(changes: &[Change], drift: Drift) {
    let text: Vec<String> = changes.iter().map(|c| c.to_string()).collect();
    assert!(
        text.join("; ").contains(drift.reported_as()),
        "{drift:?} reported as: {text:?}"
    );
}

#[tokio::test]
async fn a_converged_fleet_checks_its_roles_with_one_bulk_read() {
    let rig = Rig::new().await;
    let apps: Vec<_> = (0..3).map(|_| rig.app(FULL_SPEC)).collect();
    let mut pools = Vec::new();
    for desired in &apps {
        pools.push(
            rig.aws
                .ensure(desired, KnownPool::FirstPass)
                .await
                .unwrap()
                .identity_pool_id,
        );
    }

    let (aws, calls) = shared(&rig, Duration::from_secs(3600)).await;
    for (desired, pool) in apps.iter().zip(&pools) {
        let settled = aws
            .ensure(desired, KnownPool::Recorded(pool))
            .await
            .unwrap();
        assert!(settled.changes.is_empty(), "{:?}", settled.changes);
    }
    let cost = calls.snapshot();
    assert_eq!(cost.writes(), 0, "{:?}", cost.write_operations());
    assert_eq!(cost.of(BULK), 1, "one bulk read for the whole fleet");
    for op in PER_ROLE_POLICY_READS {
        assert_eq!(
            cost.of(op),
            0,
            "{op}: the bulk read has every role's policies"
        );
    }
    // ministack does not report boundaries in the bulk read, so each role's boundary is
    // read with GetRole (AWS reports them: no call at all there).
    assert!(cost.of("iam:GetRole") <= 3 * 3, "{cost:?}");
    let per_app = (cost.reads() - 1) as f64 / apps.len() as f64;
    assert!(
        per_app <= 8.0,
        "{per_app} reads per app per check: {cost:?}"
    );

    for (desired, pool) in apps.iter().zip(&pools) {
        rig.tidy(desired, Some(pool)).await;
    }
}

#[tokio::test]
async fn every_hand_edit_is_caught_by_a_bulk_read_taken_after_it() {
    let rig = Rig::new().await;
    let desired = rig.app(FULL_SPEC);
    let mut pool = rig
        .aws
        .ensure(&desired, KnownPool::FirstPass)
        .await
        .unwrap()
        .identity_pool_id;
    // A read as old as zero: each check takes a new one, after the edit.
    let (aws, calls) = shared(&rig, Duration::ZERO).await;
    for drift in Drift::ALL {
        drift.apply(&rig, &desired, &pool).await;
        let fixed = aws
            .ensure(&desired, KnownPool::Recorded(&pool))
            .await
            .unwrap();
        assert_undone(&fixed.changes, drift);
        pool = fixed.identity_pool_id.clone();
        rig.assert_converged(&desired, &fixed).await;
    }
    assert!(calls.snapshot().of(BULK) > 0, "the bulk read was used");
    rig.tidy(&desired, Some(&pool)).await;
}

#[tokio::test]
async fn an_edit_after_the_bulk_read_is_caught_once_the_read_is_older_than_its_max_age() {
    let rig = Rig::new().await;
    let desired = rig.app(FULL_SPEC);
    let pool = rig.provisioned_pool(&desired).await;
    let max_age = Duration::from_secs(5);
    let (aws, calls) = shared(&rig, max_age).await;
    assert!(in_sync(&aws, &desired, &pool).await);

    Drift::InlinePolicyWidened
        .apply(&rig, &desired, &pool)
        .await;
    // The read from before the edit still vouches for the role: no write on its word.
    let stale = aws
        .ensure(&desired, KnownPool::Recorded(&pool))
        .await
        .unwrap();
    assert!(stale.changes.is_empty(), "{:?}", stale.changes);
    assert_eq!(calls.snapshot().writes(), 0);

    tokio::time::sleep(max_age).await;
    let fixed = aws
        .ensure(&desired, KnownPool::Recorded(&pool))
        .await
        .unwrap();
    assert_undone(&fixed.changes, Drift::InlinePolicyWidened);
    // What this process wrote is read directly until the next bulk read.
    let before = calls.snapshot();
    assert!(in_sync(&aws, &desired, &pool).await);
    let cost = calls.snapshot().since(&before);
    assert_eq!(cost.of(BULK), 0);
    assert!(cost.of("iam:GetRolePolicy") >= 1, "{cost:?}");
    rig.tidy(&desired, Some(&pool)).await;
}
