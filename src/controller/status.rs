//! Conditions as `kubectl describe` shows them: pure functions from what a reconcile
//! found to the status conditions, so the rules are unit-tested without a cluster.
//!
//! Rules (as cert-manager does it): every condition carries the generation it describes;
//! `lastTransitionTime` moves only when the status flips; Ready is derived from the
//! others and, when False, repeats the reason and message of the first failing one.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;

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

/// New condition list: `components` plus the derived Ready, for `generation` at `now`,
/// keeping each condition's lastTransitionTime when its status did not change.
pub fn conditions(
    existing: &[Condition],
    components: Vec<Observation>,
    generation: i64,
    now: Timestamp,
) -> Vec<Condition> {
    let ready = ready_from(&components);
    let mut all = vec![ready];
    all.extend(components);
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

#[cfg(test)]
mod tests {
    use super::*;

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
        let conds = conditions(&[], all_true(), 7, now);
        let types: Vec<_> = conds.iter().map(|c| c.type_.as_str()).collect();
        assert_eq!(types, condition::ALL);
        assert!(
            conds
                .iter()
                .all(|c| c.status == "True" && c.observed_generation == Some(7))
        );
    }

    #[test]
    fn ready_false_repeats_the_first_failure() {
        let mut obs = all_true();
        obs[1] = Observation::failed(
            condition::ROLES_READY,
            "AccessDenied",
            "grant iam:CreateRole to the operator",
        );
        let conds = conditions(&[], obs, 1, Timestamp::now());
        assert_eq!(conds[0].status, "False");
        assert_eq!(conds[0].reason, "AccessDenied");
        assert_eq!(conds[0].message, "grant iam:CreateRole to the operator");
    }

    #[test]
    fn last_transition_time_moves_only_when_the_status_flips() {
        let t0 = Timestamp::now() - k8s_openapi::jiff::SignedDuration::from_hours(1);
        let first = conditions(&[], all_true(), 1, t0);
        let t1 = Timestamp::now();
        let mut obs = all_true();
        obs[0].message = "still fine, new words".into();
        obs[2] = Observation::failed(condition::ENDPOINT_READY, "Unavailable", "0/2");
        let second = conditions(&first, obs, 2, t1);
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
}
