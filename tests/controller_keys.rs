//! End to end on the test ground: each app's endpoint gets its own key Secret (the HMAC key
//! binding session tokens, the ES256 verdict keys) mounted read-only, its auth settings
//! from the spec, a rotation that keeps the previous key and restarts the pods, and no key
//! material in status or events.

mod support;

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Patch, PatchParams};
use kube::{Api, ResourceExt};
use liveness_operator::contract::AuthSettings;
use liveness_operator::plan::keys::{ROTATED_AT, SESSION_KEY, SIGNING_KEYS};
use serde_json::json;
use support::fixture::{Fixture, endpoint_settings};
use support::kube::{create_app, example, wait_condition};
use support::operator::eventually;

fn signing_keys(secret: &Secret) -> usize {
    let pem = &secret.data.as_ref().unwrap()[SIGNING_KEYS].0;
    String::from_utf8_lossy(pem)
        .matches("-----BEGIN PRIVATE KEY-----")
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn each_app_gets_its_own_keys_mounted_read_only_and_never_shown() {
    let fx = Fixture::new("e2e-keys").await;
    let _operator = support::operator::start(fx.ground, &fx.ns, "a", &["--resync-period", "3s"]);
    create_app(&fx.client, &example("basic.yaml", &fx.ns)).await;
    let app = wait_condition(&fx.client, &fx.ns, "onboarding", "RolesReady", "True").await;
    let id = fx.identity("onboarding");
    let secrets: Api<Secret> = Api::namespaced(fx.client.clone(), &fx.ns);
    let name = id.child_name("liveness-keys");
    let secret = eventually("the key Secret", Duration::from_secs(30), async || {
        secrets.get_opt(&name).await.ok()?
    })
    .await;
    assert_eq!(secret.owner_references()[0].uid, app.uid().unwrap());
    let data = secret.data.clone().unwrap();
    assert!(data[SESSION_KEY].0.len() >= 32, "a 256-bit session key");
    assert_eq!(signing_keys(&secret), 1);

    // The endpoint reads them from the mounted Secret, and authenticates as the spec says.
    let deployments: Api<Deployment> = Api::namespaced(fx.client.clone(), &fx.ns);
    let deployment = deployments.get(&id.endpoint_name()).await.unwrap();
    let settings = endpoint_settings(&deployment);
    assert_eq!(
        settings.session_key_file.as_deref(),
        Some(std::path::Path::new("/var/run/liveness-keys/session-key"))
    );
    assert!(matches!(
        settings.auth,
        Some(AuthSettings::Cognito { ref user_pool_id, ref client_ids, .. })
            if user_pool_id.starts_with("us-east-1_") && client_ids.len() == 1
    ));
    assert!(!settings.expose_confidence, "the score stays on the server");

    // No key material in status or events.
    let session_key = base64_of(&data[SESSION_KEY].0);
    let status = serde_json::to_string(&app.status).unwrap();
    assert!(!status.contains(&session_key));
    for (_, note) in fx.events("onboarding").await {
        assert!(!note.contains(&session_key) && !note.contains("PRIVATE KEY"));
    }
}

/// The rotation: an aged key is replaced, the previous one kept after it, the session key
/// unchanged, and the pods restarted (their template carries the rotation time).
#[tokio::test(flavor = "multi_thread")]
async fn an_aged_key_is_rotated_keeping_the_previous_one_and_restarting_the_pods() {
    let fx = Fixture::new("e2e-rotate").await;
    let _operator = support::operator::start(fx.ground, &fx.ns, "a", &["--resync-period", "3s"]);
    create_app(&fx.client, &example("basic.yaml", &fx.ns)).await;
    wait_condition(&fx.client, &fx.ns, "onboarding", "RolesReady", "True").await;
    let id = fx.identity("onboarding");
    let secrets: Api<Secret> = Api::namespaced(fx.client.clone(), &fx.ns);
    let deployments: Api<Deployment> = Api::namespaced(fx.client.clone(), &fx.ns);
    let name = id.child_name("liveness-keys");
    let secret = eventually("the key Secret", Duration::from_secs(30), async || {
        secrets.get_opt(&name).await.ok()?
    })
    .await;
    let data = secret.data.clone().unwrap();
    // Make the key look old: the next reconcile (the 3 s resync; an edit of the app's
    // metadata starts none) rotates it, keeping the previous one. A reconcile already in
    // flight applies the Secret it read before the patch and puts the real age back, so the
    // key is aged again until the operator has seen it old.
    const AGED: &str = "2020-01-01T00:00:00Z";
    let old = json!({"metadata": {"annotations": {ROTATED_AT: AGED}}});
    let rotated = eventually("a rotation", Duration::from_secs(60), async || {
        let s = secrets.get(&name).await.ok()?;
        if signing_keys(&s) == 2 {
            return Some(s);
        }
        if s.annotations().get(ROTATED_AT).map(String::as_str) != Some(AGED) {
            secrets
                .patch(&name, &PatchParams::default(), &Patch::Merge(&old))
                .await
                .ok()?;
        }
        None
    })
    .await;
    let rotated_data = rotated.data.clone().unwrap();
    assert_eq!(
        rotated_data[SESSION_KEY], data[SESSION_KEY],
        "running sessions keep their binding key"
    );
    let before = String::from_utf8_lossy(&data[SIGNING_KEYS].0).to_string();
    let after = String::from_utf8_lossy(&rotated_data[SIGNING_KEYS].0).to_string();
    assert!(
        after.ends_with(&before),
        "the previous key stays, after the new one"
    );
    let stamp = rotated.annotations()[ROTATED_AT].clone();
    assert_ne!(stamp, AGED);
    eventually(
        "the pods restarted for the new key",
        Duration::from_secs(30),
        async || {
            let d = deployments.get(&id.endpoint_name()).await.ok()?;
            let template = d.spec?.template.metadata?.annotations?;
            (template.get(ROTATED_AT) == Some(&stamp)).then_some(())
        },
    )
    .await;
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
