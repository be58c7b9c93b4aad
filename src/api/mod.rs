//! `liveness-api`: the per-LivenessApp endpoint the Amplify `FaceLivenessDetector` needs,
//! fit for the public internet.
//!
//! `POST /v1/sessions` creates a Rekognition Face Liveness session for an authenticated
//! caller and returns a session token bound to them; `GET /v1/sessions/{sessionId}` (with
//! that token, from the same caller) says whether the user is live, with a signed verdict
//! for the app's backend; `GET /.well-known/jwks.json` publishes the verdict keys; `GET
//! /v1/config` tells the frontend how to configure Amplify; `/healthz` and `/readyz` for
//! probes. `/metrics` is served on its own listener, a port browsers do not reach. The
//! routes are documented in `openapi/liveness-api.yaml`.
//!
//! Choices a frontend relies on:
//! - an expired session is `200` with `"status": "EXPIRED"` and `"isLive": false`, not
//!   `410`: one response shape, and the frontend starts a new attempt with a new session;
//! - `isLive` is `SUCCEEDED && confidence >= threshold`, but it is only a hint for the UI:
//!   the backend decides on the signed `verdict` ([`verdict`] says why);
//! - the confidence score stays on the server unless the app opts in;
//! - throttling is `429` (ours or Rekognition's), exhausted capacity `503`, both with
//!   `Retry-After`; AWS refusing our setup is `502` with the fix in the message.
//!
//! - [`config`]: flags and `LIVENESS_*` variables → a validated [`Config`].
//! - [`auth`]: who the caller is (Cognito, OIDC or anonymous).
//! - [`binding`]: session tokens and per-caller idempotency (HMAC, no shared state).
//! - [`verdict`]: the ES256 verdict and its JWKS.
//! - [`client_ip`], [`limits`]: the client behind proxies; per-caller create limits.
//! - [`rekognition`]: the two AWS calls behind a trait, errors classified.
//! - [`routes`]: the route table; [`sessions`]: the session handlers.
//! - [`error`]: the one error type and its status mapping.
//! - [`layers`]: CORS, rate limit, JSON bodies for layer errors.
//! - [`metrics`]: Prometheus metrics; [`observe`]: the middleware that counts and logs
//!   every answered request.
//! - [`server`]: assembly, the two listeners (with a header-read timeout) and graceful
//!   shutdown.

pub mod auth;
pub mod binding;
pub mod client_ip;
pub mod config;
pub mod error;
pub mod layers;
pub mod limits;
pub mod metrics;
pub mod observe;
pub mod rekognition;
pub mod routes;
pub mod server;
pub mod sessions;
pub mod verdict;

pub use config::{Args, Config};
pub use error::ApiError;
pub use rekognition::{AwsRekognition, LivenessSessions};
pub use routes::{AppState, Endpoint};
pub use server::{Listeners, app, metrics_app, run, serve};
