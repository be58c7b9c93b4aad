use super::*;

#[test]
fn pool_ids_are_region_colon_uuid() {
    assert!(identity_pool_id("us-east-1:1b2c3d4e-0000-4000-8000-123456789abc").is_ok());
    for bad in [
        "us-east-1",
        "us-east-1:",
        "us-east-1:not-a-uuid",
        "US-EAST-1:1b2c3d4e-0000-4000-8000-123456789abc",
        "us-east-1:1b2c3d4e-0000-4000-8000-123456789abcd",
        ":1b2c3d4e-0000-4000-8000-123456789abc",
    ] {
        let err = identity_pool_id(bad).unwrap_err();
        assert!(err.contains("<region>:<uuid>"), "{bad}: {err}");
    }
    assert_eq!(
        pool_region("eu-west-1:1b2c3d4e-0000-4000-8000-123456789abc"),
        "eu-west-1"
    );
}

#[test]
fn regions_and_cluster_names() {
    assert!(region("ap-southeast-2").is_ok());
    assert!(region("").unwrap_err().contains("required"));
    assert!(region("US_EAST").is_err());
    assert!(cluster_name("prod-eu").is_ok());
    for bad in ["", "-a", "Prod", "a_b", &"x".repeat(64)] {
        assert!(cluster_name(bad).is_err(), "{bad}");
    }
}

#[test]
fn origins_are_canonical_in_specs_and_normalised_for_flags() {
    assert_eq!(
        origin("https://app.example.com", true).unwrap(),
        "https://app.example.com"
    );
    let strict = origin("https://App.example.com/", true).unwrap_err();
    assert!(strict.contains("write https://app.example.com"), "{strict}");
    assert_eq!(
        origin("https://App.example.com/", false).unwrap(),
        "https://app.example.com"
    );
    assert!(origin("*", false).unwrap_err().contains("any web site"));
    assert!(
        origin("https://x.example.com/path", false)
            .unwrap_err()
            .contains("path")
    );
    assert!(origin("ftp://x.example.com", false).is_err());
}

#[test]
fn numbers_have_one_range_each() {
    assert!(confidence_threshold(DEFAULT_CONFIDENCE_THRESHOLD).is_ok());
    assert!(confidence_threshold(100.5).is_err());
    assert!(confidence_threshold(f64::NAN).is_err());
    assert_eq!(replicas(100), Ok(100));
    assert!(replicas(101).is_err());
    assert!(replicas(-1).is_err());
    assert_eq!(audit_images_limit(4), Ok(4));
    assert!(audit_images_limit(5).unwrap_err().contains("0 to 4"));
}

#[test]
fn buckets_prefixes_and_keys() {
    assert!(s3_bucket("liveness-images.example").is_ok());
    for (bad, why) in [
        ("ab", "3 to 63"),
        ("Bucket", "lowercase"),
        ("a..b", "adjacent"),
        ("192.168.1.1", "IP address"),
        ("-abc", "start and end"),
        ("xn--abc", "reserved"),
    ] {
        let err = s3_bucket(bad).unwrap_err();
        assert!(err.contains(why), "{bad}: {err}");
    }
    assert!(s3_key_prefix("sessions/").is_ok());
    assert!(
        s3_key_prefix("/sessions")
            .unwrap_err()
            .contains("write sessions")
    );
    assert!(s3_key_prefix(&"a".repeat(951)).is_err());
    let ours = Some("111122223333");
    assert!(kms_key("alias/liveness", "us-east-1", None).is_ok());
    assert!(
        kms_key("alias/liveness", "us-east-1", ours)
            .unwrap_err()
            .contains("use the key's ARN")
    );
    assert!(
        kms_key(
            "arn:aws:kms:us-east-1:111122223333:key/abc",
            "us-east-1",
            ours
        )
        .is_ok()
    );
    assert!(
        kms_key(
            "arn:aws:kms:us-east-1:111122223333:alias/x",
            "us-east-1",
            ours
        )
        .is_ok()
    );
    assert!(
        kms_key(
            "arn:aws:kms:us-east-1:999988887777:key/abc",
            "us-east-1",
            ours
        )
        .unwrap_err()
        .contains("account 999988887777")
    );
    assert!(
        kms_key(
            "arn:aws:kms:eu-west-1:111122223333:key/abc",
            "us-east-1",
            ours
        )
        .unwrap_err()
        .contains("in eu-west-1")
    );
}

#[test]
fn output_buckets_follow_the_operators_patterns() {
    let patterns = vec!["liveness-{namespace}-*".to_string(), "shared.images".into()];
    assert!(output_bucket_allowed(
        "liveness-web-audit",
        "web",
        &patterns
    ));
    assert!(output_bucket_allowed("shared.images", "shop", &patterns));
    assert!(!output_bucket_allowed(
        "liveness-shop-audit",
        "web",
        &patterns
    ));
    assert!(
        !output_bucket_allowed("sharedximages", "web", &patterns),
        "dots are literal"
    );
    assert!(!output_bucket_allowed("other", "web", &patterns));
    assert!(output_bucket_pattern("liveness-{namespace}-*").is_ok());
    assert!(output_bucket_pattern("Bad/Pattern").is_err());
}

#[test]
fn user_pools_and_public_urls() {
    assert!(
        user_pool_provider(
            "cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC",
            "us-east-1"
        )
        .is_ok()
    );
    assert!(user_pool_provider("cognito-idp.us-east-1.amazonaws.com/x", "us-east-1").is_err());
    assert!(user_pool_client_id("1example23456789abcdef").is_ok());
    assert!(user_pool_client_id("has space").is_err());
    assert_eq!(user_pool_id("eu-west-1_AbC123"), Ok("eu-west-1_AbC123"));
    assert_eq!(
        challenge("FaceMovementChallenge"),
        Ok("FaceMovementChallenge")
    );
    assert!(
        challenge("Blink")
            .unwrap_err()
            .contains("FaceMovementAndLightChallenge")
    );
    for bad in ["eu-west-1", "AbC123", "eu-west-1_", "eu-west-1_a-b"] {
        assert!(user_pool_id(bad).is_err(), "{bad}");
    }
    assert_eq!(
        user_pool_issuer("eu-west-1_AbC123"),
        "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123"
    );
    assert_eq!(
        token_url("https://login.example.com/realms/app/").unwrap(),
        "https://login.example.com/realms/app"
    );
    assert!(token_url("http://127.0.0.1:8080/jwks.json").is_ok());
    for bad in [
        "http://login.example.com",
        "ftp://x",
        "https://x/?a=1",
        "nope",
    ] {
        assert!(token_url(bad).is_err(), "{bad}");
    }
    assert_eq!(
        public_url("https://api.example.com/liveness/").unwrap(),
        "https://api.example.com/liveness"
    );
    assert!(public_url("not a url").is_err());
}
