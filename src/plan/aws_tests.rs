use super::*;
use crate::testing;
use serde_json::{Value, json};

fn env() -> OperatorEnv {
    testing::operator_env("prod", "123456789012")
}

fn plan(yaml: &str) -> DesiredAws {
    let app = testing::app("web", "onboarding", "0b6f-uid", yaml);
    desired_aws(&testing::validated(&app, &env()), &env())
}

fn json_of(doc: &PolicyDocument) -> Value {
    serde_json::to_value(doc).unwrap()
}

fn actions(doc: &PolicyDocument) -> Vec<String> {
    doc.statement
        .iter()
        .flat_map(|s| s.action.clone())
        .collect()
}

const GUESTS: &str = "{region: us-east-1, identityPool: {allowUnauthenticated: true}, endpoint: {auth: {mode: none}}}";

#[test]
fn every_cognito_trust_policy_is_bound_to_the_pool_and_its_amr() {
    let pool = PoolId::parse("us-east-1:0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9").unwrap();
    let desired = plan(GUESTS);
    for (role, amr) in [
        (&desired.client_role, "authenticated"),
        (desired.guest_role.as_ref().unwrap(), "unauthenticated"),
    ] {
        let trust = json_of(role.trust_policy(&pool).document());
        assert_eq!(
            trust["Statement"][0],
            json!({
                "Sid": "IdentityPool",
                "Effect": "Allow",
                "Principal": {"Federated": ["cognito-identity.amazonaws.com"]},
                "Action": ["sts:AssumeRoleWithWebIdentity"],
                "Condition": {
                    "StringEquals": {"cognito-identity.amazonaws.com:aud": [pool.as_str()]},
                    "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": [amr]}
                }
            }),
            "{:?}",
            role.kind
        );
        assert_eq!(trust["Statement"].as_array().unwrap().len(), 1);
    }
}

#[test]
fn no_trust_policy_is_ever_produced_without_an_audience_condition() {
    // Every constructor, every role of every spec shape, with a real and the
    // placeholder pool id: each statement restricts the token audience.
    let pools = [
        PoolId::parse("eu-west-1:1b2c3d4e-0000-4000-8000-123456789abc").unwrap(),
        PoolId::placeholder(),
    ];
    let specs = [
        GUESTS,
        "{region: us-east-1, identityPool: {userPool: {providerName: cognito-idp.us-east-1.amazonaws.com/us-east-1_A, clientId: c}}}",
        "{region: us-west-2, identityPool: {existingPoolId: 'us-west-2:0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9', allowUnauthenticated: true}, endpoint: {auth: {mode: none}}}",
    ];
    for yaml in specs {
        let desired = plan(yaml);
        for role in desired.roles() {
            for pool in &pools {
                let trust = json_of(role.trust_policy(pool).document());
                for statement in trust["Statement"].as_array().unwrap() {
                    let equals = statement["Condition"]["StringEquals"].as_object().unwrap();
                    let aud: Vec<_> = equals.keys().filter(|k| k.ends_with(":aud")).collect();
                    assert_eq!(aud.len(), 1, "{:?} of {yaml}: {statement}", role.kind);
                    assert!(!equals[aud[0].as_str()][0].as_str().unwrap().is_empty());
                }
            }
        }
    }
}

#[test]
fn backend_trusts_only_the_endpoint_service_account_through_irsa() {
    let desired = plan(GUESTS);
    let trust = json_of(
        desired
            .backend_role
            .trust_policy(&PoolId::placeholder())
            .document(),
    );
    let provider = "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE";
    assert_eq!(
        trust["Statement"][0]["Principal"]["Federated"][0],
        format!("arn:aws:iam::123456789012:oidc-provider/{provider}")
    );
    assert_eq!(
        trust["Statement"][0]["Condition"]["StringEquals"],
        json!({
            format!("{provider}:sub"): [format!("system:serviceaccount:web:{}", desired.app.endpoint_name())],
            format!("{provider}:aud"): ["sts.amazonaws.com"],
        })
    );
}

#[test]
fn browser_roles_may_only_start_a_liveness_stream() {
    let desired = plan(GUESTS);
    for role in [&desired.client_role, desired.guest_role.as_ref().unwrap()] {
        assert_eq!(
            actions(&role.policy),
            ["rekognition:StartFaceLivenessSession"]
        );
        assert_eq!(
            role.policy.statement[0].resource,
            Some(vec!["*".to_string()])
        );
    }
}

#[test]
fn backend_may_create_and_read_sessions_and_touches_s3_or_kms_only_when_configured() {
    let bare = plan(GUESTS);
    assert_eq!(
        actions(&bare.backend_role.policy),
        [
            "rekognition:CreateFaceLivenessSession",
            "rekognition:GetFaceLivenessSessionResults"
        ]
    );

    let s3_only = plan(
        "{region: us-east-1, identityPool: {allowUnauthenticated: true}, endpoint: {auth: {mode: none}, output: {s3Bucket: audit-bucket, s3KeyPrefix: sessions/}}}",
    );
    let statements = &s3_only.backend_role.policy.statement;
    assert_eq!(statements.len(), 2);
    assert_eq!(statements[1].action, ["s3:PutObject"]);
    assert_eq!(
        statements[1].resource,
        Some(vec!["arn:aws:s3:::audit-bucket/sessions/*".to_string()])
    );
    // A bucket name alone could be another account's: the write is pinned to ours.
    assert_eq!(
        statements[1].condition["StringEquals"]["s3:ResourceAccount"],
        ["123456789012"]
    );

    let with_key = |key: &str| {
        let desired = plan(&format!(
            "{{region: us-east-1, identityPool: {{allowUnauthenticated: true}}, endpoint: {{auth: {{mode: none}}, output: {{s3Bucket: b-1, kmsKeyId: '{key}'}}}}}}"
        ));
        let statement = desired.backend_role.policy.statement[2].clone();
        assert_eq!(statement.action, ["kms:GenerateDataKey", "kms:Decrypt"]);
        assert_eq!(
            desired.backend_role.policy.statement[1].resource,
            Some(vec!["arn:aws:s3:::b-1/*".to_string()])
        );
        statement
    };
    let arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    assert_eq!(with_key(arn).resource, Some(vec![arn.to_string()]));
    let alias = with_key("arn:aws:kms:us-east-1:123456789012:alias/liveness");
    assert_eq!(
        alias.resource,
        Some(vec!["arn:aws:kms:us-east-1:123456789012:key/*".to_string()])
    );
    assert_eq!(
        alias.condition["ForAnyValue:StringEquals"]["kms:ResourceAliases"],
        ["alias/liveness"]
    );
}

#[test]
fn names_paths_and_tags_come_from_the_app_identity() {
    let desired = plan(GUESTS);
    let identity = AppIdentity {
        cluster: "prod".into(),
        namespace: "web".into(),
        name: "onboarding".into(),
    };
    assert_eq!(desired.pool.name, identity.pool_name());
    assert_eq!(desired.pool.mode, PoolMode::Create);
    assert!(desired.pool.allow_unauthenticated);
    for role in desired.roles() {
        assert_eq!(role.name, identity.role_name(role.kind));
        assert_eq!(role.path, "/liveness-operator/prod/");
        assert_eq!(
            role.arn,
            format!(
                "arn:aws:iam::123456789012:role/liveness-operator/prod/{}",
                role.name
            )
        );
        assert_eq!(role.policy_name, INLINE_POLICY_NAME);
    }
    assert_eq!(
        desired.tags,
        BTreeMap::from([
            (
                "faceliveness.dev/owner-uid".to_string(),
                "0b6f-uid".to_string()
            ),
            ("faceliveness.dev/app".into(), "web/onboarding".into()),
            ("faceliveness.dev/cluster".into(), "prod".into()),
            ("managed-by".into(), "liveness-operator".into()),
        ])
    );
    assert!(desired.owns(&desired.tags));
    let mut foreign = desired.tags.clone();
    foreign.insert(TAG_OWNER_UID.into(), "someone-else".into());
    assert!(!desired.owns(&foreign));
}

#[test]
fn guests_off_means_no_guest_role_and_user_pool_becomes_a_provider() {
    let desired = plan(
        "{region: us-east-1, deletionPolicy: Retain, identityPool: {allowUnauthenticated: false, userPool: {providerName: cognito-idp.us-east-1.amazonaws.com/us-east-1_A, clientId: abc}}}",
    );
    assert!(desired.guest_role.is_none());
    assert_eq!(desired.roles().count(), 2);
    assert_eq!(desired.all_role_names().len(), 3);
    assert_eq!(desired.deletion_policy, DeletionPolicy::Retain);
    assert_eq!(
        desired.pool.providers,
        [CognitoProvider {
            provider_name: "cognito-idp.us-east-1.amazonaws.com/us-east-1_A".into(),
            client_id: "abc".into()
        }]
    );
}

#[test]
fn existing_pool_is_adopted_and_bad_inputs_never_reach_the_plan() {
    let adopted = plan(
        "{region: us-west-2, identityPool: {existingPoolId: 'us-west-2:0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9'}, endpoint: {auth: {mode: none}}}",
    );
    let PoolMode::Adopt(id) = &adopted.pool.mode else {
        panic!("not adopted")
    };
    assert_eq!(
        adopted.pool_arn(id),
        "arn:aws:cognito-identity:us-west-2:123456789012:identitypool/us-west-2:0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"
    );
    // A malformed pool id or OIDC provider never reaches the plan: validation and the
    // operator's start refuse them (see validate_tests and env).
    let bad = testing::app(
        "web",
        "onboarding",
        "0b6f-uid",
        "{region: us-west-2, identityPool: {existingPoolId: 'nope'}, endpoint: {auth: {mode: none}}}",
    );
    assert!(crate::validate::validate(&bad, &env()).is_err());
}
