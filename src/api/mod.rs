//! `liveness-api`: the per-LivenessApp endpoint the Amplify `FaceLivenessDetector` needs.
//!
//! `POST /v1/sessions` creates a Rekognition Face Liveness session, `GET
//! /v1/sessions/{sessionId}` says whether the user is live, `GET /v1/config` tells the
//! frontend how to configure Amplify; plus `/healthz`, `/readyz` and `/metrics`.
//! The routes are documented in `openapi/liveness-api.yaml`.
//!
//! Choices a frontend relies on:
//! - an expired session is `200` with `"status": "EXPIRED"` and `"isLive": false`, not
//!   `410`: one response shape, and the frontend starts a new attempt with a new session;
//! - `isLive` is `SUCCEEDED && confidence >= threshold`; a missing confidence is `null`;
//! - the threshold defaults to 90 ([`config::DEFAULT_THRESHOLD`] says why);
//! - throttling is `429` (ours or Rekognition's), exhausted capacity `503`, both with
//!   `Retry-After`; AWS refusing our setup is `502` with the fix in the message.
//!
//! - [`config`]: flags and `LIVENESS_*` variables → a validated [`Config`].
//! - [`rekognition`]: the two AWS calls behind a trait, errors classified.
//! - [`routes`]: the route table and handlers.
//! - [`error`]: the one error type and its status mapping.
//! - [`layers`]: CORS, rate limit, JSON bodies for layer errors.
//! - [`metrics`]: Prometheus metrics.
//! - [`server`]: assembly, serving and graceful shutdown.

pub mod config;
pub mod error;
pub mod layers;
pub mod metrics;
pub mod rekognition;
pub mod routes;
pub mod server;

pub use config::{Args, Config};
pub use error::ApiError;
pub use rekognition::{AwsRekognition, LivenessSessions};
pub use routes::{AppState, Endpoint};
pub use server::{app, run, serve};
