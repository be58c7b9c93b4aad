use std::path::PathBuf;
use std::sync::OnceLock;

use super::*;
use crate::api::auth::AuthConfig;

/// A session key and a verdict key written once for these tests.
fn key_files() -> &'static (PathBuf, PathBuf) {
    static FILES: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    FILES.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("liveness-api-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let session = dir.join("session.key");
        std::fs::write(&session, [42u8; 32]).unwrap();
        let signing = dir.join("verdict.pem");
        let pem = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .unwrap()
            .serialize_pem();
        std::fs::write(&signing, pem).unwrap();
        (session, signing)
    })
}

/// Flags with `extra`; the auth choice and the key files are added unless `extra` names
/// them itself.
fn args(extra: &[&str]) -> Args {
    let (session, signing) = key_files();
    let session = format!("--session-key-file={}", session.display());
    let signing = format!("--signing-key-file={}", signing.display());
    let mut argv = vec!["liveness-api".to_owned()];
    let names = |flag: &str| extra.iter().any(|e| e.starts_with(flag));
    if !names("--auth") && !names("--settings") {
        argv.push("--auth=none".into());
    }
    if !names("--session-key-file") && !names("--settings") {
        argv.push(session);
    }
    if !names("--signing-key-file") && !names("--settings") {
        argv.push(signing);
    }
    argv.extend(extra.iter().map(|e| e.to_string()));
    Args::try_parse_from(argv).expect("flags parse")
}

fn problems_of(extra: &[&str]) -> String {
    Config::from_args(args(extra)).unwrap_err().join("\n")
}

#[test]
fn defaults_need_only_a_region() {
    let c = Config::from_args(args(&["--region", "us-east-1"])).unwrap();
    assert_eq!(c.threshold, 90.0);
    assert_eq!(c.audit_images_limit, 0);
    assert_eq!(c.listen.to_string(), "0.0.0.0:8080");
    assert!(c.output.is_none());
}

#[test]
fn missing_region_names_the_flag_the_variable_and_the_fix() {
    let problems = Config::from_args(args(&[])).unwrap_err();
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].contains("--region / LIVENESS_REGION"),
        "{problems:?}"
    );
    assert!(problems[0].contains("us-east-1"));
}

#[test]
fn every_problem_is_reported_at_once() {
    let problems = Config::from_args(args(&[
        "--region=us-east-1",
        "--confidence-threshold=101",
        "--audit-images-limit=5",
        "--allowed-origins=https://ok.example.com,*,https://x.example.com/path",
        "--output-s3-key-prefix=p/",
        "--identity-pool-id=nope",
        "--public-url=not a url",
    ]))
    .unwrap_err();
    let all = problems.join("\n");
    for needle in [
        "LIVENESS_CONFIDENCE_THRESHOLD",
        "LIVENESS_AUDIT_IMAGES_LIMIT",
        "any web site",
        "has a path",
        "needs a bucket",
        "LIVENESS_IDENTITY_POOL_ID",
        "LIVENESS_PUBLIC_URL",
    ] {
        assert!(all.contains(needle), "{needle} missing from:\n{all}");
    }
}

#[test]
fn origins_and_public_url_are_normalised() {
    let c = Config::from_args(args(&[
        "--region=eu-west-1",
        "--allowed-origins=https://App.Example.com/, http://localhost:3000",
        "--public-url=https://api.example.com/liveness/",
        "--identity-pool-id=eu-west-1:0b0c5f3e-1b2a-4c8e-9d6f-0a1b2c3d4e5f",
    ]))
    .unwrap();
    assert_eq!(
        c.allowed_origins,
        ["https://app.example.com", "http://localhost:3000"]
    );
    assert_eq!(
        c.public_url.as_deref(),
        Some("https://api.example.com/liveness")
    );
}

#[test]
fn the_emulator_url_is_an_https_origin() {
    let c = Config::from_args(args(&[
        "--region=us-east-1",
        "--emulator-url=https://127.0.0.1:8443/",
    ]))
    .unwrap();
    assert_eq!(c.emulator_url.as_deref(), Some("https://127.0.0.1:8443"));
    assert!(
        c.warnings()
            .iter()
            .any(|w| w.contains("not Amazon Rekognition"))
    );
    for bad in ["http://127.0.0.1:8443", "https://127.0.0.1:8443/x", "nope"] {
        let flag = format!("--emulator-url={bad}");
        let problems = Config::from_args(args(&["--region=us-east-1", &flag])).unwrap_err();
        assert!(
            problems[0].contains("LIVENESS_EMULATOR_URL"),
            "{problems:?}"
        );
    }
    let plain = Config::from_args(args(&["--region=us-east-1"])).unwrap();
    assert_eq!(plain.emulator_url, None);
}

#[test]
fn the_operators_settings_are_read_and_explicit_flags_override_them() {
    let settings = crate::contract::EndpointSettings {
        region: Some("eu-west-1".into()),
        confidence_threshold: Some(75.0),
        allowed_origins: vec!["https://app.example.com".into()],
        audit_images_limit: Some(2),
        ..Default::default()
    };
    let with_keys = |settings: &crate::contract::EndpointSettings| {
        let (session, signing) = key_files();
        let mut s = settings.clone();
        s.auth = Some(crate::contract::AuthSettings::None);
        s.session_key_file = Some(session.clone());
        s.signing_key_file = Some(signing.clone());
        format!("--settings={}", s.to_json())
    };
    let json = with_keys(&settings);
    let c = Config::from_args(args(&[&json])).unwrap();
    assert_eq!(
        (c.region.as_str(), c.threshold, c.audit_images_limit),
        ("eu-west-1", 75.0, 2)
    );
    assert_eq!(c.allowed_origins, ["https://app.example.com"]);
    let c = Config::from_args(args(&[&json, "--confidence-threshold=60"])).unwrap();
    assert_eq!(c.threshold, 60.0);
    let bad = crate::contract::EndpointSettings {
        audit_images_limit: Some(9),
        ..settings.clone()
    };
    let problems = Config::from_args(args(&[&with_keys(&bad)])).unwrap_err();
    assert!(
        problems[0].starts_with("LIVENESS_SETTINGS auditImagesLimit: 9 is out of range"),
        "{problems:?}"
    );
    // The operator's trusted proxies are used, a flag replaces them, a bad one is named
    // by its settings field.
    let behind_ingress = crate::contract::EndpointSettings {
        trusted_proxies: vec!["10.0.0.0/8".into()],
        ..settings.clone()
    };
    let forwarded = |c: &Config| {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert("x-forwarded-for", "203.0.113.9".parse().unwrap());
        c.security
            .trusted_proxies
            .client_ip("10.1.1.1".parse().unwrap(), &headers)
            .to_string()
    };
    let c = Config::from_args(args(&[&with_keys(&behind_ingress)])).unwrap();
    assert_eq!(forwarded(&c), "203.0.113.9");
    let c = Config::from_args(args(&[
        &with_keys(&behind_ingress),
        "--trusted-proxies=192.0.2.0/24",
    ]))
    .unwrap();
    assert_eq!(forwarded(&c), "10.1.1.1", "the flag replaced the settings");
    let bad_proxy = crate::contract::EndpointSettings {
        trusted_proxies: vec!["ingress".into()],
        ..settings.clone()
    };
    let problems = Config::from_args(args(&[&with_keys(&bad_proxy)])).unwrap_err();
    assert!(
        problems[0].starts_with("LIVENESS_SETTINGS trustedProxies: 'ingress' is not a CIDR"),
        "{problems:?}"
    );
    let garbage = Config::from_args(args(&["--settings={", "--region=us-east-1"])).unwrap_err();
    assert!(
        garbage[0].contains("--settings / LIVENESS_SETTINGS"),
        "{garbage:?}"
    );
}

#[test]
fn bad_numbers_point_at_the_environment_variable() {
    let err = Args::try_parse_from(["liveness-api", "--audit-images-limit", "many"]).unwrap_err();
    let hint = env_hint(&err).expect("a hint");
    assert!(hint.contains("LIVENESS_AUDIT_IMAGES_LIMIT"), "{hint}");
}

#[test]
fn unknown_liveness_region_is_a_warning_not_an_error() {
    let c = Config::from_args(args(&["--region=ca-central-1"])).unwrap();
    assert!(c.warnings().iter().any(|w| w.contains("ca-central-1")));
    assert!(Config::from_args(args(&["--region=US_EAST"])).is_err());
}

#[test]
fn without_an_auth_choice_the_service_refuses_to_start_naming_both_places() {
    let (session, signing) = key_files();
    let argv = [
        "liveness-api".to_owned(),
        "--region=us-east-1".into(),
        format!("--session-key-file={}", session.display()),
        format!("--signing-key-file={}", signing.display()),
    ];
    let problems = Config::from_args(Args::try_parse_from(argv).unwrap()).unwrap_err();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with("--auth / LIVENESS_AUTH: required"),
        "{problems:?}"
    );
    assert!(
        problems[0].contains("auth field of LIVENESS_SETTINGS"),
        "{problems:?}"
    );
}

#[test]
fn cognito_from_flags_derives_the_issuer_and_the_jwks_address() {
    let c = Config::from_args(args(&[
        "--region=eu-west-1",
        "--auth=cognito",
        "--cognito-user-pool-id=eu-west-1_AbC123",
        "--cognito-client-ids=client1,client2",
    ]))
    .unwrap();
    let issuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123";
    assert_eq!(
        c.security.auth,
        AuthConfig::Cognito {
            user_pool_id: "eu-west-1_AbC123".into(),
            issuer: issuer.into(),
            client_ids: vec!["client1".into(), "client2".into()],
            jwks_url: format!("{issuer}/.well-known/jwks.json"),
        }
    );
    let all = problems_of(&[
        "--region=eu-west-1",
        "--auth=cognito",
        "--cognito-user-pool-id=nope",
    ]);
    assert!(
        all.contains("--cognito-user-pool-id / LIVENESS_COGNITO_USER_POOL_ID"),
        "{all}"
    );
    assert!(
        all.contains("--cognito-client-ids / LIVENESS_COGNITO_CLIENT_IDS: required"),
        "{all}"
    );
}

#[test]
fn a_flag_overrides_the_same_field_of_the_settings_auth() {
    let settings = crate::contract::EndpointSettings {
        region: Some("us-east-1".into()),
        auth: Some(crate::contract::AuthSettings::Cognito {
            user_pool_id: "us-east-1_Pool1".into(),
            client_ids: vec!["client1".into()],
            jwks_url: None,
        }),
        ..Default::default()
    };
    let json = format!("--settings={}", settings.to_json());
    let (session, signing) = key_files();
    let keys = [
        format!("--session-key-file={}", session.display()),
        format!("--signing-key-file={}", signing.display()),
    ];
    let parse = |extra: &[&str]| {
        let mut argv = vec!["liveness-api", json.as_str(), &keys[0], &keys[1]];
        argv.extend_from_slice(extra);
        Config::from_args(Args::try_parse_from(argv).unwrap())
    };
    let c =
        parse(&["--jwks-url=http://127.0.0.1:4566/us-east-1_Pool1/.well-known/jwks.json"]).unwrap();
    let AuthConfig::Cognito {
        user_pool_id,
        jwks_url,
        ..
    } = &c.security.auth
    else {
        panic!("{:?}", c.security.auth)
    };
    assert_eq!(user_pool_id, "us-east-1_Pool1", "from the settings");
    assert_eq!(
        jwks_url,
        "http://127.0.0.1:4566/us-east-1_Pool1/.well-known/jwks.json"
    );
    let c = parse(&["--auth=none"]).unwrap();
    assert_eq!(
        c.security.auth,
        AuthConfig::None,
        "another mode starts from nothing"
    );
    let problems = parse(&["--jwks-url=http://keys.example.com/jwks.json"]).unwrap_err();
    assert!(problems[0].contains("https"), "{problems:?}");
}

#[test]
fn oidc_needs_an_issuer_and_audiences_and_uses_discovery_by_default() {
    let c = Config::from_args(args(&[
        "--region=us-east-1",
        "--auth=oidc",
        "--oidc-issuer=https://login.example.com/realms/shop",
        "--oidc-audiences=web",
    ]))
    .unwrap();
    assert_eq!(
        c.security.auth,
        AuthConfig::Oidc {
            issuer: "https://login.example.com/realms/shop".into(),
            audiences: vec!["web".into()],
            jwks_url: None,
        }
    );
    let all = problems_of(&["--region=us-east-1", "--auth=oidc"]);
    assert!(all.contains("LIVENESS_OIDC_ISSUER: required"), "{all}");
    assert!(all.contains("LIVENESS_OIDC_AUDIENCES: required"), "{all}");
}

#[test]
fn the_keys_are_required_and_checked_at_start() {
    let dir = std::env::temp_dir().join(format!("liveness-api-badkeys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let short = dir.join("short.key");
    std::fs::write(&short, b"too short").unwrap();
    let not_pem = dir.join("not.pem");
    std::fs::write(&not_pem, b"hello").unwrap();
    let all = problems_of(&[
        "--region=us-east-1",
        &format!("--session-key-file={}", short.display()),
        &format!("--signing-key-file={}", not_pem.display()),
    ]);
    assert!(
        all.contains("--session-key-file / LIVENESS_SESSION_KEY_FILE: the session key has 9 bytes"),
        "{all}"
    );
    assert!(
        all.contains("--signing-key-file / LIVENESS_SIGNING_KEY_FILE"),
        "{all}"
    );
    let missing = problems_of(&["--region=us-east-1", "--session-key-file=/nonexistent/key"]);
    assert!(
        missing.contains("cannot read /nonexistent/key"),
        "{missing}"
    );
}

#[test]
fn browser_view_limits_and_challenges_are_checked() {
    let c = Config::from_args(args(&[
        "--region=us-east-1",
        "--challenges=FaceMovementChallenge",
        "--trusted-proxies=10.0.0.0/8,192.0.2.7",
        "--metrics-listen=127.0.0.1:9191",
    ]))
    .unwrap();
    assert_eq!(c.security.challenges, ["FaceMovementChallenge"]);
    assert!(
        !c.security.expose_confidence,
        "the score stays on the server by default"
    );
    assert_eq!(c.security.create_limit_per_minute, 10);
    assert_eq!(c.security.header_read_timeout, Duration::from_secs(10));
    assert_eq!(c.security.metrics_listen.to_string(), "127.0.0.1:9191");
    assert_eq!(c.security.signer.issuer(), "liveness-api");
    let c = Config::from_args(args(&[
        "--region=us-east-1",
        "--expose-confidence",
        "--app=shop/checkout",
    ]))
    .unwrap();
    assert!(c.security.expose_confidence);
    assert_eq!(c.security.signer.issuer(), "liveness-api:shop/checkout");
    let all = problems_of(&[
        "--region=us-east-1",
        "--challenges=Blink,FaceMovementChallenge,FaceMovementChallenge",
        "--trusted-proxies=10.0.0.0/33",
        "--header-read-timeout-seconds=31",
        "--verdict-lifetime-minutes=0",
    ]);
    for needle in [
        "'Blink' is not a challenge",
        "listed twice",
        "LIVENESS_TRUSTED_PROXIES",
        "LIVENESS_HEADER_READ_TIMEOUT_SECONDS",
        "LIVENESS_VERDICT_LIFETIME_MINUTES",
    ] {
        assert!(all.contains(needle), "{needle} missing from:\n{all}");
    }
}
