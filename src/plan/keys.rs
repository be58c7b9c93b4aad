//! The per-app key Secret of the endpoint: the HMAC key that binds session tokens to their
//! caller, and the ES256 keys that sign verdicts (current first, the previous one kept for
//! one rotation period so verdicts signed just before a rotation still verify).
//!
//! Pure: when to create or rotate is decided here from what the Secret holds and the time;
//! the random material comes in as [`FreshKeys`] from the controller. Key material never
//! leaves the Secret: not in status, events or logs.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::jiff::Timestamp;

/// Suffix of the Secret's name ([`crate::names::AppIdentity::child_name`]).
pub const KEYS_SUFFIX: &str = "liveness-keys";
/// Key of the session-token HMAC key in the Secret.
pub const SESSION_KEY: &str = "session-key";
/// Key of the PEM file with the verdict signing keys, current first.
pub const SIGNING_KEYS: &str = "signing-keys.pem";
/// Annotation with the time of the last rotation (RFC 3339).
pub const ROTATED_AT: &str = "faceliveness.dev/keys-rotated-at";
/// Where the endpoint container mounts the Secret.
pub const KEYS_MOUNT: &str = "/var/run/liveness-keys";

/// What the Secret holds.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyMaterial {
    /// The session-token HMAC key.
    pub session_key: Vec<u8>,
    /// PKCS#8 PEM signing keys, current first.
    pub signing_keys: Vec<String>,
    /// When the current signing key was made.
    pub rotated_at: Timestamp,
}

impl std::fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("KeyMaterial")
            .field("signing_keys", &self.signing_keys.len())
            .field("rotated_at", &self.rotated_at)
            .finish_non_exhaustive()
    }
}

/// New random material, made by the caller.
pub struct FreshKeys {
    /// 32 random bytes.
    pub session_key: Vec<u8>,
    /// A new P-256 key, PKCS#8 PEM.
    pub signing_key: String,
}

/// What to do with the Secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyDecision {
    /// No usable Secret: make all keys.
    Create,
    /// The signing key is older than the rotation period: a new one, the old one kept.
    Rotate,
    /// Keep everything.
    Keep,
}

/// Reads the Secret's keys; `None` when it lacks any of them (treated as absent).
pub fn read(secret: &Secret) -> Option<KeyMaterial> {
    let data = secret.data.as_ref()?;
    let session_key = data.get(SESSION_KEY)?.0.clone();
    let pem = String::from_utf8(data.get(SIGNING_KEYS)?.0.clone()).ok()?;
    let signing_keys = split_pem(&pem);
    let rotated_at = secret
        .metadata
        .annotations
        .as_ref()?
        .get(ROTATED_AT)?
        .parse()
        .ok()?;
    (session_key.len() >= 32 && !signing_keys.is_empty()).then_some(KeyMaterial {
        session_key,
        signing_keys,
        rotated_at,
    })
}

/// Create, rotate or keep, given what exists and the rotation period.
pub fn decide(existing: Option<&KeyMaterial>, now: Timestamp, period: Duration) -> KeyDecision {
    match existing {
        None => KeyDecision::Create,
        Some(keys) => {
            let age = now.duration_since(keys.rotated_at);
            if age.is_negative() || age.unsigned_abs() < period {
                KeyDecision::Keep
            } else {
                KeyDecision::Rotate
            }
        }
    }
}

/// The material after `decision`. Rotation keeps the session key (tokens of running
/// sessions stay valid) and the previous signing key (its verdicts still verify).
pub fn next(
    existing: Option<KeyMaterial>,
    decision: KeyDecision,
    fresh: impl FnOnce() -> FreshKeys,
    now: Timestamp,
) -> KeyMaterial {
    match (decision, existing) {
        (KeyDecision::Keep, Some(keys)) => keys,
        (KeyDecision::Rotate, Some(keys)) => {
            let fresh = fresh();
            KeyMaterial {
                session_key: keys.session_key,
                signing_keys: vec![fresh.signing_key, keys.signing_keys[0].clone()],
                rotated_at: now,
            }
        }
        _ => {
            let fresh = fresh();
            KeyMaterial {
                session_key: fresh.session_key,
                signing_keys: vec![fresh.signing_key],
                rotated_at: now,
            }
        }
    }
}

/// The Secret holding `keys`, with `meta` (name, namespace, labels, owner).
pub fn secret(mut meta: ObjectMeta, keys: &KeyMaterial) -> Secret {
    meta.annotations
        .get_or_insert_with(BTreeMap::new)
        .insert(ROTATED_AT.into(), keys.rotated_at.to_string());
    Secret {
        metadata: meta,
        type_: Some("Opaque".into()),
        data: Some(BTreeMap::from([
            (
                SESSION_KEY.to_string(),
                ByteString(keys.session_key.clone()),
            ),
            (
                SIGNING_KEYS.to_string(),
                ByteString(keys.signing_keys.concat().into_bytes()),
            ),
        ])),
        ..Default::default()
    }
}

/// The PEM blocks of `pem`, each with its trailing newline.
fn split_pem(pem: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current = String::new();
    for line in pem.lines() {
        current.push_str(line);
        current.push('\n');
        if line.starts_with("-----END ") {
            blocks.push(std::mem::take(&mut current));
        }
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::jiff::SignedDuration;

    const DAY: Duration = Duration::from_secs(24 * 3600);

    fn fresh(tag: &str) -> impl FnOnce() -> FreshKeys {
        let tag = tag.to_string();
        move || FreshKeys {
            session_key: vec![7; 32],
            signing_key: format!("-----BEGIN PRIVATE KEY-----\n{tag}\n-----END PRIVATE KEY-----\n"),
        }
    }

    #[test]
    fn keys_are_made_once_kept_and_rotated_after_the_period_keeping_the_previous() {
        let t0 = Timestamp::now();
        assert_eq!(decide(None, t0, 30 * DAY), KeyDecision::Create);
        let first = next(None, KeyDecision::Create, fresh("one"), t0);
        let meta = ObjectMeta {
            name: Some("keys".into()),
            ..Default::default()
        };
        let stored = read(&secret(meta.clone(), &first)).expect("the Secret reads back");
        assert_eq!(stored, first);

        let later = t0 + SignedDuration::from_hours(24 * 29);
        assert_eq!(decide(Some(&stored), later, 30 * DAY), KeyDecision::Keep);
        let kept = next(
            Some(stored.clone()),
            KeyDecision::Keep,
            || panic!("no new keys"),
            later,
        );
        assert_eq!(kept, stored);

        let due = t0 + SignedDuration::from_hours(24 * 31);
        assert_eq!(decide(Some(&stored), due, 30 * DAY), KeyDecision::Rotate);
        let rotated = next(Some(stored.clone()), KeyDecision::Rotate, fresh("two"), due);
        assert_eq!(
            rotated.session_key, stored.session_key,
            "sessions stay valid"
        );
        assert_eq!(rotated.signing_keys.len(), 2);
        assert!(rotated.signing_keys[0].contains("two"), "the new key signs");
        assert!(
            rotated.signing_keys[1].contains("one"),
            "the old key still verifies"
        );
        assert_eq!(rotated.rotated_at, due);
        let again = read(&secret(meta, &rotated)).unwrap();
        assert_eq!(again.signing_keys, rotated.signing_keys);
    }

    #[test]
    fn a_secret_missing_a_key_is_remade_and_debug_never_prints_keys() {
        let broken = Secret::default();
        assert!(read(&broken).is_none());
        let keys = next(
            None,
            KeyDecision::Create,
            fresh("secret-bytes"),
            Timestamp::now(),
        );
        let printed = format!("{keys:?}");
        assert!(!printed.contains("secret-bytes"), "{printed}");
    }
}
