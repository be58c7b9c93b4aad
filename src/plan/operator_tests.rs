//! Unit tests of the operator's policy: its shape, statement by statement. Whether IAM
//! decides as intended is `tests/iam_policies.rs` (an independent evaluator).

use std::collections::BTreeSet;

use super::*;
use crate::plan::aws::desired_aws;
use crate::plan::policy::{Effect, Statement};
use crate::testing;

const ACCOUNT: &str = "123456789012";
const BOUNDARY: &str = "arn:aws:iam::123456789012:policy/liveness-operator/prod/liveness-boundary";

fn policy() -> PolicyDocument {
    operator_policy("aws", ACCOUNT, "prod")
}

fn by_sid(policy: &PolicyDocument, sid: &str) -> Statement {
    policy
        .statement
        .iter()
        .find(|s| s.sid.as_deref() == Some(sid))
        .unwrap_or_else(|| panic!("no statement {sid}"))
        .clone()
}

fn resources(statement: &Statement) -> Vec<String> {
    statement.resource.clone().unwrap()
}

#[test]
fn roles_are_scoped_to_the_cluster_path_and_written_only_with_its_boundary() {
    let policy = policy();
    let scoped = vec!["arn:aws:iam::123456789012:role/liveness-operator/prod/*".to_string()];
    let bounded = by_sid(&policy, "RolesWithThisClustersBoundary");
    assert_eq!(bounded.action, BOUNDED_ROLE_ACTIONS);
    assert_eq!(resources(&bounded), scoped);
    assert_eq!(
        bounded.condition["StringEquals"]["iam:PermissionsBoundary"],
        [BOUNDARY]
    );
    assert_eq!(resources(&by_sid(&policy, "ThisClustersRoles")), scoped);
    let pass = by_sid(&policy, "PassThisClustersRolesToCognito");
    assert_eq!(pass.action, ["iam:PassRole"]);
    assert_eq!(resources(&pass), scoped);
    assert_eq!(
        pass.condition["StringEquals"]["iam:PassedToService"],
        ["cognito-identity.amazonaws.com"]
    );
}

#[test]
fn removing_swapping_attaching_and_editing_the_boundary_are_denied() {
    let policy = policy();
    let denies: Vec<&Statement> = policy
        .statement
        .iter()
        .filter(|s| s.effect == Effect::Deny)
        .collect();
    assert_eq!(denies.len(), 3);
    let always = by_sid(&policy, "NeverRemoveABoundaryOrAttachAPolicy");
    assert_eq!(always.action, DENIED_ACTIONS);
    assert!(always.action.contains(&"iam:AttachRolePolicy".to_string()));
    assert!(always.condition.is_empty());
    assert_eq!(resources(&always), ["*"]);
    let other = by_sid(&policy, "OnlyThisClustersBoundary");
    assert!(
        other
            .action
            .contains(&"iam:PutRolePermissionsBoundary".to_string())
    );
    assert_eq!(
        other.condition["StringNotEquals"]["iam:PermissionsBoundary"],
        [BOUNDARY]
    );
    assert_eq!(resources(&other), ["*"]);
    let fixed = by_sid(&policy, "TheBoundaryPolicyIsFixed");
    assert_eq!(fixed.action, BOUNDARY_CHANGE_ACTIONS);
    assert_eq!(resources(&fixed), [BOUNDARY]);
}

#[test]
fn pools_are_changed_and_tagged_only_when_tagged_for_the_cluster() {
    let policy = policy();
    let change = by_sid(&policy, "ChangeThisClustersPools");
    assert_eq!(
        change.condition["StringEquals"]["aws:ResourceTag/faceliveness.dev/cluster"],
        ["prod"]
    );
    let tag = by_sid(&policy, "TagThisClustersPools");
    let create = by_sid(&policy, "CreatePoolsTaggedForThisCluster");
    for statement in [&tag, &create] {
        assert_eq!(
            statement.condition["StringEquals"]["aws:RequestTag/faceliveness.dev/cluster"],
            ["prod"]
        );
        assert_eq!(
            statement.condition["ForAllValues:StringEquals"]["aws:TagKeys"],
            POOL_TAG_KEYS
        );
    }
    assert_eq!(
        tag.condition["StringEquals"]["aws:ResourceTag/faceliveness.dev/cluster"],
        ["prod"]
    );
    assert_eq!(
        resources(&by_sid(&policy, "ReadIdentityPools")),
        ["arn:aws:cognito-identity:*:123456789012:identitypool/*"]
    );
}

#[test]
fn the_operator_writes_exactly_the_tag_keys_the_policy_lets_it_write() {
    let env = testing::operator_env("prod", ACCOUNT);
    let app = testing::app(
        "web",
        "a",
        "uid-1",
        "{region: us-east-1, identityPool: {allowUnauthenticated: true}, endpoint: {auth: {mode: none}}}",
    );
    let desired = desired_aws(&testing::validated(&app, &env), &env);
    let written: BTreeSet<&str> = desired.tags.keys().map(String::as_str).collect();
    assert_eq!(written, POOL_TAG_KEYS.iter().copied().collect());
}

#[test]
fn actions_on_resource_star_are_exactly_the_star_only_actions() {
    let policy = policy();
    let on_star: BTreeSet<&str> = policy
        .statement
        .iter()
        .filter(|s| s.allows() && resources(s) == ["*"])
        .flat_map(|s| s.action.iter().map(String::as_str).collect::<Vec<_>>())
        .collect();
    assert_eq!(on_star, STAR_ONLY_ACTIONS.iter().copied().collect());
}

#[test]
fn operator_actions_are_every_allowed_action_once_and_never_a_wildcard() {
    let allowed: Vec<String> = policy()
        .statement
        .iter()
        .filter(|s| s.allows())
        .flat_map(|s| s.action.clone())
        .collect();
    assert_eq!(allowed, operator_actions());
    let unique: BTreeSet<&String> = allowed.iter().collect();
    assert_eq!(unique.len(), allowed.len(), "an action is allowed twice");
    assert!(
        allowed.iter().all(|a| !a.contains('*')),
        "no wildcard actions"
    );
    for never in DENIED_ACTIONS.iter().chain(BOUNDARY_CHANGE_ACTIONS) {
        assert!(!allowed.iter().any(|a| a == never), "{never} is allowed");
    }
}
