//! The steps of a reconcile, so that a failure says where it happened: the condition it
//! turns False and its reason follow from the step, never from parsing an operation name.

use crate::aws::Phase;
use crate::crd::condition;

/// One step of the reconcile pipeline (or of clean-up).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Checking the spec and the operator's settings.
    Validate,
    /// Creating, finding, adopting or correcting the identity pool.
    IdentityPool,
    /// Creating or correcting the IAM roles and their policies.
    Roles,
    /// Linking the roles to the identity pool.
    RoleLinks,
    /// Applying the endpoint's Kubernetes objects.
    KubeObjects,
    /// Writing the LivenessApp's status.
    Status,
    /// Removing the app's AWS objects on deletion.
    Cleanup,
}

impl Step {
    /// The condition this step's failure turns False (`None`: it only reaches Ready).
    pub fn condition(self) -> Option<&'static str> {
        match self {
            Step::IdentityPool => Some(condition::IDENTITY_POOL_READY),
            Step::Roles | Step::RoleLinks => Some(condition::ROLES_READY),
            Step::KubeObjects => Some(condition::ENDPOINT_READY),
            Step::Validate | Step::Status | Step::Cleanup => None,
        }
    }

    /// A word for logs and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Validate => "validate",
            Step::IdentityPool => "identity-pool",
            Step::Roles => "roles",
            Step::RoleLinks => "role-links",
            Step::KubeObjects => "kube-objects",
            Step::Status => "status",
            Step::Cleanup => "cleanup",
        }
    }
}

impl From<Phase> for Step {
    fn from(phase: Phase) -> Self {
        match phase {
            Phase::IdentityPool => Step::IdentityPool,
            Phase::Roles => Step::Roles,
            Phase::RoleLinks => Step::RoleLinks,
        }
    }
}
