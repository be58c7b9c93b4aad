//! Least privilege: what each role of an app may do, by the policies IAM holds for it
//! (ministack's SimulateCustomPolicy, which evaluates the real policy language for these
//! condition-free policies); and that the operator's own policy (`liveness-operator plan
//! --operator-policy`) allows every call a full life of an app makes, and lists nothing that
//! is never called, by the independent evaluator (tests/support/iam_sim.rs), since the
//! operator's policy is all conditions.

mod support;

mod aws_support;

use std::collections::BTreeSet;
use std::time::Duration;

use aws_sdk_iam::types::PolicyEvaluationDecisionType;
use aws_support::drift::Drift;
use aws_support::{FULL_SPEC, Rig, decoded};
use liveness_operator::aws::{KnownPool, LivenessAws, SdkAws};
use liveness_operator::bootstrap::operator_role_arn;
use liveness_operator::names::RoleKind;
use liveness_operator::plan::aws::{DesiredAws, TAG_CLUSTER};
use liveness_operator::plan::boundary::boundary_policy_arn;
use liveness_operator::plan::operator::{
    BOUNDED_ROLE_ACTIONS, POOL_WRITE_ACTIONS, STAR_ONLY_ACTIONS, operator_actions, operator_policy,
};
use support::iam_sim::{Request, decide};

/// The cluster name of the test apps.
const CLUSTER: &str = "testground";

const LIVENESS_ACTIONS: [&str; 3] = [
    "rekognition:StartFaceLivenessSession",
    "rekognition:CreateFaceLivenessSession",
    "rekognition:GetFaceLivenessSessionResults",
];
/// Things no role of an app may do.
const OTHER_ACTIONS: [&str; 7] = [
    "rekognition:DetectFaces",
    "rekognition:CreateCollection",
    "s3:GetObject",
    "s3:ListBucket",
    "iam:PassRole",
    "sts:AssumeRole",
    "kms:Decrypt",
];

/// Whether the role may do `action` on `resource`, by the policies IAM holds for it.
///
/// Workaround (tests only): ministack's SimulatePrincipalPolicy takes everything after
/// `role/` in the ARN as the role name, so it finds no role that has a path (ours live
/// under /liveness-operator/) and denies everything. Real IAM resolves the role. So the
/// role's own policies are read back from IAM and given to SimulateCustomPolicy, which
/// evaluates the same documents.
async fn role_may(rig: &Rig, role_arn: &str, action: &str, resource: &str) -> bool {
    let name = role_arn.rsplit('/').next().unwrap();
    let attached = rig
        .iam
        .list_attached_role_policies()
        .role_name(name)
        .send()
        .await
        .unwrap();
    assert!(
        attached.attached_policies().is_empty(),
        "{name} has managed policies"
    );
    let inline = rig
        .iam
        .list_role_policies()
        .role_name(name)
        .send()
        .await
        .unwrap();
    let mut simulate = rig.iam.simulate_custom_policy();
    for policy in inline.policy_names() {
        let doc = rig
            .iam
            .get_role_policy()
            .role_name(name)
            .policy_name(policy)
            .send()
            .await
            .unwrap();
        simulate = simulate.policy_input_list(decoded(doc.policy_document()).to_string());
    }
    let out = simulate
        .action_names(action)
        .resource_arns(resource)
        .send()
        .await
        .unwrap_or_else(|e| panic!("simulate {action}: {e:?}"));
    out.evaluation_results()[0].eval_decision() == &PolicyEvaluationDecisionType::Allowed
}

#[tokio::test]
async fn browser_roles_may_only_start_and_the_backend_only_create_and_get() {
    let rig = Rig::new().await;
    let desired = rig.app(FULL_SPEC);
    let app = rig
        .aws
        .ensure(&desired, KnownPool::FirstPass)
        .await
        .unwrap();
    let guest = app.guest_role_arn.clone().unwrap();

    for (role, allowed) in [
        (&app.client_role_arn, &LIVENESS_ACTIONS[..1]),
        (&guest, &LIVENESS_ACTIONS[..1]),
        (&app.backend_role_arn, &LIVENESS_ACTIONS[1..]),
    ] {
        for action in LIVENESS_ACTIONS.iter().chain(&OTHER_ACTIONS) {
            assert_eq!(
                role_may(&rig, role, action, "*").await,
                allowed.contains(action),
                "{role} {action}"
            );
        }
        assert!(
            !role_may(&rig, role, "s3:PutObject", "arn:aws:s3:::any-bucket/key").await,
            "{role} may write to S3 without output configured"
        );
    }
    rig.tidy(&desired, Some(&app.identity_pool_id)).await;
}

#[tokio::test]
async fn the_backend_may_write_images_under_its_prefix_and_use_only_its_key() {
    let rig = Rig::new().await;
    let key = format!(
        "arn:aws:kms:us-east-1:{}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        rig.account
    );
    let desired = rig.app(&format!(
        "{{region: us-east-1, identityPool: {{allowUnauthenticated: true}}, endpoint: {{auth: {{mode: none}}, output: {{s3Bucket: audit-bucket, s3KeyPrefix: sessions/, kmsKeyId: '{key}'}}}}}}"
    ));
    let app = rig
        .aws
        .ensure(&desired, KnownPool::FirstPass)
        .await
        .unwrap();
    let backend = &app.backend_role_arn;
    for (resource, allowed) in [
        ("arn:aws:s3:::audit-bucket/sessions/abc/reference.jpg", true),
        ("arn:aws:s3:::audit-bucket/other/abc.jpg", false),
        ("arn:aws:s3:::another-bucket/sessions/abc.jpg", false),
    ] {
        assert_eq!(
            role_may(&rig, backend, "s3:PutObject", resource).await,
            allowed,
            "{resource}"
        );
    }
    let other_key = key.replace("1234abcd", "99999999");
    for action in ["kms:GenerateDataKey", "kms:Decrypt"] {
        assert!(
            role_may(&rig, backend, action, &key).await,
            "{action} on the app's key"
        );
        assert!(
            !role_may(&rig, backend, action, &other_key).await,
            "{action} on another key"
        );
    }
    assert!(!role_may(&rig, backend, "kms:Encrypt", &key).await);
    assert!(
        !role_may(
            &rig,
            backend,
            "s3:GetObject",
            "arn:aws:s3:::audit-bucket/sessions/a"
        )
        .await
    );
    for role in [&app.client_role_arn, app.guest_role_arn.as_ref().unwrap()] {
        assert!(
            !role_may(
                &rig,
                role,
                "s3:PutObject",
                "arn:aws:s3:::audit-bucket/sessions/a"
            )
            .await,
            "{role}"
        );
    }
    rig.tidy(&desired, Some(&app.identity_pool_id)).await;
}

/// A counted call as IAM authorizes it: the resource it acts on and the request context
/// AWS would send (the boundary the role carries or is given, the pool's and the request's
/// cluster tag, the tag keys written).
fn request_of(operation: &str, rig: &Rig, desired: &DesiredAws) -> Request {
    let account = &rig.account;
    let operator = operator_role_arn("aws", account, CLUSTER);
    let policy = operator_policy("aws", account, CLUSTER);
    let role = format!("arn:aws:iam::{account}:role/liveness-operator/{CLUSTER}/lv-some-app");
    let pool = format!(
        "arn:aws:cognito-identity:us-east-1:{account}:identitypool/us-east-1:0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"
    );
    let resource = match operation.split_once(':').unwrap().0 {
        _ if STAR_ONLY_ACTIONS.contains(&operation) => "*".into(),
        "iam" => role,
        "cognito-identity" => pool,
        other => panic!("no resource known for {other} calls"),
    };
    let request = Request::new(operation, &operator, operation, &resource, account, &policy);
    let tag_keys: Vec<&str> = desired.tags.keys().map(String::as_str).collect();
    let resource_tag = format!("aws:ResourceTag/{TAG_CLUSTER}");
    let request_tag = format!("aws:RequestTag/{TAG_CLUSTER}");
    let boundary = boundary_policy_arn("aws", account, CLUSTER);
    match operation {
        _ if BOUNDED_ROLE_ACTIONS.contains(&operation) => {
            request.with("iam:PermissionsBoundary", &boundary)
        }
        "cognito-identity:CreateIdentityPool" => request
            .with(&request_tag, CLUSTER)
            .with_list("aws:TagKeys", &tag_keys),
        "cognito-identity:TagResource" => request
            .with(&resource_tag, CLUSTER)
            .with(&request_tag, CLUSTER)
            .with_list("aws:TagKeys", &tag_keys),
        _ if POOL_WRITE_ACTIONS.contains(&operation) => request.with(&resource_tag, CLUSTER),
        _ => request,
    }
}

#[tokio::test]
async fn the_operator_policy_allows_every_call_of_a_full_run_and_nothing_more() {
    let rig = Rig::new().await;
    // The AWS layer as the operator runs it: role checks through the shared bulk read (as
    // old as zero here, so every check takes one), counted with the rig's calls.
    let config = rig.ground.aws_config().await;
    let aws = SdkAws::new(&config, rig.calls.clone()).with_shared_role_reads(Duration::ZERO);
    // A full life: create, a pass after a crash lost the id, every kind of drift put back,
    // guests turned off, adopt a pool, delete both.
    let desired = rig.app(FULL_SPEC);
    aws.ensure(&desired, KnownPool::FirstPass).await.unwrap();
    let mut pool = aws
        .ensure(&desired, KnownPool::Unrecorded)
        .await
        .unwrap()
        .identity_pool_id;
    for drift in Drift::ALL {
        drift.apply(&rig, &desired, &pool).await;
        pool = aws
            .ensure(&desired, KnownPool::Recorded(&pool))
            .await
            .unwrap()
            .identity_pool_id;
    }
    let no_guests = rig.app_named(
        &FULL_SPEC.replace("allowUnauthenticated: true", "allowUnauthenticated: false"),
        &desired.app.name,
        &desired.owner_uid,
    );
    aws.ensure(&no_guests, KnownPool::Recorded(&pool))
        .await
        .unwrap();
    aws.delete(&no_guests, KnownPool::Recorded(&pool))
        .await
        .unwrap();

    let other = rig
        .cognito
        .create_identity_pool()
        .identity_pool_name("made_elsewhere")
        .allow_unauthenticated_identities(false)
        .send()
        .await
        .unwrap();
    let adopted_id = other.identity_pool_id().to_string();
    // Its owner lets apps of the test namespace adopt it (the tag the operator checks).
    rig.cognito
        .tag_resource()
        .resource_arn(format!(
            "arn:aws:cognito-identity:us-east-1:{}:identitypool/{adopted_id}",
            rig.account
        ))
        .tags("faceliveness.dev/adoptable-by", "aws-tests")
        .send()
        .await
        .unwrap();
    let adopter = rig.app(&format!(
        "{{region: us-east-1, identityPool: {{existingPoolId: '{adopted_id}'}}, endpoint: {{auth: {{mode: none}}}}}}"
    ));
    aws.ensure(&adopter, KnownPool::FirstPass).await.unwrap();
    aws.delete(&adopter, KnownPool::Unrecorded).await.unwrap();
    rig.cognito
        .delete_identity_pool()
        .identity_pool_id(&adopted_id)
        .send()
        .await
        .unwrap();

    // Each call, with the context AWS would send, is allowed by the independent evaluator
    // (ministack's simulator denies every statement that has a condition).
    let called: BTreeSet<String> = rig.calls.snapshot().by_operation.into_keys().collect();
    let requests: Vec<Request> = called
        .iter()
        .map(|operation| request_of(operation, &rig, &desired))
        .collect();
    let refused: Vec<&str> = requests
        .iter()
        .zip(decide(&requests))
        .filter(|(_, decision)| !decision.allowed())
        .map(|(r, _)| r.name.as_str())
        .collect();
    assert!(
        refused.is_empty(),
        "the operator policy does not allow {refused:?}"
    );

    // iam:PassRole is authorized inside SetIdentityPoolRoles, never called itself; its
    // allowed case (our role, to Cognito) is in tests/iam_policies.rs.
    // iam:PutRolePermissionsBoundary is called only to put back a removed or swapped
    // boundary: listed here only when this lifecycle's drifts made the AWS layer call it.
    let boundary_restored = called.contains("iam:PutRolePermissionsBoundary");
    let listed: BTreeSet<String> = operator_actions()
        .into_iter()
        .filter(|a| *a != "iam:PassRole")
        .filter(|a| boundary_restored || *a != "iam:PutRolePermissionsBoundary")
        .map(str::to_string)
        .collect();
    assert_eq!(
        called, listed,
        "the policy lists exactly the operations called"
    );

    // Scoped: other roles are out of reach, and PassRole only goes to Cognito.
    let account = &rig.account;
    let outside = format!("arn:aws:iam::{account}:role/admin");
    let ours = format!(
        "arn:aws:iam::{account}:role/liveness-operator/{CLUSTER}/{}",
        desired.app.role_name(RoleKind::Client)
    );
    let boundary = boundary_policy_arn("aws", account, CLUSTER);
    let as_operator = |name: &str, action: &str, resource: &str| {
        let mut r = request_of(action, &rig, &desired);
        r.name = name.into();
        r.resource = resource.into();
        r
    };
    let denied = [
        as_operator("CreateRole outside the path", "iam:CreateRole", &outside)
            .with("iam:PermissionsBoundary", &boundary),
        as_operator(
            "PutRolePolicy outside the path",
            "iam:PutRolePolicy",
            &outside,
        )
        .with("iam:PermissionsBoundary", &boundary),
        as_operator("DeleteRole outside the path", "iam:DeleteRole", &outside),
        as_operator("PassRole to EC2", "iam:PassRole", &ours)
            .with("iam:PassedToService", "ec2.amazonaws.com"),
        as_operator("PassRole without a service", "iam:PassRole", &ours),
        as_operator(
            "CreateUser",
            "iam:CreateUser",
            &format!("arn:aws:iam::{account}:user/x"),
        ),
    ];
    for (request, decision) in denied.iter().zip(decide(&denied)) {
        assert!(!decision.allowed(), "{} is allowed", request.name);
    }
}
