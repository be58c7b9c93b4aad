//! Every rule about a value, defined once: the CRD schema, `validate`, the endpoint's own
//! configuration checks and `plan` all call these, so they can never disagree on what an
//! identity pool id, a bucket name or an origin is.
//!
//! Facts from the Rekognition and Cognito API references live here too (the session
//! lifetime, the audit-image limit), because the endpoint and the emulator both need them.

use std::time::Duration;

/// A Face Liveness session expires this long after `CreateFaceLivenessSession`.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(180);
