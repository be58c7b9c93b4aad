//! Counts every AWS call by operation and, for tests, makes chosen calls fail.
//!
//! An SDK interceptor on each client sees every operation. The counter is keyed by the
//! IAM action name (`iam:CreateRole`, `cognito-identity:SetIdentityPoolRoles`), so the
//! same keys serve metrics, write-count assertions and the check that the operator's own
//! policy allows exactly what is called. Counting is always compiled in (it feeds
//! `/metrics`).
//!
//! Failure injection lives at the same point and only with the `test-util` feature (on
//! for the crate's own tests, off in a release build): "fail call N" either before it is
//! sent (AWS never sees it) or after AWS answered (the change happened but the caller sees
//! an error, as when the operator crashes).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_sdk_iam::config::interceptors::BeforeSerializationInterceptorContextRef;
#[cfg(feature = "test-util")]
use aws_sdk_iam::config::interceptors::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_sdk_iam::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
#[cfg(feature = "test-util")]
use aws_smithy_types::config_bag::{Storable, StoreReplace};

/// Whether an operation changes AWS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallKind {
    /// Get*, List*, Describe*, Simulate*.
    Read,
    /// Everything else.
    Write,
}

/// Classifies `service:Operation` (or a bare operation name).
pub fn kind_of(operation: &str) -> CallKind {
    let name = operation.rsplit(':').next().unwrap_or(operation);
    if ["Get", "List", "Describe", "Simulate"]
        .iter()
        .any(|p| name.starts_with(p))
    {
        CallKind::Read
    } else {
        CallKind::Write
    }
}

/// When an injected failure happens.
#[cfg(feature = "test-util")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailWhen {
    /// Before the request is sent: AWS never sees the call.
    BeforeSend,
    /// After AWS answered: the call took effect, the caller still gets an error.
    AfterResponse,
}

/// Calls counted so far, by `service:Operation`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallSnapshot {
    /// Count per operation.
    pub by_operation: BTreeMap<String, u64>,
}

impl CallSnapshot {
    /// Calls that change AWS.
    pub fn writes(&self) -> u64 {
        self.count(CallKind::Write)
    }

    /// Calls that only read.
    pub fn reads(&self) -> u64 {
        self.count(CallKind::Read)
    }

    /// All calls.
    pub fn total(&self) -> u64 {
        self.by_operation.values().sum()
    }

    /// Calls of one operation.
    pub fn of(&self, operation: &str) -> u64 {
        self.by_operation.get(operation).copied().unwrap_or(0)
    }

    /// The write operations with their counts (for assertion messages).
    pub fn write_operations(&self) -> BTreeMap<String, u64> {
        self.by_operation
            .iter()
            .filter(|(op, _)| kind_of(op) == CallKind::Write)
            .map(|(op, n)| (op.clone(), *n))
            .collect()
    }

    /// Calls made since `earlier`.
    pub fn since(&self, earlier: &CallSnapshot) -> CallSnapshot {
        let by_operation = self
            .by_operation
            .iter()
            .map(|(op, n)| (op.clone(), n - earlier.of(op)))
            .filter(|(_, n)| *n > 0)
            .collect();
        CallSnapshot { by_operation }
    }

    fn count(&self, kind: CallKind) -> u64 {
        self.by_operation
            .iter()
            .filter(|(op, _)| kind_of(op) == kind)
            .map(|(_, n)| n)
            .sum()
    }
}

/// Shared call counter (and, with `test-util`, failure plan); cheap to clone, one per
/// operator process.
#[derive(Clone, Debug, Default)]
pub struct Calls {
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    counts: BTreeMap<String, u64>,
    sequence: u64,
    #[cfg(feature = "test-util")]
    faults: Vec<(u64, FailWhen)>,
}

impl Calls {
    /// A fresh counter.
    pub fn new() -> Self {
        Self::default()
    }

    /// What was counted so far.
    pub fn snapshot(&self) -> CallSnapshot {
        CallSnapshot {
            by_operation: self.lock().counts.clone(),
        }
    }

    /// Number of calls started so far (the sequence number of the last one).
    pub fn sequence(&self) -> u64 {
        self.lock().sequence
    }

    /// Makes the call with sequence number `n` (1-based, across every client sharing this
    /// counter) fail with a transient error at `when`.
    #[cfg(feature = "test-util")]
    pub fn fail_call(&self, n: u64, when: FailWhen) {
        self.lock().faults.push((n, when));
    }

    /// Makes the next call fail.
    #[cfg(feature = "test-util")]
    pub fn fail_next(&self, when: FailWhen) {
        let mut state = self.lock();
        let next = state.sequence + 1;
        state.faults.push((next, when));
    }

    /// Removes pending injected failures.
    #[cfg(feature = "test-util")]
    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    /// The interceptor to install on a client of `service` (`iam`, `cognito-identity`,
    /// `sts`: the prefix of its IAM actions).
    pub fn interceptor(&self, service: &'static str) -> CallInterceptor {
        CallInterceptor {
            calls: self.clone(),
            service,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic elsewhere cannot leave the counters inconsistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn start(&self, operation: String) -> u64 {
        let mut state = self.lock();
        *state.counts.entry(operation).or_default() += 1;
        state.sequence += 1;
        state.sequence
    }

    #[cfg(feature = "test-util")]
    fn take_fault(&self, sequence: u64, when: FailWhen) -> bool {
        let mut state = self.lock();
        let before = state.faults.len();
        state.faults.retain(|f| *f != (sequence, when));
        state.faults.len() != before
    }
}

/// Counts calls of one client (and, with `test-util`, injects planned failures).
#[derive(Debug)]
pub struct CallInterceptor {
    calls: Calls,
    service: &'static str,
}

/// The sequence number of the call in flight, for the injection hooks.
#[cfg(feature = "test-util")]
#[derive(Debug, Clone, Copy)]
struct Sequence(u64);

#[cfg(feature = "test-util")]
impl Storable for Sequence {
    type Storer = StoreReplace<Self>;
}

/// The error an injected failure produces. It surfaces as an SDK dispatch or response
/// error, which the layer classifies as transient, and the SDK does not retry it.
#[cfg(feature = "test-util")]
#[derive(Debug, thiserror::Error)]
#[error("injected failure of AWS call #{0} ({1:?})")]
pub struct InjectedFailure(pub u64, pub FailWhen);

impl Intercept for CallInterceptor {
    fn name(&self) -> &'static str {
        "liveness-operator call counter"
    }

    // Not read_before_execution: the operation's Metadata is in the bag only from here on.
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg
            .load::<Metadata>()
            .map(|m| m.name().to_string())
            .unwrap_or_else(|| "Unknown".into());
        let sequence = self.calls.start(format!("{}:{operation}", self.service));
        #[cfg(feature = "test-util")]
        cfg.interceptor_state().store_put(Sequence(sequence));
        #[cfg(not(feature = "test-util"))]
        let _ = sequence;
        Ok(())
    }

    #[cfg(feature = "test-util")]
    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.inject(cfg, FailWhen::BeforeSend)
    }

    #[cfg(feature = "test-util")]
    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // Only once AWS has answered; a request that never left fails on its own.
        if context.response().is_some() {
            self.inject(cfg, FailWhen::AfterResponse)
        } else {
            Ok(())
        }
    }
}

#[cfg(feature = "test-util")]
impl CallInterceptor {
    fn inject(&self, cfg: &ConfigBag, when: FailWhen) -> Result<(), BoxError> {
        match cfg.load::<Sequence>() {
            Some(Sequence(n)) if self.calls.take_fault(*n, when) => {
                Err(Box::new(InjectedFailure(*n, when)))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_classified_by_their_verb() {
        for read in [
            "iam:GetRole",
            "iam:ListRolePolicies",
            "cognito-identity:DescribeIdentityPool",
            "sts:GetCallerIdentity",
        ] {
            assert_eq!(kind_of(read), CallKind::Read, "{read}");
        }
        for write in [
            "iam:CreateRole",
            "iam:TagRole",
            "iam:DetachRolePolicy",
            "cognito-identity:SetIdentityPoolRoles",
            "cognito-identity:TagResource",
        ] {
            assert_eq!(kind_of(write), CallKind::Write, "{write}");
        }
    }

    #[test]
    fn snapshots_count_and_subtract() {
        let calls = Calls::new();
        calls.start("iam:GetRole".into());
        let first = calls.snapshot();
        calls.start("iam:GetRole".into());
        calls.start("iam:CreateRole".into());
        let delta = calls.snapshot().since(&first);
        assert_eq!(delta.of("iam:GetRole"), 1);
        assert_eq!(delta.writes(), 1);
        assert_eq!(delta.reads(), 1);
        assert_eq!(calls.snapshot().total(), 3);
        assert_eq!(calls.sequence(), 3);
    }

    #[cfg(feature = "test-util")]
    #[test]
    fn a_planned_fault_fires_once_at_its_call_and_moment() {
        let calls = Calls::new();
        calls.fail_call(2, FailWhen::AfterResponse);
        assert!(!calls.take_fault(2, FailWhen::BeforeSend));
        assert!(!calls.take_fault(1, FailWhen::AfterResponse));
        assert!(calls.take_fault(2, FailWhen::AfterResponse));
        assert!(!calls.take_fault(2, FailWhen::AfterResponse));
    }
}
