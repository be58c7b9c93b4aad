use super::*;

const HOUR: Duration = Duration::from_secs(3600);

fn verified_app(generation: i64, verified_generation: i64, at: &str) -> LivenessApp {
    let conditions: Vec<_> = [condition::IDENTITY_POOL_READY, condition::ROLES_READY]
        .iter()
        .map(|t| {
            serde_json::json!({"type": t, "status": "True", "reason": "InSync", "message": "",
                "lastTransitionTime": "2026-12-01T00:00:00Z", "observedGeneration": generation})
        })
        .collect();
    serde_json::from_value(serde_json::json!({
        "apiVersion": "faceliveness.dev/v1alpha1", "kind": "LivenessApp",
        "metadata": {"name": "web", "namespace": "shop", "generation": generation},
        "spec": {"region": "us-east-1"},
        "status": {
            "conditions": conditions,
            "identityPoolId": "us-east-1:0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",
            "identityPoolAdopted": false,
            "clientRoleArn": "arn:aws:iam::123456789012:role/x/client",
            "backendRoleArn": "arn:aws:iam::123456789012:role/x/backend",
            "awsVerified": {"generation": verified_generation, "time": at}
        }
    }))
    .unwrap()
}

fn at(t: &str) -> Timestamp {
    t.parse().unwrap()
}

#[test]
fn a_recent_verification_of_this_generation_is_trusted_with_its_ids() {
    let app = verified_app(3, 3, "2026-12-01T10:00:00Z");
    let (found, verified) = recorded(&app, HOUR, false, at("2026-12-01T10:20:00Z")).unwrap();
    assert_eq!(verified.generation, 3);
    assert_eq!(
        found.identity_pool_id,
        "us-east-1:0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"
    );
    assert_eq!(found.guest_role_arn, None);
    assert!(found.changes.is_empty(), "nothing was changed");
}

#[test]
fn a_new_spec_an_old_check_a_failure_or_a_missing_id_reads_aws_again() {
    let now = at("2026-12-01T10:20:00Z");
    let spec_changed = verified_app(4, 3, "2026-12-01T10:00:00Z");
    assert!(recorded(&spec_changed, HOUR, false, now).is_none());
    let old = verified_app(3, 3, "2026-12-01T09:00:00Z");
    assert!(
        recorded(&old, HOUR, false, now).is_none(),
        "a resync passed"
    );
    let fresh = verified_app(3, 3, "2026-12-01T10:00:00Z");
    assert!(
        recorded(&fresh, HOUR, true, now).is_none(),
        "an attempt failed"
    );
    let mut no_pool = fresh.clone();
    no_pool.status.as_mut().unwrap().identity_pool_id = None;
    assert!(recorded(&no_pool, HOUR, false, now).is_none());
    let mut roles_failed = fresh.clone();
    roles_failed.status.as_mut().unwrap().conditions[1].status = "False".into();
    assert!(recorded(&roles_failed, HOUR, false, now).is_none());
    let mut guests_now = fresh.clone();
    guests_now.spec.identity_pool.allow_unauthenticated = true;
    assert!(
        recorded(&guests_now, HOUR, false, now).is_none(),
        "no guest role recorded"
    );
    let mut never = fresh;
    never.status.as_mut().unwrap().aws_verified = None;
    assert!(recorded(&never, HOUR, false, now).is_none());
}

#[test]
fn verification_records_the_generation_and_the_time() {
    let app = verified_app(5, 3, "2026-12-01T10:00:00Z");
    let record = verified_now(&app, at("2026-12-01T11:00:00Z"));
    assert_eq!(record.generation, 5);
    assert_eq!(record.time.0, at("2026-12-01T11:00:00Z"));
}
