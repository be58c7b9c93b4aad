//! The controller layer's one error type. Every error carries the [`Step`] that failed
//! (which condition goes False) and a reason; its [`ErrorCategory`] decides what the error
//! policy does: wait for a spec change, retry after the resync period, or back off.

use std::time::Duration;

use super::apply::ApplyError;
use super::step::Step;
use crate::aws::{AwsError, Category};
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
    /// An AWS call of `step` failed.
    #[error("{source}")]
    Aws {
        /// The step whose call failed.
        step: Step,
        /// The failed call.
        source: AwsError,
    },
    /// A Kubernetes API call of `step` failed.
    #[error("kubernetes API: {source}")]
    Kube {
        /// The step whose call failed.
        step: Step,
        /// The failed call.
        source: kube::Error,
    },
    /// A child object of that name exists and is not the app's; it is left untouched.
    #[error("{0}")]
    ForeignObject(String),
    /// The app asks for an HTTPRoute and the cluster does not serve Gateway API.
    #[error(
        "this cluster does not serve HTTPRoute (gateway.networking.k8s.io/v1): install the Gateway API CRDs (standard channel of a v1.x release, kubectl apply --server-side -f standard-install.yaml), or expose the app with an ingress instead; the operator checks again at every resync, no restart needed"
    )]
    RouteApiMissing,
    /// A Kubernetes API call did not answer in time; retried with backoff.
    #[error("{0}; retrying")]
    ApiTimeout(String),
    /// Adding or removing the finalizer failed.
    #[error("finalizer: {0}")]
    Finalizer(String),
}

impl Error {
    /// An AWS error in the step its phase names (or `fallback` when it names none).
    pub fn aws(source: AwsError, fallback: Step) -> Self {
        let step = source.phase().map_or(fallback, Step::from);
        Error::Aws { step, source }
    }

    /// A Kubernetes error in `step`.
    pub fn kube(step: Step) -> impl FnOnce(kube::Error) -> Self {
        move |source| Error::Kube { step, source }
    }

    /// The step that failed.
    pub fn step(&self) -> Step {
        match self {
            Error::InvalidSpec(_) => Step::Validate,
            Error::ForeignObject(_) | Error::RouteApiMissing | Error::ApiTimeout(_) => {
                Step::KubeObjects
            }
            Error::Aws { step, .. } | Error::Kube { step, .. } => *step,
            Error::Finalizer(_) => Step::Status,
        }
    }

    /// CamelCase reason for the condition and the Warning event.
    pub fn reason(&self) -> &'static str {
        match self {
            Error::InvalidSpec(_) => "InvalidSpec",
            Error::ForeignObject(_) => "Conflict",
            Error::RouteApiMissing => "GatewayApiMissing",
            Error::ApiTimeout(_) => "ApiTimeout",
            Error::Aws { source, .. } => match source.code() {
                Some(code) if code.contains("AccessDenied") || code == "NotAuthorizedException" => {
                    "AccessDenied"
                }
                Some("Conflict") => "Conflict",
                Some("AdoptionRefused") => "AdoptionRefused",
                _ if source.category() == Category::Transient => "AwsUnavailable",
                _ => "AwsError",
            },
            Error::Kube { step, .. } => match step {
                Step::KubeObjects => "ApplyFailed",
                Step::Status => "StatusWriteFailed",
                _ => "KubernetesError",
            },
            Error::Finalizer(_) => "FinalizerFailed",
        }
    }

    /// Requeue, back off or wait for a change.
    pub fn category(&self) -> ErrorCategory {
        match self {
            Error::InvalidSpec(_) => ErrorCategory::InvalidSpec,
            Error::ForeignObject(_) | Error::RouteApiMissing => ErrorCategory::NeedsChange,
            Error::Aws { source, .. } => match source.category() {
                Category::Transient => ErrorCategory::Transient,
                Category::NeedsChange => ErrorCategory::NeedsChange,
            },
            Error::Kube {
                source: kube::Error::Api(status),
                ..
            } if status.code == 422 || status.code == 400 => ErrorCategory::NeedsChange,
            Error::Kube { .. } | Error::Finalizer(_) | Error::ApiTimeout(_) => {
                ErrorCategory::Transient
            }
        }
    }
}

impl From<ApplyError> for Error {
    fn from(error: ApplyError) -> Self {
        match error {
            foreign @ ApplyError::Foreign { .. } => Error::ForeignObject(foreign.to_string()),
            ApplyError::Kube(source) => Error::Kube {
                step: Step::KubeObjects,
                source,
            },
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
        assert_eq!(err.step(), Step::Validate);
        assert_eq!(err.to_string(), "invalid spec: spec.region: bad");
    }
}
