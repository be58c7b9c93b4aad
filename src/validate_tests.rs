//! Table-driven tests of `validate`: every invalid spec names its field and a fix, and the
//! shipped examples are valid.

use super::*;
use crate::crd::LivenessAppSpec;
use crate::env::{AwsAccount, EnvFlags};

fn env_with(extra_regions: &[String]) -> OperatorEnv {
    EnvFlags {
        cluster: "default",
        oidc_provider: "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE",
        endpoint_image: "liveness-operator:test",
        extra_regions,
        adoptable_pools: &[],
        allowed_output_buckets: &[],
        endpoint_trusted_proxies: &[],
        endpoint_env: &[],
    }
    .parse()
    .unwrap()
    .with_account(AwsAccount::parse("111122223333", "aws").unwrap())
}

fn env() -> OperatorEnv {
    env_with(&[])
}

fn app_of(spec: LivenessAppSpec) -> LivenessApp {
    let mut app = LivenessApp::new("ok", spec);
    app.metadata.namespace = Some("web".into());
    app.metadata.uid = Some("uid-1".into());
    app
}

/// The problems of `spec` in an app with complete metadata (none when it validates).
fn problems(spec: LivenessAppSpec, env: &OperatorEnv) -> Vec<Problem> {
    validate(&app_of(spec), env).err().unwrap_or_default()
}

fn app_problems(app: &LivenessApp) -> Vec<Problem> {
    let mut app = app.clone();
    app.metadata.uid.get_or_insert_with(|| "uid-1".into());
    validate(&app, &env()).err().unwrap_or_default()
}

const USER_POOL: &str = "userPool: {providerName: cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123, clientId: 4abc123def}";

fn spec(yaml: &str) -> LivenessAppSpec {
    serde_yaml::from_str(yaml).unwrap_or_else(|e| panic!("test spec does not parse: {e}\n{yaml}"))
}

/// A valid spec with `endpoint` / `identityPool` overridden by the given YAML lines.
fn with(region: &str, identity_pool: &str, endpoint: &str) -> String {
    // Apps without a user pool must choose how callers authenticate; these tests are
    // about other fields, so they choose `none` unless they say otherwise.
    let endpoint = if identity_pool.contains("userPool") || endpoint.contains("auth") {
        endpoint.to_string()
    } else if endpoint.is_empty() {
        "auth: {mode: none}".to_string()
    } else {
        format!("auth: {{mode: none}}, {endpoint}")
    };
    format!("region: {region}\nidentityPool: {{{identity_pool}}}\nendpoint: {{{endpoint}}}\n")
}

fn ep(endpoint: &str) -> String {
    with("us-east-1", USER_POOL, endpoint)
}

fn pool(identity_pool: &str) -> String {
    with("us-east-1", identity_pool, "")
}

/// (what, spec yaml, expected path, a fragment the message must contain)
fn invalid_cases() -> Vec<(&'static str, String, &'static str, &'static str)> {
    vec![
        (
            "empty region",
            with("''", USER_POOL, ""),
            "spec.region",
            "is required",
        ),
        (
            "region without liveness",
            with("ca-central-1", USER_POOL, ""),
            "spec.region",
            "--extra-liveness-regions ca-central-1",
        ),
        (
            "made-up region",
            with("mars-north-1", USER_POOL, ""),
            "spec.region",
            "does not offer",
        ),
        (
            "uppercase region",
            with("US-EAST-1", USER_POOL, ""),
            "spec.region",
            "use one of",
        ),
        (
            "no way to get credentials",
            pool("allowUnauthenticated: false"),
            "spec.identityPool",
            "allowUnauthenticated: true",
        ),
        (
            "pool id without region",
            pool("existingPoolId: 1b2c3d4e-0000-4000-8000-123456789abc"),
            "spec.identityPool.existingPoolId",
            "<region>:<uuid>",
        ),
        (
            "pool id not hex",
            pool("existingPoolId: 'us-east-1:not-a-uuid'"),
            "spec.identityPool.existingPoolId",
            "<region>:<uuid>",
        ),
        (
            "pool id empty uuid",
            pool("existingPoolId: 'us-east-1:'"),
            "spec.identityPool.existingPoolId",
            "<region>:<uuid>",
        ),
        (
            "pool id too long",
            pool(&format!("existingPoolId: 'us-east-1:{}'", "a".repeat(50))),
            "spec.identityPool.existingPoolId",
            "<region>:<uuid>",
        ),
        (
            "pool in another region",
            pool("existingPoolId: 'eu-west-1:1b2c3d4e-0000-4000-8000-123456789abc'"),
            "spec.identityPool.existingPoolId",
            "spec.region is us-east-1",
        ),
        (
            "user pool provider not cognito",
            pool("userPool: {providerName: accounts.google.com, clientId: abc}"),
            "spec.identityPool.userPool.providerName",
            "cognito-idp.<region>.amazonaws.com/<userPoolId>",
        ),
        (
            "user pool id without region",
            pool(
                "userPool: {providerName: cognito-idp.us-east-1.amazonaws.com/AbC123, clientId: abc}",
            ),
            "spec.identityPool.userPool.providerName",
            "<userPoolId>",
        ),
        (
            "empty client id",
            pool(
                "userPool: {providerName: cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC, clientId: ''}",
            ),
            "spec.identityPool.userPool.clientId",
            "App clients",
        ),
        (
            "client id with dash",
            pool(
                "userPool: {providerName: cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC, clientId: a-b}",
            ),
            "spec.identityPool.userPool.clientId",
            "App clients",
        ),
        (
            "negative replicas",
            ep("replicas: -1"),
            "spec.endpoint.replicas",
            "0 to 100",
        ),
        (
            "too many replicas",
            ep("replicas: 101"),
            "spec.endpoint.replicas",
            "0 to 100",
        ),
        (
            "threshold above 100",
            ep("confidenceThreshold: 101"),
            "spec.endpoint.confidenceThreshold",
            "0 to 100",
        ),
        (
            "negative threshold",
            ep("confidenceThreshold: -0.5"),
            "spec.endpoint.confidenceThreshold",
            "0 to 100",
        ),
        (
            "threshold not finite",
            ep("confidenceThreshold: .inf"),
            "spec.endpoint.confidenceThreshold",
            "0 to 100",
        ),
        (
            "wildcard origin",
            ep("allowedOrigins: ['*']"),
            "spec.endpoint.allowedOrigins[0]",
            "list each origin",
        ),
        (
            "origin with path",
            ep("allowedOrigins: ['https://app.example.com/login']"),
            "spec.endpoint.allowedOrigins[0]",
            "write https://app.example.com",
        ),
        (
            "origin with trailing slash",
            ep("allowedOrigins: ['https://app.example.com/']"),
            "spec.endpoint.allowedOrigins[0]",
            "no trailing '/'",
        ),
        (
            "origin uppercase host",
            ep("allowedOrigins: ['https://App.Example.com']"),
            "spec.endpoint.allowedOrigins[0]",
            "write https://app.example.com",
        ),
        (
            "origin default port",
            ep("allowedOrigins: ['https://app.example.com:443']"),
            "spec.endpoint.allowedOrigins[0]",
            "write https://app.example.com",
        ),
        (
            "origin without scheme",
            ep("allowedOrigins: ['app.example.com']"),
            "spec.endpoint.allowedOrigins[0]",
            "scheme://host[:port]",
        ),
        (
            "origin ftp",
            ep("allowedOrigins: ['ftp://files.example.com']"),
            "spec.endpoint.allowedOrigins[0]",
            "http(s)",
        ),
        (
            "second origin duplicate",
            ep("allowedOrigins: ['https://a.example.com', 'https://a.example.com']"),
            "spec.endpoint.allowedOrigins[1]",
            "listed twice",
        ),
        (
            "too many origins",
            ep(&format!(
                "allowedOrigins: [{}]",
                (0..33)
                    .map(|i| format!("'https://a{i}.example.com'"))
                    .collect::<Vec<_>>()
                    .join(",")
            )),
            "spec.endpoint.allowedOrigins",
            "at most 32",
        ),
        (
            "audit limit 5",
            ep("auditImagesLimit: 5"),
            "spec.endpoint.auditImagesLimit",
            "0 to 4",
        ),
        (
            "audit limit negative",
            ep("auditImagesLimit: -1"),
            "spec.endpoint.auditImagesLimit",
            "0 to 4",
        ),
        (
            "empty bucket (half-given output)",
            ep("output: {s3Bucket: '', s3KeyPrefix: liveness/}"),
            "spec.endpoint.output.s3Bucket",
            "is empty",
        ),
        (
            "bucket uppercase",
            ep("output: {s3Bucket: My-Bucket}"),
            "spec.endpoint.output.s3Bucket",
            "lowercase",
        ),
        (
            "bucket too short",
            ep("output: {s3Bucket: ab}"),
            "spec.endpoint.output.s3Bucket",
            "3 to 63",
        ),
        (
            "bucket ip address",
            ep("output: {s3Bucket: 192.168.1.1}"),
            "spec.endpoint.output.s3Bucket",
            "IP address",
        ),
        (
            "bucket double dot",
            ep("output: {s3Bucket: my..bucket}"),
            "spec.endpoint.output.s3Bucket",
            "adjacent dots",
        ),
        (
            "bucket ends with dash",
            ep("output: {s3Bucket: my-bucket-}"),
            "spec.endpoint.output.s3Bucket",
            "start and end",
        ),
        (
            "bucket reserved suffix",
            ep("output: {s3Bucket: images-s3alias}"),
            "spec.endpoint.output.s3Bucket",
            "reserved",
        ),
        (
            "prefix with leading slash",
            ep("output: {s3Bucket: my-bucket, s3KeyPrefix: /liveness/}"),
            "spec.endpoint.output.s3KeyPrefix",
            "write liveness/",
        ),
        (
            "prefix with space",
            ep("output: {s3Bucket: my-bucket, s3KeyPrefix: 'a b/'}"),
            "spec.endpoint.output.s3KeyPrefix",
            "at most 950",
        ),
        (
            "kms arn other region",
            ep(
                "output: {s3Bucket: my-bucket, kmsKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab'}",
            ),
            "spec.endpoint.output.kmsKeyId",
            "use a KMS key in us-east-1",
        ),
        (
            "kms arn not kms",
            ep(
                "output: {s3Bucket: my-bucket, kmsKeyId: 'arn:aws:s3:us-east-1:111122223333:key/abc'}",
            ),
            "spec.endpoint.output.kmsKeyId",
            "not a KMS key ARN",
        ),
        (
            "kms key with spaces",
            ep("output: {s3Bucket: my-bucket, kmsKeyId: 'my key'}"),
            "spec.endpoint.output.kmsKeyId",
            "not a KMS key",
        ),
        (
            "no auth mode without a user pool",
            with("us-east-1", "allowUnauthenticated: true", "auth: {}"),
            "spec.endpoint.auth.mode",
            "none for a guest app",
        ),
        (
            "cognito auth without a user pool",
            with(
                "us-east-1",
                "allowUnauthenticated: true",
                "auth: {mode: cognito}",
            ),
            "spec.endpoint.auth.mode",
            "cognito needs spec.identityPool.userPool",
        ),
        (
            "oidc without an issuer",
            with(
                "us-east-1",
                "allowUnauthenticated: true",
                "auth: {mode: oidc, audiences: [web]}",
            ),
            "spec.endpoint.auth.issuer",
            "the issuer URL",
        ),
        (
            "oidc without audiences",
            with(
                "us-east-1",
                "allowUnauthenticated: true",
                "auth: {mode: oidc, issuer: 'https://login.example.com'}",
            ),
            "spec.endpoint.auth.audiences",
            "at least one audience",
        ),
        (
            "verdict key rotation too short",
            ep("verdictKeyRotation: 10m"),
            "spec.endpoint.verdictKeyRotation",
            "too short",
        ),
        (
            "bare kms key id",
            ep("output: {s3Bucket: abc, kmsKeyId: 1234abcd-12ab-34cd-56ef-1234567890ab}"),
            "spec.endpoint.output.kmsKeyId",
            "use the key's ARN, arn:aws:kms:us-east-1:111122223333:key/<id>",
        ),
        (
            "kms key of another account",
            ep(
                "output: {s3Bucket: abc, kmsKeyId: 'arn:aws:kms:us-east-1:999988887777:key/1234abcd'}",
            ),
            "spec.endpoint.output.kmsKeyId",
            "account 999988887777",
        ),
    ]
}

#[test]
fn output_buckets_outside_the_operators_patterns_are_refused() {
    let patterns = vec!["liveness-{namespace}-*".to_string()];
    let env = EnvFlags {
        cluster: "default",
        oidc_provider: "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE",
        endpoint_image: "liveness-operator:test",
        extra_regions: &[],
        adoptable_pools: &[],
        allowed_output_buckets: &patterns,
        endpoint_trusted_proxies: &[],
        endpoint_env: &[],
    }
    .parse()
    .unwrap()
    .with_account(AwsAccount::parse("111122223333", "aws").unwrap());
    let ok = problems(spec(&ep("output: {s3Bucket: liveness-web-audit}")), &env);
    assert_eq!(ok, vec![]);
    let refused = problems(spec(&ep("output: {s3Bucket: liveness-shop-audit}")), &env);
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].path, "spec.endpoint.output.s3Bucket");
    assert!(
        refused[0]
            .message
            .contains("the operator allows liveness-web-* (--allowed-output-buckets)"),
        "{}",
        refused[0].message
    );
}

#[test]
fn every_invalid_spec_names_its_field_and_a_fix() {
    let cases = invalid_cases();
    assert!(cases.len() >= 30);
    for (what, yaml, path, fragment) in cases {
        let problems = problems(spec(&yaml), &env());
        let hit = problems.iter().find(|p| p.path == path);
        let hit =
            hit.unwrap_or_else(|| panic!("{what}: expected a problem at {path}, got {problems:?}"));
        assert!(
            hit.message.contains(fragment),
            "{what}: message '{}' lacks '{fragment}'",
            hit.message
        );
        assert_eq!(
            problems.len(),
            1,
            "{what}: only {path} is wrong, got {problems:?}"
        );
    }
}

#[test]
fn all_problems_are_reported_at_once() {
    let yaml = "region: ca-central-1\nendpoint: {confidenceThreshold: 120, auditImagesLimit: 9, allowedOrigins: ['*']}\n";
    let paths: Vec<String> = problems(spec(yaml), &env())
        .into_iter()
        .map(|p| p.path)
        .collect();
    assert_eq!(
        paths,
        [
            "spec.region",
            "spec.identityPool",
            "spec.endpoint.confidenceThreshold",
            "spec.endpoint.allowedOrigins[0]",
            "spec.endpoint.auditImagesLimit",
            "spec.endpoint.auth.mode"
        ]
    );
}

#[test]
fn extra_regions_from_the_operator_are_accepted() {
    let yaml = with("ca-central-1", USER_POOL, "");
    let env = env_with(&["ca-central-1".into()]);
    assert_eq!(problems(spec(&yaml), &env), vec![]);
}

#[test]
fn valid_specs_have_no_problems() {
    let valid = [
        with("us-east-1", USER_POOL, ""),
        with(
            "eu-west-1",
            "allowUnauthenticated: true",
            "confidenceThreshold: 0, replicas: 0",
        ),
        pool("existingPoolId: 'us-east-1:1b2c3d4e-0000-4000-8000-123456789abc'"),
        ep(
            "allowedOrigins: ['http://localhost:3000', 'https://app.example.com:8443'], confidenceThreshold: 100, auditImagesLimit: 4",
        ),
        ep(
            "output: {s3Bucket: my.liveness-images, s3KeyPrefix: \"sessions/!x_(1)*'.\", kmsKeyId: 'arn:aws:kms:us-east-1:111122223333:alias/liveness'}",
        ),
    ];
    for yaml in valid {
        assert_eq!(problems(spec(&yaml), &env()), vec![], "{yaml}");
    }
}

#[test]
fn shipped_examples_are_valid() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("examples/ exists") {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let text = std::fs::read_to_string(&path).unwrap();
            let app: LivenessApp = serde_yaml::from_str(&text)
                .unwrap_or_else(|e| panic!("{} is not a LivenessApp: {e}", path.display()));
            let mut app = app;
            app.metadata
                .namespace
                .get_or_insert_with(|| "default".into());
            assert_eq!(app_problems(&app), vec![], "{}", path.display());
            seen += 1;
        }
    }
    assert!(seen >= 4, "expected the four examples, found {seen}");
}

#[test]
fn any_valid_kubernetes_name_is_accepted_and_names_its_children() {
    let base: LivenessApp = serde_yaml::from_str(&format!(
        "apiVersion: faceliveness.dev/v1alpha1\nkind: LivenessApp\nmetadata: {{name: ok, namespace: web}}\nspec:\n  region: us-east-1\n  identityPool: {{{USER_POOL}}}\n"
    ))
    .unwrap();
    for name in [
        "a".repeat(253),
        "1password".to_string(),
        "shop.v2".to_string(),
    ] {
        let mut app = base.clone();
        app.metadata.name = Some(name.clone());
        app.metadata.uid = Some("uid-1".into());
        let valid = validate(&app, &env()).unwrap_or_else(|p| panic!("{name}: {p:?}"));
        assert_eq!(valid.identity.name, name);
        assert!(valid.identity.endpoint_name().len() <= 63);
        assert_eq!(valid.owner.name, name);
        assert_eq!(valid.owner.block_owner_deletion, Some(true));
    }
}

#[test]
fn missing_metadata_is_a_problem_not_a_panic() {
    let app = LivenessApp::new("ok", spec(&ep("")));
    let paths: Vec<String> = validate(&app, &env())
        .unwrap_err()
        .into_iter()
        .map(|p| p.path)
        .collect();
    assert_eq!(paths, ["metadata.namespace", "metadata.uid"]);
}

#[test]
fn cleanup_uses_what_was_recorded_not_the_current_spec() {
    let mut app = app_of(spec(&ep("")));
    assert!(
        for_cleanup(&app, &env()).unwrap().is_ok(),
        "a valid app cleans up"
    );
    app.spec.endpoint.confidence_threshold = 300.0;
    assert!(
        for_cleanup(&app, &env()).is_none(),
        "never provisioned and invalid: nothing to clean"
    );
    app.status = Some(crate::crd::LivenessAppStatus {
        identity_pool_id: Some("eu-west-1:1b2c3d4e-0000-4000-8000-123456789abc".into()),
        identity_pool_adopted: Some(true),
        ..Default::default()
    });
    let recorded = for_cleanup(&app, &env()).unwrap().unwrap();
    assert_eq!(recorded.region, "eu-west-1");
    assert!(
        matches!(recorded.pool.mode, PoolMode::Adopt(ref id) if id.as_str().starts_with("eu-west-1:"))
    );
}

#[test]
fn a_region_edit_after_provisioning_is_refused_even_without_cel() {
    let mut app: LivenessApp = serde_yaml::from_str(
        "apiVersion: faceliveness.dev/v1alpha1\nkind: LivenessApp\nmetadata: {name: ok, namespace: web}\nspec:\n  region: eu-west-1\n  identityPool: {allowUnauthenticated: true}\n  endpoint: {auth: {mode: none}}\n",
    )
    .unwrap();
    app.status = Some(crate::crd::LivenessAppStatus {
        identity_pool_id: Some("us-east-1:1b2c3d4e-0000-4000-8000-123456789abc".into()),
        ..Default::default()
    });
    let problems = app_problems(&app);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].path, "spec.region");
    assert!(
        problems[0]
            .message
            .contains("set spec.region back to us-east-1"),
        "{}",
        problems[0].message
    );
}
