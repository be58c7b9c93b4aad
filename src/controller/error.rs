//! The controller layer's one error type. Its [`ErrorCategory`] decides what the error
//! policy does: wait for a spec change, retry after the resync period, or back off.

use std::time::Duration;

use crate::aws::{AwsError, Category};
use crate::plan::aws::PlanError;
use crate::plan::kube::KubeObjectsError;
use crate::validate::Problem;

/// What to do after a failed reconcile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCategory {
    /// The spec is invalid: nothing to do until it changes.
    InvalidSpec,
    /// Someone must act (IAM permissions, a conflicting AWS object): retry at resync.
    NeedsChange,
    /// Throttling, timeouts, apiserver hiccups: retry with exponential backoff.
    Transient,
}

impl ErrorCategory {
    /// Label value for metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCategory::InvalidSpec => "invalid_spec",
            ErrorCategory::NeedsChange => "needs_change",
            ErrorCategory::Transient => "transient",
        }
    }
}

/// Why a reconcile failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Validation found problems (all of them are in the status message).
    #[error("invalid spec: {}", join(.0))]
    InvalidSpec(Vec<Problem>),
    /// The desired state could not be built.
    #[error("cannot plan: {0}")]
    Plan(#[from] PlanError),
    /// The owned Kubernetes objects could not be built.
    #[error("cannot build objects: {0}")]
    Objects(#[from] KubeObjectsError),
    /// An AWS call failed.
    #[error("{0}")]
    Aws(#[from] AwsError),
    /// A Kubernetes API call failed.
    #[error("kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    /// Adding or removing the finalizer failed.
    #[error("finalizer: {0}")]
    Finalizer(String),
}

impl Error {
    /// Requeue, back off or wait for a change.
    pub fn category(&self) -> ErrorCategory {
        match self {
            Error::InvalidSpec(_) | Error::Plan(_) | Error::Objects(_) => {
                ErrorCategory::InvalidSpec
            }
            Error::Aws(e) => match e.category() {
                Category::Transient => ErrorCategory::Transient,
                Category::NeedsChange => ErrorCategory::NeedsChange,
            },
            Error::Kube(kube::Error::Api(status)) if status.code == 422 || status.code == 400 => {
                ErrorCategory::NeedsChange
            }
            Error::Kube(_) | Error::Finalizer(_) => ErrorCategory::Transient,
        }
    }
}

fn join(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// First retry after 2 s, doubling per consecutive failure, capped at 5 minutes.
pub fn backoff(consecutive_failures: u32) -> Duration {
    const BASE: Duration = Duration::from_secs(2);
    const CAP: Duration = Duration::from_secs(300);
    let exponent = consecutive_failures.saturating_sub(1).min(16);
    BASE.saturating_mul(1 << exponent).min(CAP)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(1), Duration::from_secs(2));
        assert_eq!(backoff(2), Duration::from_secs(4));
        assert_eq!(backoff(5), Duration::from_secs(32));
        assert_eq!(backoff(9), Duration::from_secs(300));
        assert_eq!(backoff(u32::MAX), Duration::from_secs(300));
    }

    #[test]
    fn invalid_specs_wait_for_a_change() {
        let err = Error::InvalidSpec(vec![Problem {
            path: "spec.region".into(),
            message: "bad".into(),
        }]);
        assert_eq!(err.category(), ErrorCategory::InvalidSpec);
        assert_eq!(err.to_string(), "invalid spec: spec.region: bad");
    }
}
