//! The operator's policy and the cluster's permissions boundary, evaluated by an independent
//! IAM evaluator (`@cloud-copilot/iam-simulate`, test-only; see tests/support/iam_sim.rs):
//! conditions, boundaries and explicit denies decide as `docs/threat-model.md` says. The
//! expected decision is exact: an explicit Deny is told apart from "nothing allowed it".

mod support;

use liveness_operator::bootstrap::operator_role_arn;
use liveness_operator::plan::aws::TAG_CLUSTER;
use liveness_operator::plan::boundary::boundary_policy_arn;
use liveness_operator::plan::operator::{
    POOL_TAG_KEYS, STAR_ONLY_ACTIONS, operator_actions, operator_policy,
};
use liveness_operator::plan::policy::{PolicyDocument, Statement};
use support::iam_sim::{Decision, Request, decide, outcomes};

use Decision::{Allowed, ExplicitlyDenied, ImplicitlyDenied};

/// A role with `*:*` inline, capped by the boundary.
#[path = "iam_policies/boundary.rs"]
mod boundary;

const ACCOUNT: &str = "111122223333";
const OTHER_ACCOUNT: &str = "444455556666";
const CLUSTER: &str = "prod";
const POOL: &str = "arn:aws:cognito-identity:us-east-1:111122223333:identitypool/us-east-1:0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9";
const ADMIN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

/// The operator's own role (as `liveness-operator bootstrap` creates it).
fn operator() -> String {
    operator_role_arn("aws", ACCOUNT, CLUSTER)
}
fn role(cluster: &str, name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/liveness-operator/{cluster}/{name}")
}
fn ours() -> String {
    boundary_policy_arn("aws", ACCOUNT, CLUSTER)
}
fn other_boundary() -> String {
    format!("arn:aws:iam::{ACCOUNT}:policy/team-x/wide-open")
}

/// The operator calls `action` on `resource`.
fn op(name: &str, action: &str, resource: &str) -> Request {
    Request::new(
        name,
        &operator(),
        action,
        resource,
        ACCOUNT,
        &operator_policy("aws", ACCOUNT, CLUSTER),
    )
}

/// Evaluates every case and reports all mismatches at once.
fn check(cases: Vec<(Request, Decision)>) {
    let requests: Vec<Request> = cases.iter().map(|(r, _)| r.clone()).collect();
    let decided = decide(&requests);
    let wrong: Vec<String> = cases
        .iter()
        .zip(&decided)
        .filter(|((_, want), got)| want != *got)
        .map(|((r, want), got)| format!("{}: want {want:?}, got {got:?}", r.name))
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn roles_are_created_only_on_the_cluster_path_with_its_boundary() {
    let create = |name, role: String| op(name, "iam:CreateRole", &role);
    let here = role(CLUSTER, "lv-web-a-1234abcd-backend");
    check(vec![
        (create("no boundary", here.clone()), ExplicitlyDenied),
        (
            create("another boundary", here.clone())
                .with("iam:PermissionsBoundary", &other_boundary()),
            ExplicitlyDenied,
        ),
        (
            create("another cluster's boundary", here.clone()).with(
                "iam:PermissionsBoundary",
                &boundary_policy_arn("aws", ACCOUNT, "staging"),
            ),
            ExplicitlyDenied,
        ),
        (
            create("another cluster's path", role("staging", "lv-x"))
                .with("iam:PermissionsBoundary", &ours()),
            ImplicitlyDenied,
        ),
        (
            create(
                "outside the path",
                format!("arn:aws:iam::{ACCOUNT}:role/admin"),
            )
            .with("iam:PermissionsBoundary", &ours()),
            ImplicitlyDenied,
        ),
        (
            create("our boundary on our path", here).with("iam:PermissionsBoundary", &ours()),
            Allowed,
        ),
    ]);
}

#[test]
fn inline_policies_need_the_boundary_on_the_role() {
    let here = role(CLUSTER, "lv-web-a-1234abcd-client");
    check(vec![
        (
            op("put, role without boundary", "iam:PutRolePolicy", &here),
            ExplicitlyDenied,
        ),
        (
            op(
                "put, role with another boundary",
                "iam:PutRolePolicy",
                &here,
            )
            .with("iam:PermissionsBoundary", &other_boundary()),
            ExplicitlyDenied,
        ),
        (
            op("put, role with ours", "iam:PutRolePolicy", &here)
                .with("iam:PermissionsBoundary", &ours()),
            Allowed,
        ),
        (
            op("delete, role with ours", "iam:DeleteRolePolicy", &here)
                .with("iam:PermissionsBoundary", &ours()),
            Allowed,
        ),
        (
            op(
                "delete, role without boundary",
                "iam:DeleteRolePolicy",
                &here,
            ),
            ImplicitlyDenied,
        ),
        (
            op(
                "put, another cluster's role",
                "iam:PutRolePolicy",
                &role("staging", "lv-x"),
            )
            .with("iam:PermissionsBoundary", &ours()),
            ImplicitlyDenied,
        ),
    ]);
}

#[test]
fn a_boundary_cannot_be_removed_or_swapped_but_ours_can_be_restored() {
    let here = role(CLUSTER, "lv-web-a-1234abcd-backend");
    let put = "iam:PutRolePermissionsBoundary";
    check(vec![
        (
            op("remove ours", "iam:DeleteRolePermissionsBoundary", &here)
                .with("iam:PermissionsBoundary", &ours()),
            ExplicitlyDenied,
        ),
        (
            op("swap for another", put, &here).with("iam:PermissionsBoundary", &other_boundary()),
            ExplicitlyDenied,
        ),
        (
            op("restore ours", put, &here).with("iam:PermissionsBoundary", &ours()),
            Allowed,
        ),
        (
            op(
                "ours on another cluster's role",
                put,
                &role("staging", "lv-x"),
            )
            .with("iam:PermissionsBoundary", &ours()),
            ImplicitlyDenied,
        ),
    ]);
}

#[test]
fn managed_policies_cannot_be_attached_and_the_boundary_policy_cannot_be_changed() {
    let here = role(CLUSTER, "lv-web-a-1234abcd-backend");
    let mut cases = vec![(
        op("attach AdministratorAccess", "iam:AttachRolePolicy", &here)
            .with("iam:PolicyARN", ADMIN)
            .with("iam:PermissionsBoundary", &ours()),
        ExplicitlyDenied,
    )];
    for action in [
        "iam:CreatePolicyVersion",
        "iam:SetDefaultPolicyVersion",
        "iam:DeletePolicyVersion",
        "iam:DeletePolicy",
    ] {
        cases.push((op(action, action, &ours()), ExplicitlyDenied));
    }
    cases.push((
        op(
            "detach, which only removes power",
            "iam:DetachRolePolicy",
            &here,
        )
        .with("iam:PolicyARN", ADMIN)
        .with("iam:PermissionsBoundary", &ours()),
        Allowed,
    ));
    check(cases);
}

#[test]
fn the_denies_hold_even_when_the_operator_role_is_given_administrator_access() {
    let admin = PolicyDocument::new(vec![Statement::allow("Admin", &["*"], vec!["*".into()])]);
    let with_admin = |r: Request| {
        let mut r = r;
        r.identity_policies
            .push(serde_json::to_value(&admin).unwrap());
        r
    };
    let here = role(CLUSTER, "lv-web-a-1234abcd-backend");
    check(vec![
        (
            with_admin(op("create without boundary", "iam:CreateRole", &here)),
            ExplicitlyDenied,
        ),
        (
            with_admin(
                op(
                    "remove the boundary",
                    "iam:DeleteRolePermissionsBoundary",
                    &here,
                )
                .with("iam:PermissionsBoundary", &ours()),
            ),
            ExplicitlyDenied,
        ),
        (
            with_admin(op("attach", "iam:AttachRolePolicy", &here).with("iam:PolicyARN", ADMIN)),
            ExplicitlyDenied,
        ),
        (
            with_admin(op(
                "rewrite the boundary",
                "iam:CreatePolicyVersion",
                &ours(),
            )),
            ExplicitlyDenied,
        ),
        // Control: the extra policy does grant what no Deny covers.
        (
            with_admin(op(
                "control: CreateUser",
                "iam:CreateUser",
                &format!("arn:aws:iam::{ACCOUNT}:user/x"),
            )),
            Allowed,
        ),
    ]);
}

#[test]
fn pools_are_created_tagged_and_changed_only_for_the_cluster() {
    let cluster_tag = format!("aws:ResourceTag/{TAG_CLUSTER}");
    let request_tag = format!("aws:RequestTag/{TAG_CLUSTER}");
    let delete = |name| op(name, "cognito-identity:DeleteIdentityPool", POOL);
    let create = |name| op(name, "cognito-identity:CreateIdentityPool", "*");
    let tag = |name| op(name, "cognito-identity:TagResource", POOL);
    check(vec![
        (delete("delete an untagged pool"), ImplicitlyDenied),
        (
            delete("delete another cluster's pool").with(&cluster_tag, "staging"),
            ImplicitlyDenied,
        ),
        (
            delete("delete our cluster's pool").with(&cluster_tag, CLUSTER),
            Allowed,
        ),
        (
            op(
                "update another cluster's pool",
                "cognito-identity:UpdateIdentityPool",
                POOL,
            )
            .with(&cluster_tag, "staging"),
            ImplicitlyDenied,
        ),
        (create("create without tags"), ImplicitlyDenied),
        (
            create("create tagged for another cluster")
                .with(&request_tag, "staging")
                .with_list("aws:TagKeys", POOL_TAG_KEYS),
            ImplicitlyDenied,
        ),
        (
            create("create with a tag key the operator never writes")
                .with(&request_tag, CLUSTER)
                .with_list(
                    "aws:TagKeys",
                    &[TAG_CLUSTER, "faceliveness.dev/adoptable-by"],
                ),
            ImplicitlyDenied,
        ),
        (
            create("create tagged for our cluster")
                .with(&request_tag, CLUSTER)
                .with_list("aws:TagKeys", POOL_TAG_KEYS),
            Allowed,
        ),
        (
            tag("take over another cluster's pool by tagging it")
                .with(&cluster_tag, "staging")
                .with(&request_tag, CLUSTER)
                .with_list("aws:TagKeys", POOL_TAG_KEYS),
            ImplicitlyDenied,
        ),
        (
            tag("restore the tags of our pool")
                .with(&cluster_tag, CLUSTER)
                .with(&request_tag, CLUSTER)
                .with_list("aws:TagKeys", POOL_TAG_KEYS),
            Allowed,
        ),
        (
            op(
                "read any pool",
                "cognito-identity:DescribeIdentityPool",
                POOL,
            ),
            Allowed,
        ),
        (
            op("untag", "cognito-identity:UntagResource", POOL).with(&cluster_tag, CLUSTER),
            ImplicitlyDenied,
        ),
    ]);
}

#[test]
fn roles_are_passed_only_to_cognito_and_only_the_clusters_own() {
    let here = role(CLUSTER, "lv-web-a-1234abcd-client");
    let pass = |name, role: &str, service| {
        op(name, "iam:PassRole", role).with("iam:PassedToService", service)
    };
    check(vec![
        (
            pass(
                "our role to Cognito",
                &here,
                "cognito-identity.amazonaws.com",
            ),
            Allowed,
        ),
        (
            pass("our role to EC2", &here, "ec2.amazonaws.com"),
            ImplicitlyDenied,
        ),
        (
            pass("our role to Lambda", &here, "lambda.amazonaws.com"),
            ImplicitlyDenied,
        ),
        (
            pass(
                "another cluster's role to Cognito",
                &role("staging", "lv-x"),
                "cognito-identity.amazonaws.com",
            ),
            ImplicitlyDenied,
        ),
        (
            pass(
                "an admin role to Cognito",
                &format!("arn:aws:iam::{ACCOUNT}:role/admin"),
                "cognito-identity.amazonaws.com",
            ),
            ImplicitlyDenied,
        ),
    ]);
}

#[test]
fn the_operator_cannot_edit_its_own_role_or_create_users() {
    check(vec![
        (
            op(
                "trust of its own role",
                "iam:UpdateAssumeRolePolicy",
                &operator(),
            ),
            ImplicitlyDenied,
        ),
        (
            op(
                "inline policy on its own role",
                "iam:PutRolePolicy",
                &operator(),
            )
            .with("iam:PermissionsBoundary", &ours()),
            ImplicitlyDenied,
        ),
        (
            op("delete its own role", "iam:DeleteRole", &operator()),
            ImplicitlyDenied,
        ),
        (
            op(
                "create a user",
                "iam:CreateUser",
                &format!("arn:aws:iam::{ACCOUNT}:user/x"),
            ),
            ImplicitlyDenied,
        ),
    ]);
}

/// The ARN an action acts on, for the check of resource-level permissions.
fn some_arn(action: &str) -> String {
    match action.split_once(':').unwrap().0 {
        "cognito-identity" => POOL.into(),
        _ => role(CLUSTER, "lv-web-a-1234abcd-client"),
    }
}

#[test]
fn star_only_actions_are_exactly_those_aws_authorizes_on_star_only() {
    // Every allowed action, given a concrete ARN: AWS's service reference (as the evaluator
    // knows it) refuses it exactly for the actions without resource-level permissions.
    let requests: Vec<Request> = operator_actions()
        .into_iter()
        .map(|a| op(a, a, &some_arn(a)))
        .collect();
    let refused: Vec<String> = outcomes(&requests)
        .into_iter()
        .filter(|o| {
            o.errors
                .as_ref()
                .is_some_and(|e| e["message"] == "must.use.wildcard")
        })
        .map(|o| o.name)
        .collect();
    assert_eq!(refused, STAR_ONLY_ACTIONS);
    // And on "*" they are valid requests the policy allows (CreateIdentityPool with its tags).
    let on_star: Vec<(Request, Decision)> = STAR_ONLY_ACTIONS
        .iter()
        .map(|a| {
            let r = op(a, a, "*");
            let r = if *a == "cognito-identity:CreateIdentityPool" {
                r.with(&format!("aws:RequestTag/{TAG_CLUSTER}"), CLUSTER)
                    .with_list("aws:TagKeys", POOL_TAG_KEYS)
            } else {
                r
            };
            (r, Allowed)
        })
        .collect();
    check(on_star);
}
