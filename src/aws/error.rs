//! The one error type of the AWS layer. Its [`Category`] tells the controller whether to
//! retry with backoff (the cause will pass) or to wait for a change (someone must fix the
//! spec, the operator's IAM permissions or a conflicting object); its message says what.

use std::fmt;

use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

/// What the controller should do about an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    /// Throttling, 5xx, timeouts, connection failures: requeue with backoff.
    Transient,
    /// Missing permission, invalid input, an object owned by someone else: retrying will
    /// not help until something changes; report it and wait.
    NeedsChange,
}

/// A failed AWS operation, with the operation, the resource and the reason.
#[derive(Clone, Debug)]
pub struct AwsError {
    category: Category,
    /// IAM action name of the failed call, e.g. `iam:CreateRole`.
    operation: String,
    /// ARN or name of the object the call was about.
    resource: String,
    /// AWS error code (`AccessDenied`, `NoSuchEntity`, …), when AWS answered.
    code: Option<String>,
    message: String,
    /// The provisioning phase the call belonged to, once the sync has said so.
    phase: Option<Phase>,
    /// The app's pool, when the pass had found or created it before failing: recorded in
    /// status so the next attempt reads it directly instead of searching again.
    pool_id: Option<Box<str>>,
}

/// Which part of a LivenessApp's AWS objects a call was for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// The identity pool.
    IdentityPool,
    /// The IAM roles and their policies.
    Roles,
    /// The pool's role links.
    RoleLinks,
}

/// Error codes AWS uses for "throttled" and "try again".
const TRANSIENT_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "ServiceFailure",
    "InternalFailure",
    "InternalErrorException",
    "InternalServerError",
    "ConcurrentModification",
    "ConcurrentModificationException",
    "ResourceConflictException",
    "RequestTimeout",
    "RequestTimeoutException",
];
const ACCESS_DENIED_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "NotAuthorizedException",
    "UnauthorizedOperation",
];
const NOT_FOUND_CODES: &[&str] = &["NoSuchEntity", "ResourceNotFoundException"];

impl AwsError {
    /// Classifies an SDK error of `operation` on `resource`.
    pub fn from_sdk<E>(operation: &str, resource: &str, err: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let status = err.raw_response().map(|r| r.status().as_u16());
        let (code, aws_message) = (
            err.code().map(str::to_string),
            err.message().map(str::to_string),
        );
        let base = |category, message: String| Self {
            category,
            operation: operation.into(),
            resource: resource.into(),
            code: code.clone(),
            message,
            phase: None,
            pool_id: None,
        };
        match &err {
            SdkError::TimeoutError(_) => {
                return base(Category::Transient, "timed out".into());
            }
            SdkError::DispatchFailure(_) => {
                return base(
                    Category::Transient,
                    format!("could not reach AWS: {}", source_chain(&err)),
                );
            }
            SdkError::ResponseError(_) => {
                return base(
                    Category::Transient,
                    format!("unreadable response: {}", source_chain(&err)),
                );
            }
            SdkError::ConstructionFailure(_) => {
                return base(
                    Category::NeedsChange,
                    format!("request could not be built: {}", source_chain(&err)),
                );
            }
            _ => {}
        }
        let code_str = code.as_deref().unwrap_or("");
        let detail = aws_message.unwrap_or_else(|| source_chain(&err));
        if TRANSIENT_CODES.contains(&code_str) || status.is_some_and(|s| s >= 500 || s == 429) {
            base(Category::Transient, format!("{code_str}: {detail}"))
        } else if ACCESS_DENIED_CODES.contains(&code_str) {
            base(
                Category::NeedsChange,
                format!(
                    "the operator's IAM identity may not call {operation} on {resource}: grant it \
                     (`liveness-operator plan --operator-policy` prints the policy the operator needs). \
                     AWS said: {detail}"
                ),
            )
        } else {
            base(
                Category::NeedsChange,
                format!("AWS refused it ({code_str}): {detail}"),
            )
        }
    }

    /// An object with our name that does not carry our ownership tag.
    pub fn conflict(operation: &str, resource: &str, message: String) -> Self {
        Self {
            category: Category::NeedsChange,
            operation: operation.into(),
            resource: resource.into(),
            code: Some("Conflict".into()),
            message,
            phase: None,
            pool_id: None,
        }
    }

    /// An adoption the pool's owner has not allowed (code `AdoptionRefused`).
    pub fn refused(operation: &str, resource: &str, message: String) -> Self {
        Self {
            code: Some("AdoptionRefused".into()),
            ..Self::needs_change(operation, resource, message)
        }
    }

    /// A problem the spec must fix, found while talking to AWS (e.g. an adopted pool
    /// that does not exist).
    pub fn needs_change(operation: &str, resource: &str, message: String) -> Self {
        Self {
            category: Category::NeedsChange,
            operation: operation.into(),
            resource: resource.into(),
            code: None,
            message,
            phase: None,
            pool_id: None,
        }
    }

    /// A condition that should pass by itself (e.g. an object vanished mid-run).
    pub fn transient(operation: &str, resource: &str, message: String) -> Self {
        Self {
            category: Category::Transient,
            operation: operation.into(),
            resource: resource.into(),
            code: None,
            message,
            phase: None,
            pool_id: None,
        }
    }

    /// The same error, to be retried: for refusals known to be IAM's eventual
    /// consistency (a role created a moment ago is not yet visible everywhere).
    pub fn into_transient(self, why: &str) -> Self {
        Self {
            category: Category::Transient,
            message: format!("{} ({why})", self.message),
            ..self
        }
    }

    /// The same error, marked as failing in `phase` (kept if already marked).
    pub fn in_phase(self, phase: Phase) -> Self {
        Self {
            phase: self.phase.or(Some(phase)),
            ..self
        }
    }

    /// Notes the app's pool, found or created before this error.
    pub fn with_pool(self, pool_id: Option<String>) -> Self {
        Self {
            pool_id: self.pool_id.or(pool_id.map(String::into_boxed_str)),
            ..self
        }
    }

    /// The app's pool, if the failed pass had found or created it.
    pub fn pool_id(&self) -> Option<&str> {
        self.pool_id.as_deref()
    }

    /// The provisioning phase the failed call belonged to.
    pub fn phase(&self) -> Option<Phase> {
        self.phase
    }

    /// Requeue or wait for a change.
    pub fn category(&self) -> Category {
        self.category
    }

    /// Whether AWS said the object does not exist.
    pub fn is_not_found(&self) -> bool {
        self.code
            .as_deref()
            .is_some_and(|c| NOT_FOUND_CODES.contains(&c))
    }

    /// The AWS error code, if AWS answered.
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// The failed operation as an IAM action name.
    pub fn operation(&self) -> &str {
        &self.operation
    }

    /// The object the call was about.
    pub fn resource(&self) -> &str {
        &self.resource
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} on {}: {}",
            self.operation, self.resource, self.message
        )
    }
}

impl std::error::Error for AwsError {}

/// An error and its causes on one line (`outer: inner: innermost`), for logs and messages.
pub fn source_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Turns "not found" into `None`, for reads of objects that may be absent and deletes
/// that count NotFound as done.
pub trait NotFoundIsNone<T> {
    /// `Ok(None)` when the error is a NotFound.
    fn found(self) -> Result<Option<T>, AwsError>;
}

impl<T> NotFoundIsNone<T> for Result<T, AwsError> {
    fn found(self) -> Result<Option<T>, AwsError> {
        match self {
            Ok(value) => Ok(Some(value)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_iam::operation::create_role::CreateRoleError;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    fn service_error(status: u16, code: &str, message: &str) -> AwsError {
        let meta = ErrorMetadata::builder().code(code).message(message).build();
        let response = HttpResponse::new(status.try_into().unwrap(), SdkBody::empty());
        let err = SdkError::service_error(CreateRoleError::generic(meta), response);
        AwsError::from_sdk(
            "iam:CreateRole",
            "arn:aws:iam::1:role/liveness-operator/r",
            err,
        )
    }

    #[test]
    fn throttling_and_server_errors_are_transient() {
        for (status, code) in [
            (400, "Throttling"),
            (400, "ThrottlingException"),
            (429, "Whatever"),
            (500, "InternalFailure"),
            (503, "ServiceUnavailable"),
        ] {
            assert_eq!(
                service_error(status, code, "slow down").category(),
                Category::Transient,
                "{code}"
            );
        }
    }

    #[test]
    fn access_denied_names_the_missing_action_and_resource() {
        let err = service_error(403, "AccessDenied", "User is not authorized");
        assert_eq!(err.category(), Category::NeedsChange);
        let text = err.to_string();
        assert!(
            text.contains("the operator's IAM identity may not call iam:CreateRole on arn:aws:iam::1:role/liveness-operator/r"),
            "{text}"
        );
        assert!(text.contains("--operator-policy"), "{text}");
    }

    #[test]
    fn validation_errors_keep_aws_field_message_and_not_found_is_recognised() {
        let err = service_error(
            400,
            "ValidationError",
            "Value at 'roleName' failed to satisfy constraint",
        );
        assert_eq!(err.category(), Category::NeedsChange);
        assert!(err.to_string().contains("'roleName'"));
        assert!(!err.is_not_found());
        let missing = service_error(404, "NoSuchEntity", "Role x not found");
        assert!(missing.is_not_found());
        assert_eq!(Err::<(), _>(missing).found().unwrap(), None);
    }
}
