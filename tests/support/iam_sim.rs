//! An independent IAM evaluator for tests: `@cloud-copilot/iam-simulate` (npm, AGPL-3.0,
//! test-only) run by `tests/iam/simulate.mjs`, installed outside the clone by
//! `scripts/iam-simulator.sh` (called here, once per test process). Unlike ministack's
//! simulator it evaluates conditions, permissions boundaries and explicit denies, and it
//! validates actions, resource ARNs and context keys against AWS's service reference: a
//! request it calls invalid, or a context key it ignores, fails the test.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use serde::Serialize;
use serde_json::Value;

use super::testground::{repo_root, succeeded};

/// How IAM decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// An Allow applied and no Deny.
    Allowed,
    /// A Deny statement applied.
    ExplicitlyDenied,
    /// Nothing allowed it.
    ImplicitlyDenied,
}

impl Decision {
    /// Allowed, as opposed to either kind of denial.
    pub fn allowed(self) -> bool {
        self == Decision::Allowed
    }
}

/// One request to evaluate.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    /// Shown in failures.
    pub name: String,
    /// ARN of the caller.
    pub principal: String,
    /// e.g. `iam:CreateRole`.
    pub action: String,
    /// The resource ARN, or `*` for actions without resource-level permissions.
    pub resource: String,
    /// Account owning the resource.
    pub resource_account: String,
    /// The caller's identity policies.
    pub identity_policies: Vec<Value>,
    /// The caller's permissions boundary, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permission_boundary_policies: Option<Vec<Value>>,
    /// A resource policy (bucket policy, key policy), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_policy: Option<Value>,
    /// Request context (condition keys).
    pub context: BTreeMap<String, Value>,
}

impl Request {
    /// `principal` calls `action` on `resource` (of `account`) holding `policy`.
    pub fn new(
        name: &str,
        principal: &str,
        action: &str,
        resource: &str,
        account: &str,
        policy: &impl Serialize,
    ) -> Self {
        Self {
            name: name.into(),
            principal: principal.into(),
            action: action.into(),
            resource: resource.into(),
            resource_account: account.into(),
            identity_policies: vec![serde_json::to_value(policy).unwrap()],
            permission_boundary_policies: None,
            resource_policy: None,
            context: BTreeMap::new(),
        }
    }

    /// Adds a context key with one value.
    pub fn with(mut self, key: &str, value: &str) -> Self {
        self.context.insert(key.into(), Value::String(value.into()));
        self
    }

    /// Adds a multi-valued context key (e.g. `aws:TagKeys`).
    pub fn with_list(mut self, key: &str, values: &[&str]) -> Self {
        self.context.insert(key.into(), serde_json::json!(values));
        self
    }

    /// Gives the caller a permissions boundary.
    pub fn bounded_by(mut self, boundary: &impl Serialize) -> Self {
        self.permission_boundary_policies = Some(vec![serde_json::to_value(boundary).unwrap()]);
        self
    }

    /// Gives the resource a policy.
    pub fn resource_policy(mut self, policy: Value) -> Self {
        self.resource_policy = Some(policy);
        self
    }
}

/// The directory holding the evaluator's node_modules (installed on first use).
fn simulator_dir() -> &'static str {
    static DIR: OnceLock<String> = OnceLock::new();
    DIR.get_or_init(|| {
        let out = Command::new("bash")
            .arg(repo_root().join("scripts/iam-simulator.sh"))
            .stderr(Stdio::inherit())
            .output()
            .expect("run scripts/iam-simulator.sh");
        let stdout = succeeded(out, "scripts/iam-simulator.sh");
        stdout
            .lines()
            .last()
            .expect("a directory")
            .trim()
            .to_string()
    })
}

/// What the simulator answers about one request, invalid ones included.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    pub name: String,
    pub decision: String,
    pub result_type: String,
    pub errors: Option<Value>,
    pub ignored_context_keys: Vec<String>,
}

/// Runs the simulator on `requests` and returns its answers as they are.
pub fn outcomes(requests: &[Request]) -> Vec<Outcome> {
    let mut child = Command::new("node")
        .arg(repo_root().join("tests/iam/simulate.mjs"))
        .env("IAM_SIMULATE_DIR", simulator_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run node tests/iam/simulate.mjs");
    let input = serde_json::to_vec(requests).unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let stdout = succeeded(child.wait_with_output().unwrap(), "tests/iam/simulate.mjs");
    let outcomes: Vec<Outcome> = serde_json::from_str(&stdout).expect("simulator JSON");
    assert_eq!(outcomes.len(), requests.len());
    outcomes
}

/// The decision for each request. Panics when the simulator finds a request or a policy
/// invalid (an unknown action, a resource ARN the action does not accept) or ignores a
/// context key given: either means the policy or the test is wrong about AWS.
pub fn decide(requests: &[Request]) -> Vec<Decision> {
    outcomes(requests)
        .into_iter()
        .zip(requests)
        .map(|(outcome, request)| {
            assert!(
                outcome.errors.is_none() && outcome.result_type == "single",
                "{}: the simulator refused {} on {}: {}",
                outcome.name,
                request.action,
                request.resource,
                outcome.errors.unwrap_or_default()
            );
            assert!(
                outcome.ignored_context_keys.is_empty(),
                "{}: context keys {:?} do not apply to {}",
                outcome.name,
                outcome.ignored_context_keys,
                request.action
            );
            match outcome.decision.as_str() {
                "Allowed" => Decision::Allowed,
                "ExplicitlyDenied" => Decision::ExplicitlyDenied,
                "ImplicitlyDenied" => Decision::ImplicitlyDenied,
                other => panic!("{}: unknown decision {other}", outcome.name),
            }
        })
        .collect()
}
