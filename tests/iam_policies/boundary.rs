//! The boundary alone: a role of the cluster carrying `*:*` inline can still do only what the
//! boundary allows. Each denial has a control case without the boundary, so the boundary is
//! what denies (not a missing bucket or key policy).

use liveness_operator::plan::boundary::{LIVENESS_ACTIONS, boundary_policy};
use serde_json::json;

use super::*;

/// A role of the cluster that somehow carries `*:*` inline, bounded by the boundary.
fn star_role(name: &str, action: &str, resource: &str, account: &str) -> Request {
    let star = PolicyDocument::new(vec![Statement::allow(
        "Everything",
        &["*"],
        vec!["*".into()],
    )]);
    Request::new(
        name,
        &role(CLUSTER, "lv-web-a-1234abcd-backend"),
        action,
        resource,
        account,
        &star,
    )
    .bounded_by(&boundary_policy("aws", ACCOUNT))
}

fn bucket_policy_granting(principal: &str) -> serde_json::Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": principal},
        "Action": "s3:PutObject", "Resource": "arn:aws:s3:::*/*"}]})
}

fn key_policy_trusting(account: &str) -> serde_json::Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{account}:root")}, "Action": "kms:*", "Resource": "*"}]})
}

#[test]
fn a_role_with_star_inline_is_still_capped_by_the_boundary() {
    let me = role(CLUSTER, "lv-web-a-1234abcd-backend");
    let own_key =
        format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab");
    let other_key =
        format!("arn:aws:kms:us-east-1:{OTHER_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab");
    let put = |name, account: &str| {
        star_role(
            name,
            "s3:PutObject",
            "arn:aws:s3:::audit-bucket/sessions/a.jpg",
            account,
        )
        .with("s3:ResourceAccount", account)
        .resource_policy(bucket_policy_granting(&me))
    };
    let unbounded = |mut r: Request| {
        r.permission_boundary_policies = None;
        r.name = format!("control, no boundary: {}", r.name);
        r
    };
    let mut cases: Vec<(Request, Decision)> = LIVENESS_ACTIONS
        .iter()
        .map(|a| (star_role(a, a, "*", ACCOUNT), Allowed))
        .collect();
    cases.extend([
        (
            star_role(
                "iam:CreateUser",
                "iam:CreateUser",
                &format!("arn:aws:iam::{ACCOUNT}:user/x"),
                ACCOUNT,
            ),
            ImplicitlyDenied,
        ),
        (
            star_role(
                "rekognition:DetectFaces",
                "rekognition:DetectFaces",
                "*",
                ACCOUNT,
            ),
            ImplicitlyDenied,
        ),
        (
            star_role(
                "sts:AssumeRole",
                "sts:AssumeRole",
                &format!("arn:aws:iam::{ACCOUNT}:role/admin"),
                ACCOUNT,
            ),
            ImplicitlyDenied,
        ),
        (put("s3:PutObject in the account", ACCOUNT), Allowed),
        (
            put("s3:PutObject to another account's bucket", OTHER_ACCOUNT),
            ImplicitlyDenied,
        ),
        (
            unbounded(put(
                "s3:PutObject to another account's bucket",
                OTHER_ACCOUNT,
            )),
            Allowed,
        ),
        (
            star_role(
                "s3:GetObject",
                "s3:GetObject",
                "arn:aws:s3:::audit-bucket/sessions/a.jpg",
                ACCOUNT,
            )
            .with("s3:ResourceAccount", ACCOUNT),
            ImplicitlyDenied,
        ),
    ]);
    for action in ["kms:GenerateDataKey", "kms:Decrypt"] {
        let own = star_role(&format!("{action} own key"), action, &own_key, ACCOUNT)
            .resource_policy(key_policy_trusting(ACCOUNT));
        let other = star_role(
            &format!("{action} another account's key"),
            action,
            &other_key,
            OTHER_ACCOUNT,
        )
        .resource_policy(key_policy_trusting(ACCOUNT));
        cases.extend([
            (own, Allowed),
            (unbounded(other.clone()), Allowed),
            (other, ImplicitlyDenied),
        ]);
    }
    cases.push((
        star_role(
            "kms:ScheduleKeyDeletion",
            "kms:ScheduleKeyDeletion",
            &own_key,
            ACCOUNT,
        )
        .resource_policy(key_policy_trusting(ACCOUNT)),
        ImplicitlyDenied,
    ));
    check(cases);
}
