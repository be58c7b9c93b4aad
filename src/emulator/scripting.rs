//! What tests script and inspect in the session store beyond what `liveness-emulator` offers:
//! a fault for every create, a delay on every answer, a shorter session lifetime, a SigV4
//! check of every request, and a record of the requests received.
//!
//! The JSON 1.1 operations call the same hooks ([`Script::delay`], [`Script::create_fault`],
//! [`Script::record_create`], …) in every build. With the `test-util` feature (tests and
//! examples) they are backed by state; without it (release binaries) [`Script`] is an empty
//! struct whose hooks do nothing, so none of this machinery is compiled into `liveness-api`'s
//! or `liveness-emulator`'s release build.

#[cfg(feature = "test-util")]
pub use scripted::{CreateCall, Script};
#[cfg(not(feature = "test-util"))]
pub use unscripted::Script;

#[cfg(feature = "test-util")]
mod scripted {
    use std::sync::{Mutex, MutexGuard};
    use std::time::Duration;

    use axum::http::{HeaderMap, header};
    use serde_json::Value;

    use crate::emulator::outcome::Fault;
    use crate::rules::SESSION_LIFETIME;

    /// One `CreateFaceLivenessSession` request as the stub received it.
    #[derive(Debug, Clone, Default, PartialEq)]
    pub struct CreateCall {
        pub client_request_token: Option<String>,
        pub kms_key_id: Option<String>,
        pub audit_images_limit: Option<i64>,
        pub s3_bucket: Option<String>,
        pub s3_key_prefix: Option<String>,
        /// `Settings.ChallengePreferences[].Type`, in order.
        pub challenge_preferences: Vec<String>,
        /// The region in the SigV4 credential scope of the `Authorization` header.
        pub signing_region: Option<String>,
        /// The session returned, if the call succeeded.
        pub session_id: Option<String>,
    }

    impl CreateCall {
        fn new(headers: &HeaderMap, input: &Value, session_id: Option<&str>) -> Self {
            let text = |v: &Value| v.as_str().map(str::to_owned);
            let settings = &input["Settings"];
            CreateCall {
                client_request_token: text(&input["ClientRequestToken"]),
                kms_key_id: text(&input["KmsKeyId"]),
                audit_images_limit: settings["AuditImagesLimit"].as_i64(),
                s3_bucket: text(&settings["OutputConfig"]["S3Bucket"]),
                s3_key_prefix: text(&settings["OutputConfig"]["S3KeyPrefix"]),
                challenge_preferences: settings["ChallengePreferences"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|p| text(&p["Type"]))
                    .collect(),
                signing_region: signing_region(headers),
                session_id: session_id.map(str::to_owned),
            }
        }
    }

    /// The region of a SigV4 `Authorization` header's credential scope.
    fn signing_region(headers: &HeaderMap) -> Option<String> {
        let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
        let scope = auth.split("Credential=").nth(1)?.split(',').next()?;
        scope.split('/').nth(2).map(str::to_owned)
    }

    struct State {
        create_fault: Option<Fault>,
        delay: Duration,
        lifetime: Duration,
        creates: Vec<CreateCall>,
        gets: usize,
        /// The secret key whose signature every request must carry; `None`: not checked.
        signing_secret: Option<String>,
    }

    /// The scripted behaviour and the requests recorded; starts as the real service behaves.
    pub struct Script(Mutex<State>);

    impl Script {
        pub fn new() -> Self {
            Script(Mutex::new(State {
                create_fault: None,
                delay: Duration::ZERO,
                lifetime: SESSION_LIFETIME,
                creates: Vec::new(),
                gets: 0,
                signing_secret: None,
            }))
        }
        fn lock(&self) -> MutexGuard<'_, State> {
            self.0.lock().unwrap_or_else(|e| e.into_inner())
        }
        /// How long an unfinished session lives.
        pub fn lifetime(&self) -> Duration {
            self.lock().lifetime
        }
        /// How long to wait before answering.
        pub fn delay(&self) -> Duration {
            self.lock().delay
        }
        /// The error every `CreateFaceLivenessSession` answers with, if any.
        pub fn create_fault(&self) -> Option<Fault> {
            self.lock().create_fault
        }
        /// Records a create request and the session it returned.
        pub fn record_create(&self, headers: &HeaderMap, input: &Value, session_id: Option<&str>) {
            let call = CreateCall::new(headers, input, session_id);
            self.lock().creates.push(call);
        }
        /// Whether the request is signed with the secret the test set (always, if none).
        pub fn check_signature(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), String> {
            let secret = self.lock().signing_secret.clone();
            match secret {
                Some(secret) => crate::emulator::sigv4::verify_post(headers, body, &secret),
                None => Ok(()),
            }
        }
        /// Counts a `GetFaceLivenessSessionResults` request.
        pub fn record_get(&self) {
            self.lock().gets += 1;
        }

        pub fn set_lifetime(&self, lifetime: Duration) {
            self.lock().lifetime = lifetime;
        }
        pub fn set_delay(&self, delay: Duration) {
            self.lock().delay = delay;
        }
        pub fn set_create_fault(&self, fault: Option<Fault>) {
            self.lock().create_fault = fault;
        }
        pub fn set_signing_secret(&self, secret: Option<String>) {
            self.lock().signing_secret = secret;
        }
        pub fn creates(&self) -> Vec<CreateCall> {
            self.lock().creates.clone()
        }
        pub fn gets(&self) -> usize {
            self.lock().gets
        }
    }

    #[cfg(test)]
    mod tests {
        use axum::http::HeaderValue;

        use super::*;

        #[test]
        fn signing_region_comes_from_the_credential_scope() {
            let mut headers = HeaderMap::new();
            headers.insert(
                header::AUTHORIZATION,
                HeaderValue::from_static(
                    "AWS4-HMAC-SHA256 Credential=AKID/20240101/eu-west-1/rekognition/aws4_request, \
                     SignedHeaders=host, Signature=abc",
                ),
            );
            assert_eq!(signing_region(&headers).as_deref(), Some("eu-west-1"));
        }
    }
}

#[cfg(not(feature = "test-util"))]
mod unscripted {
    use std::time::Duration;

    use axum::http::HeaderMap;
    use serde_json::Value;

    use crate::emulator::outcome::Fault;
    use crate::rules::SESSION_LIFETIME;

    /// Nothing scripted, nothing recorded: the hooks behave as the real service.
    pub struct Script;

    impl Script {
        pub fn new() -> Self {
            Script
        }
        pub fn lifetime(&self) -> Duration {
            SESSION_LIFETIME
        }
        pub fn delay(&self) -> Duration {
            Duration::ZERO
        }
        pub fn create_fault(&self) -> Option<Fault> {
            None
        }
        pub fn record_create(&self, _: &HeaderMap, _: &Value, _: Option<&str>) {}
        pub fn record_get(&self) {}
        pub fn check_signature(&self, _: &HeaderMap, _: &[u8]) -> Result<(), String> {
            Ok(())
        }
    }
}
