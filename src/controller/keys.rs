//! The keys step: read the app's key Secret, and create or rotate its material when the
//! plan says so ([`crate::plan::keys`] decides; this module only reads and makes random
//! keys). The material goes into the Secret and nowhere else.

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::jiff::Timestamp;
use kube::Api;

use super::apply::is_controlled_by;
use super::context::Context;
use super::error::Error;
use super::step::Step;
use crate::plan::keys::{self, FreshKeys, KEYS_SUFFIX, KeyDecision, KeyMaterial};
use crate::validate::ValidatedApp;

/// The keys the app's endpoint runs with after this reconcile.
pub async fn material(ctx: &Context, app: &ValidatedApp) -> Result<KeyMaterial, Error> {
    let name = app.identity.child_name(KEYS_SUFFIX);
    let api: Api<Secret> = Api::namespaced(ctx.client.clone(), &app.identity.namespace);
    let existing = api
        .get_opt(&name)
        .await
        .map_err(Error::kube(Step::KubeObjects))?
        // A Secret that is not the app's is never read (the apply then reports it).
        .filter(|secret| is_controlled_by(secret, &app.uid))
        .and_then(|secret| keys::read(&secret));
    let now = Timestamp::now();
    let decision = keys::decide(existing.as_ref(), now, app.endpoint.verdict_key_rotation);
    if decision != KeyDecision::Keep {
        tracing::info!(?decision, secret = %name, "endpoint keys");
    }
    Ok(keys::next(existing, decision, fresh, now))
}

/// 32 random bytes for the session HMAC and a new P-256 signing key.
fn fresh() -> FreshKeys {
    let mut session_key = vec![0u8; 32];
    getrandom::fill(&mut session_key).expect("the OS random source works");
    let signing = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .expect("P-256 keys can be generated");
    FreshKeys {
        session_key,
        signing_key: signing.serialize_pem(),
    }
}
