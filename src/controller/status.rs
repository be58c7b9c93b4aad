//! Conditions as `kubectl describe` shows them: pure functions from what a reconcile
//! found to the status conditions, so the rules are unit-tested without a cluster.
//!
//! Rules (as cert-manager does it): every condition carries the generation it describes;
//! `lastTransitionTime` moves only when the status flips; Ready is derived from the
//! others and, when False, repeats the reason and message of the first failing one.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;

use super::error::Error;
use super::step::Step;
use crate::aws::Provisioned;
use crate::crd::condition;

/// The state of one condition, as a reconcile step reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observation {
    /// Condition type (see [`crate::crd::condition`]).
    pub type_: &'static str,
    /// "True", "False" or "Unknown".
    pub status: &'static str,
    /// CamelCase reason.
    pub reason: String,
    /// A sentence for the user; when False it says what to fix.
    pub message: String,
}

impl Observation {
    /// A True condition.
    pub fn ok(type_: &'static str, reason: &str, message: impl Into<String>) -> Self {
        Self::new(type_, "True", reason, message)
    }
    /// A False condition.
    pub fn failed(type_: &'static str, reason: &str, message: impl Into<String>) -> Self {
        Self::new(type_, "False", reason, message)
    }
    /// A condition whose state is not known (an earlier step failed).
    pub fn unknown(type_: &'static str, reason: &str, message: impl Into<String>) -> Self {
        Self::new(type_, "Unknown", reason, message)
    }
    fn new(
        type_: &'static str,
        status: &'static str,
        reason: &str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            type_,
            status,
            reason: reason.to_string(),
            message: message.into(),
        }
    }
}

/// The Ready condition derived from the three component conditions.
pub fn ready_from(components: &[Observation]) -> Observation {
    match components.iter().find(|c| c.status != "True") {
        None => Observation::ok(
            condition::READY,
            "Ready",
            "identity pool, roles and endpoint are ready",
        ),
        Some(first) => Observation::failed(condition::READY, &first.reason, first.message.clone()),
    }
}

/// Why an app cannot progress without a change by the user (kstatus `Stalled`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stall {
    /// CamelCase reason, e.g. `InvalidSpec`.
    pub reason: String,
    /// What to change.
    pub message: String,
}

/// kstatus conditions beside Ready: `Stalled` when the app waits for the user, else
/// `Reconciling` until Ready; both False once Ready.
pub fn kstatus(ready: &Observation, stall: Option<&Stall>) -> [Observation; 2] {
    match stall {
        Some(stall) => [
            Observation::failed(
                condition::RECONCILING,
                "Stalled",
                "waits for a change, see Stalled",
            ),
            Observation::ok(condition::STALLED, &stall.reason, stall.message.clone()),
        ],
        None if ready.status == "True" => [
            Observation::failed(condition::RECONCILING, "Ready", "nothing left to apply"),
            Observation::failed(condition::STALLED, "Ready", "not stalled"),
        ],
        None => [
            Observation::ok(condition::RECONCILING, &ready.reason, ready.message.clone()),
            Observation::failed(condition::STALLED, "Progressing", "progressing"),
        ],
    }
}

/// New condition list: `components` plus the derived Ready and kstatus conditions, for
/// `generation` at `now`, keeping each condition's lastTransitionTime when its status did
/// not change.
pub fn conditions(
    existing: &[Condition],
    components: Vec<Observation>,
    stall: Option<&Stall>,
    generation: i64,
    now: Timestamp,
) -> Vec<Condition> {
    let ready = ready_from(&components);
    let health = kstatus(&ready, stall);
    let mut all = vec![ready];
    all.extend(components);
    all.extend(health);
    condition::ALL
        .iter()
        .filter_map(|type_| all.iter().find(|o| o.type_ == *type_))
        .map(|o| {
            let previous = existing.iter().find(|c| c.type_ == o.type_);
            let last_transition_time = match previous {
                Some(p) if p.status == o.status => p.last_transition_time.clone(),
                _ => Time(now),
            };
            Condition {
                type_: o.type_.to_string(),
                status: o.status.to_string(),
                reason: o.reason.clone(),
                message: o.message.clone(),
                observed_generation: Some(generation),
                last_transition_time,
            }
        })
        .collect()
}

/// Conditions after AWS is in sync.
pub fn aws_ready_observations(provisioned: &Provisioned) -> Vec<Observation> {
    let pool_reason = if provisioned.identity_pool_adopted {
        "Adopted"
    } else {
        "InSync"
    };
    vec![
        Observation::ok(
            condition::IDENTITY_POOL_READY,
            pool_reason,
            format!("identity pool {} is in sync", provisioned.identity_pool_id),
        ),
        Observation::ok(
            condition::ROLES_READY,
            "InSync",
            "roles, their least-privilege policies and the pool's role links are in sync",
        ),
    ]
}

/// Conditions after a failed step: the step's condition is False with the error's reason;
/// steps before it are True (what `provisioned` shows), steps after it Unknown.
pub fn failure_observations(error: &Error, provisioned: Option<&Provisioned>) -> Vec<Observation> {
    let (reason, message) = (error.reason(), error.to_string());
    let pool_ok = || match provisioned {
        Some(p) => aws_ready_observations(p).swap_remove(0),
        None => Observation::ok(
            condition::IDENTITY_POOL_READY,
            "InSync",
            "identity pool is in sync",
        ),
    };
    let waiting_for_aws = || {
        Observation::unknown(
            condition::ENDPOINT_READY,
            "WaitingForAws",
            "waits for the AWS objects",
        )
    };
    match error.step() {
        Step::Validate => [
            condition::IDENTITY_POOL_READY,
            condition::ROLES_READY,
            condition::ENDPOINT_READY,
        ]
        .map(|type_| Observation::unknown(type_, reason, message.clone()))
        .to_vec(),
        Step::IdentityPool => vec![
            Observation::failed(condition::IDENTITY_POOL_READY, reason, message),
            Observation::unknown(
                condition::ROLES_READY,
                "WaitingForPool",
                "waits for the identity pool",
            ),
            waiting_for_aws(),
        ],
        Step::Roles | Step::RoleLinks => vec![
            pool_ok(),
            Observation::failed(condition::ROLES_READY, reason, message),
            waiting_for_aws(),
        ],
        Step::Cleanup => vec![
            Observation::failed(condition::IDENTITY_POOL_READY, reason, message.clone()),
            Observation::failed(condition::ROLES_READY, reason, message),
            Observation::unknown(
                condition::ENDPOINT_READY,
                "Deleting",
                "the endpoint objects are removed with the LivenessApp",
            ),
        ],
        Step::KubeObjects | Step::Status => {
            let mut observations = provisioned.map(aws_ready_observations).unwrap_or_default();
            observations.push(Observation::failed(
                condition::ENDPOINT_READY,
                reason,
                format!("could not apply the endpoint objects: {message}"),
            ));
            observations
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::{AwsError, Phase};

    fn all_true() -> Vec<Observation> {
        vec![
            Observation::ok(condition::IDENTITY_POOL_READY, "InSync", "pool ok"),
            Observation::ok(condition::ROLES_READY, "InSync", "roles ok"),
            Observation::ok(condition::ENDPOINT_READY, "Available", "2/2"),
        ]
    }

    #[test]
    fn ready_when_every_component_is_true_and_each_carries_the_generation() {
        let now = Timestamp::now();
        let conds = conditions(&[], all_true(), None, 7, now);
        let types: Vec<_> = conds.iter().map(|c| c.type_.as_str()).collect();
        assert_eq!(types, condition::ALL);
        assert!(conds.iter().all(|c| c.observed_generation == Some(7)));
        let status = |t: &str| conds.iter().find(|c| c.type_ == t).unwrap().status.clone();
        for t in &condition::ALL[..4] {
            assert_eq!(status(t), "True", "{t}");
        }
        // kstatus: a Ready app is neither reconciling nor stalled.
        assert_eq!(status(condition::RECONCILING), "False");
        assert_eq!(status(condition::STALLED), "False");
    }

    #[test]
    fn kstatus_says_reconciling_until_ready_and_stalled_when_the_user_must_act() {
        let mut waiting = all_true();
        waiting[2] = Observation::failed(condition::ENDPOINT_READY, "Unavailable", "0/2");
        let conds = conditions(&[], waiting, None, 1, Timestamp::now());
        let get = |conds: &[Condition], t: &str| {
            let c = conds.iter().find(|c| c.type_ == t).unwrap();
            (c.status.clone(), c.reason.clone())
        };
        assert_eq!(
            get(&conds, condition::RECONCILING),
            ("True".into(), "Unavailable".into())
        );
        assert_eq!(get(&conds, condition::STALLED).0, "False");
        let stall = Stall {
            reason: "InvalidSpec".into(),
            message: "spec.region: bad".into(),
        };
        let stalled = conditions(&[], all_true(), Some(&stall), 1, Timestamp::now());
        assert_eq!(
            get(&stalled, condition::STALLED),
            ("True".into(), "InvalidSpec".into())
        );
        assert_eq!(get(&stalled, condition::RECONCILING).0, "False");
    }

    #[test]
    fn ready_false_repeats_the_first_failure() {
        let mut obs = all_true();
        obs[1] = Observation::failed(
            condition::ROLES_READY,
            "AccessDenied",
            "grant iam:CreateRole to the operator",
        );
        let conds = conditions(&[], obs, None, 1, Timestamp::now());
        assert_eq!(conds[0].status, "False");
        assert_eq!(conds[0].reason, "AccessDenied");
        assert_eq!(conds[0].message, "grant iam:CreateRole to the operator");
    }

    #[test]
    fn last_transition_time_moves_only_when_the_status_flips() {
        let t0 = Timestamp::now() - k8s_openapi::jiff::SignedDuration::from_hours(1);
        let first = conditions(&[], all_true(), None, 1, t0);
        let t1 = Timestamp::now();
        let mut obs = all_true();
        obs[0].message = "still fine, new words".into();
        obs[2] = Observation::failed(condition::ENDPOINT_READY, "Unavailable", "0/2");
        let second = conditions(&first, obs, None, 2, t1);
        let by_type = |t: &str| second.iter().find(|c| c.type_ == t).unwrap().clone();
        assert_eq!(
            by_type(condition::IDENTITY_POOL_READY)
                .last_transition_time
                .0,
            t0
        );
        assert_eq!(
            by_type(condition::IDENTITY_POOL_READY).observed_generation,
            Some(2)
        );
        assert_eq!(
            by_type(condition::ENDPOINT_READY).last_transition_time.0,
            t1
        );
        assert_eq!(by_type(condition::READY).last_transition_time.0, t1);
    }

    fn aws_error(operation: &str, status: u16, code: &str, phase: Phase) -> Error {
        use aws_sdk_iam::error::SdkError;
        use aws_sdk_iam::operation::create_role::CreateRoleError;
        use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
        use aws_smithy_types::body::SdkBody;
        use aws_smithy_types::error::ErrorMetadata;
        let meta = ErrorMetadata::builder()
            .code(code)
            .message("AWS says no")
            .build();
        let response = HttpResponse::new(status.try_into().unwrap(), SdkBody::empty());
        let err = SdkError::service_error(CreateRoleError::generic(meta), response);
        let aws = AwsError::from_sdk(operation, "arn:aws:iam::1:role/liveness-operator/r", err);
        Error::aws(aws.in_phase(phase), Step::Cleanup)
    }

    #[test]
    fn a_denied_iam_call_fails_roles_and_names_the_action() {
        let error = aws_error("iam:CreateRole", 403, "AccessDenied", Phase::Roles);
        let obs = failure_observations(&error, None);
        assert_eq!(obs[0].status, "True", "the pool step passed");
        assert_eq!(
            (obs[1].status, obs[1].reason.as_str()),
            ("False", "AccessDenied")
        );
        assert!(
            obs[1].message.contains("may not call iam:CreateRole"),
            "{}",
            obs[1].message
        );
        assert_eq!(obs[2].status, "Unknown");
        let ready = ready_from(&obs);
        assert_eq!(ready.reason, "AccessDenied");
    }

    #[test]
    fn the_step_decides_the_condition_not_the_operation_name() {
        let error = aws_error(
            "cognito-identity:CreateIdentityPool",
            400,
            "TooManyRequestsException",
            Phase::IdentityPool,
        );
        let obs = failure_observations(&error, None);
        assert_eq!(
            (obs[0].status, obs[0].reason.as_str()),
            ("False", "AwsUnavailable")
        );
        assert_eq!(obs[1].status, "Unknown");
        // Linking roles is a Cognito call but belongs to the role-links step.
        let link = aws_error(
            "cognito-identity:SetIdentityPoolRoles",
            400,
            "InvalidParameterException",
            Phase::RoleLinks,
        );
        let link = failure_observations(&link, None);
        assert_eq!((link[0].status, link[1].status), ("True", "False"));
        // A Cognito read made for the roles step fails the roles, whatever its name.
        let read = aws_error(
            "cognito-identity:GetIdentityPoolRoles",
            400,
            "InvalidParameterException",
            Phase::Roles,
        );
        let read = failure_observations(&read, None);
        assert_eq!((read[0].status, read[1].status), ("True", "False"));
    }
}
