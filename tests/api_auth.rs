//! Callers authenticate, per app: real Cognito user-pool tokens from the test ground
//! (ministack, RS256, verified against the pool's JWKS) and tokens of a local OpenID
//! Connect issuer the test runs itself (discovery + JWKS on 127.0.0.1, ES256). Every
//! refusal is a 401 with a Bearer challenge and a short reason; sessions belong to their
//! caller: another user holding the session token gets 404, equal idempotency keys of two
//! users make two sessions.

mod api_support;

use api_support::cognito::Pool;
use api_support::oidc::{self, AUDIENCE, Issuer, SigningKey, now};
use api_support::{Api, created_of, start, testground};
use serde_json::{Value, json};

async fn start_for(flags: Vec<String>) -> Api {
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    start(&flags).await
}

/// Asserts a 401 with the Bearer challenge and `reason`, and that nothing reached AWS.
async fn refused(api: &Api, bearer: Option<&str>, reason: &str) {
    let r = api.create_as(bearer).await;
    assert_eq!(r.status(), 401, "{reason}");
    let challenge = r.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert!(
        challenge.starts_with("Bearer error=\"invalid_token\", error_description=\""),
        "{challenge}"
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_token", "{body}");
    assert_eq!(body["reason"], reason, "expected {reason}: {body}");
    let message = body["message"].as_str().unwrap();
    assert!(
        !message.contains("kid") && !message.contains("{"),
        "no internals: {message}"
    );
    assert!(
        api.stub.create_calls().is_empty(),
        "refused before AWS ({reason})"
    );
}

#[tokio::test]
async fn cognito_id_and_access_tokens_of_the_app_client_are_accepted_others_refused() {
    let ground = testground::ensure();
    let pool = Pool::create(ground).await;
    pool.add_user("alice").await;
    let api = start_for(pool.flags()).await;
    // The page learns where to sign in, and nothing else (not the JWKS override).
    let config: Value = api.get("/v1/config").await.json().await.unwrap();
    assert_eq!(
        config["auth"],
        json!({"mode": "cognito", "userPoolId": pool.id, "clientIds": [pool.web_client]})
    );

    let alice = pool.sign_in("alice", &pool.web_client).await;
    for token in [&alice.id, &alice.access] {
        let r = api.create_as(Some(token)).await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    }
    // Both tokens name the same user, so the session of one reads with the other.
    let created = created_of(api.create_as(Some(&alice.id)).await).await;
    assert_eq!(
        api.read_as(&created, Some(&alice.access)).await.status(),
        200
    );

    let other_client = pool.sign_in("alice", &pool.other_client).await;
    let before = api.stub.create_calls().len();
    for token in [&other_client.id, &other_client.access] {
        let r = api.create_as(Some(token)).await;
        assert_eq!(r.status(), 401);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["reason"], "audience", "{body}");
    }
    // A payload changed after signing (another user's sub) no longer verifies.
    let mut claims: Value =
        serde_json::from_slice(&base64_url(alice.id.split('.').nth(1).unwrap())).unwrap();
    claims["sub"] = json!("someone-else");
    let r = api
        .create_as(Some(&oidc::with_payload(&alice.id, &claims)))
        .await;
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["reason"], "signature", "{body}");
    assert_eq!(
        api.stub.create_calls().len(),
        before,
        "nothing refused reached AWS"
    );
}

fn base64_url(segment: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(segment)
        .unwrap()
}

#[tokio::test]
async fn oidc_tokens_are_refused_for_every_reason_a_forger_tries() {
    let issuer = Issuer::start().await;
    let api = start_for(issuer.flags()).await;
    let good = issuer.claims("alice");
    let with = |patch: Value| {
        let mut c = good.clone();
        for (k, v) in patch.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    };

    refused(&api, None, "missing").await;
    refused(&api, Some("not-a-jwt"), "malformed").await;
    let forged = oidc::with_payload(&issuer.token("alice"), &with(json!({"sub": "bob"})));
    refused(&api, Some(&forged), "signature").await;
    refused(
        &api,
        Some(&issuer.sign(&with(json!({"aud": "another-app"})))),
        "audience",
    )
    .await;
    refused(
        &api,
        Some(&issuer.sign(&with(json!({"iss": "https://login.example.com"})))),
        "issuer",
    )
    .await;
    let expired = with(json!({"iat": now() - 3600, "exp": now() - 600}));
    refused(&api, Some(&issuer.sign(&expired)), "expired").await;
    let early = with(json!({"nbf": now() + 600}));
    refused(&api, Some(&issuer.sign(&early)), "not_yet_valid").await;
    refused(
        &api,
        Some(&oidc::unsigned(&issuer.key.kid, &good)),
        "algorithm",
    )
    .await;
    let hs256 = oidc::hs256(&issuer.key.kid, issuer.key.public_pem.as_bytes(), &good);
    refused(&api, Some(&hs256), "algorithm").await;
    let stranger = SigningKey::generate();
    refused(
        &api,
        Some(&oidc::sign_with(&stranger, &good)),
        "unknown_key",
    )
    .await;
    let mut no_sub = good.clone();
    no_sub.as_object_mut().unwrap().remove("sub");
    refused(&api, Some(&issuer.sign(&no_sub)), "claims").await;

    // And the good token is let in.
    let r = api.create_as(Some(&issuer.token("alice"))).await;
    assert_eq!(r.status(), 201);
    assert_eq!(AUDIENCE, good["aud"]);
}

#[tokio::test]
async fn a_rotated_issuer_key_is_fetched_but_made_up_key_ids_do_not_hammer_the_issuer() {
    let issuer = Issuer::start().await;
    let api = start_for(issuer.flags()).await;
    assert_eq!(
        api.create_as(Some(&issuer.token("alice"))).await.status(),
        201
    );
    assert_eq!(issuer.jwks_fetches(), 1, "fetched once, then cached");
    for _ in 0..3 {
        api.create_as(Some(&issuer.token("alice"))).await;
    }
    assert_eq!(issuer.jwks_fetches(), 1, "known keys are not fetched again");

    // Twenty tokens with key ids the issuer never published, in a burst.
    for _ in 0..20 {
        let stranger = SigningKey::generate();
        let r = api
            .create_as(Some(&oidc::sign_with(&stranger, &issuer.claims("eve"))))
            .await;
        assert_eq!(r.status(), 401);
    }
    assert!(
        issuer.jwks_fetches() <= 2,
        "at most one refresh per 5 s: {} fetches",
        issuer.jwks_fetches()
    );

    // The issuer rotates: a token of its new key is accepted once the refresh is allowed.
    let rotated = SigningKey::generate();
    issuer.publish(&rotated);
    tokio::time::sleep(std::time::Duration::from_millis(5_200)).await;
    let r = api
        .create_as(Some(&oidc::sign_with(&rotated, &issuer.claims("alice"))))
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
}

#[tokio::test]
async fn a_session_read_by_another_user_is_404_even_with_its_token() {
    let issuer = Issuer::start().await;
    let api = start_for(issuer.flags()).await;
    let (alice, bob) = (issuer.token("alice"), issuer.token("bob"));
    let created = api.create_session_as(Some(&alice)).await;
    assert_eq!(api.read_as(&created, Some(&alice)).await.status(), 200);

    let r = api.read_as(&created, Some(&bob)).await;
    assert_eq!(r.status(), 404, "not 403: no oracle");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "session_not_found");
    let r = api.read_as(&created, None).await;
    assert_eq!(r.status(), 401, "and nobody reads without signing in");
    assert_eq!(api.stub.get_calls(), 1, "only alice's read reached AWS");
}

#[tokio::test]
async fn equal_idempotency_keys_of_two_users_make_two_sessions() {
    let issuer = Issuer::start().await;
    let api = start_for(issuer.flags()).await;
    let post = |token: String| {
        api.http
            .post(api.url("/v1/sessions"))
            .bearer_auth(token)
            .header("Idempotency-Key", "mount-1")
            .send()
    };
    let alice_1 = created_of(post(issuer.token("alice")).await.unwrap()).await;
    let alice_2 = created_of(post(issuer.token("alice")).await.unwrap()).await;
    let bob = created_of(post(issuer.token("bob")).await.unwrap()).await;
    assert_eq!(alice_1.id, alice_2.id, "alice's retry is her session");
    assert_ne!(alice_1.id, bob.id, "bob's equal key is not alice's session");
    assert_eq!(api.stub.sessions_created(), 2);
}

#[tokio::test]
async fn the_create_limit_is_per_user() {
    let issuer = Issuer::start().await;
    let mut flags = issuer.flags();
    flags.push("--create-limit-per-minute=2".into());
    let api = start_for(flags).await;
    let alice = issuer.token("alice");
    for _ in 0..2 {
        assert_eq!(api.create_as(Some(&alice)).await.status(), 201);
    }
    let r = api.create_as(Some(&alice)).await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(
        api.create_as(Some(&issuer.token("bob"))).await.status(),
        201,
        "bob has his own budget"
    );
}

#[tokio::test]
async fn an_issuer_whose_keys_cannot_be_fetched_is_503_not_401() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let api = start_for(vec![
        "--auth=oidc".into(),
        format!("--oidc-issuer=http://{closed}"),
        format!("--oidc-audiences={AUDIENCE}"),
    ])
    .await;
    let issuer = Issuer::start().await;
    let r = api.create_as(Some(&issuer.token("alice"))).await;
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "auth_unavailable", "{body}");
}
