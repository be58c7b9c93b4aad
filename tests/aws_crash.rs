//! Crash safety: a fresh provisioning is interrupted at every single AWS call, once before
//! the call reaches AWS and once after AWS carried it out (the operator "crashed" before
//! it could record anything). The next run, with no status to go by, must converge to
//! exactly one pool and one of each role, and then be in sync.

mod support;

mod aws_support;

use aws_support::{FULL_SPEC, Rig};
use liveness_operator::aws::{Calls, Category, FailWhen, KnownPool, LivenessAws, SdkAws};

#[tokio::test]
async fn a_failure_at_any_call_of_a_fresh_provisioning_then_a_rerun_converges_without_duplicates() {
    let rig = Rig::new().await;
    let config = rig.ground.aws_config().await;

    // How many calls an uninterrupted fresh provisioning makes.
    let probe = rig.app(FULL_SPEC);
    let before = rig.calls.sequence();
    let created = rig.aws.ensure(&probe, KnownPool::FirstPass).await.unwrap();
    let total = rig.calls.sequence() - before;
    assert!(total >= 10, "a fresh provisioning made only {total} calls");
    rig.tidy(&probe, Some(&created.identity_pool_id)).await;

    let mut cases = Vec::new();
    for n in 1..=total {
        for when in [FailWhen::BeforeSend, FailWhen::AfterResponse] {
            cases.push((n, when));
        }
    }
    // A few at a time: each case has its own app and its own counter.
    for chunk in cases.chunks(8) {
        let runs = chunk.iter().map(|&(n, when)| {
            let rig = &rig;
            let config = &config;
            async move {
                let calls = Calls::new();
                let aws = SdkAws::new(config, calls.clone());
                let desired = rig.app(FULL_SPEC);
                calls.fail_call(n, when);
                let err = aws
                    .ensure(&desired, KnownPool::FirstPass)
                    .await
                    .expect_err(&format!("call #{n} {when:?} should have failed the run"));
                assert_eq!(err.category(), Category::Transient, "#{n} {when:?}: {err}");
                assert!(
                    err.to_string().contains("injected failure"),
                    "#{n} {when:?}: {err}"
                );

                // Nothing was recorded: the re-run starts without a pool id.
                let done = aws
                    .ensure(&desired, KnownPool::Unrecorded)
                    .await
                    .unwrap_or_else(|e| panic!("re-run after #{n} {when:?}: {e}"));
                assert_eq!(
                    rig.pools_named(&desired).await.len(),
                    1,
                    "pools after a failure at call #{n} {when:?}"
                );
                assert_eq!(rig.existing_roles(&desired).await.len(), 3);
                rig.assert_converged(&desired, &done).await;

                let before = calls.snapshot();
                let settled = aws
                    .ensure(&desired, KnownPool::Recorded(&done.identity_pool_id))
                    .await
                    .unwrap();
                let cost = calls.snapshot().since(&before);
                assert_eq!(
                    cost.writes(),
                    0,
                    "#{n} {when:?}: {:?}",
                    cost.write_operations()
                );
                assert!(settled.changes.is_empty());

                aws.delete(&desired, KnownPool::Recorded(&done.identity_pool_id))
                    .await
                    .unwrap();
                rig.assert_nothing_left(&desired, &format!("#{n} {when:?}"))
                    .await;
            }
        });
        futures::future::join_all(runs).await;
    }
}

#[tokio::test]
async fn a_failure_during_deletion_is_finished_by_the_next_deletion() {
    let rig = Rig::new().await;
    let config = rig.ground.aws_config().await;
    let probe = rig.app(FULL_SPEC);
    let created = rig.aws.ensure(&probe, KnownPool::FirstPass).await.unwrap();
    let before = rig.calls.sequence();
    rig.aws
        .delete(&probe, KnownPool::Recorded(&created.identity_pool_id))
        .await
        .unwrap();
    let total = rig.calls.sequence() - before;

    for n in 1..=total {
        let calls = Calls::new();
        let aws = SdkAws::new(&config, calls.clone());
        let desired = rig.app(FULL_SPEC);
        let pool = aws
            .ensure(&desired, KnownPool::FirstPass)
            .await
            .unwrap()
            .identity_pool_id;
        calls.fail_call(calls.sequence() + n, FailWhen::AfterResponse);
        let err = aws
            .delete(&desired, KnownPool::Recorded(&pool))
            .await
            .unwrap_err();
        assert_eq!(err.category(), Category::Transient);
        aws.delete(&desired, KnownPool::Recorded(&pool))
            .await
            .unwrap_or_else(|e| panic!("second delete after failure at #{n}: {e}"));
        rig.assert_nothing_left(&desired, &format!("failure at #{n}"))
            .await;
    }
}
