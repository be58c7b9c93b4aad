//! liveness-operator: run Amazon Rekognition Face Liveness from Kubernetes.
//!
//! The library holds all logic; the binaries in `src/bin` only parse flags and wire.
//!
//! - [`crd`]: the `LivenessApp` custom resource (spec, status, conditions, constants).
//! - [`env`]: the operator's settings, parsed once at start ([`env::OperatorEnv`]).
//! - [`validate`]: LivenessApp → [`validate::ValidatedApp`], or every problem with its
//!   field path and the fix; the plan accepts only the validated form.
//! - [`rules`]: each rule about a value (pool id, bucket, origin, limits), defined once.
//! - [`contract`]: the settings the operator hands the endpoint, one serde struct.
//! - [`names`]: deterministic AWS and Kubernetes names.
//! - [`regions`]: the Face Liveness regions, in one place.
//! - [`api`]: the create/get session endpoint service (`liveness-api`).
//! - [`controller`]: the reconcile pipeline, leader election, metrics.
//! - [`plan`]: pure desired state (AWS objects, Kubernetes objects) and `plan` output.
//! - [`aws`]: the AWS trait and its aws-sdk implementation (ensure, observe, delete).
//! - [`bootstrap`]: `liveness-operator bootstrap`, the boundary policy and the operator's
//!   IRSA role made once per cluster, before the chart.
//! - [`fingerprint`]: 16-byte stand-ins for strings the operator only needs to recognise.
//! - [`memory`]: glibc's malloc kept close to the live heap (few arenas, periodic trim).
//! - [`emulator`]: the offline Face Liveness emulator (`liveness-emulator`) and the tests'
//!   Rekognition stub, one session store for both.

pub mod api;
pub mod aws;
pub mod bootstrap;
pub mod contract;
pub mod controller;
pub mod crd;
pub mod emulator;
pub mod env;
pub mod fingerprint;
pub mod ids;
pub mod logging;
pub mod memory;
pub mod names;
pub mod plan;
pub mod regions;
pub mod rules;
#[cfg(any(test, feature = "test-util"))]
pub mod testing;
pub mod validate;
