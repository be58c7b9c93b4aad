//! `liveness-operator plan` as a reviewer runs it in a GitOps pull request: offline, on
//! the shipped examples, and refusing an invalid app with the field to fix; and the two
//! policies of an install (`--operator-policy`, `--boundary-policy`), refusing bad flags.

use std::process::{Command, Output};

use liveness_operator::plan::boundary::boundary_policy;
use liveness_operator::plan::operator::operator_policy;

fn plan(args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_liveness-operator"))
        .arg("plan")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run liveness-operator");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    child.wait_with_output().unwrap()
}

#[test]
fn every_example_plans_to_aws_objects_and_its_kubernetes_objects() {
    for example in ["basic", "guests", "adopt-existing-pool", "audit-images-s3"] {
        let out = plan(
            &[
                "-f",
                &format!("examples/{example}.yaml"),
                "--account-id",
                "111122223333",
            ],
            None,
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{example}: {stderr}");
        let text = String::from_utf8(out.stdout).unwrap();
        let docs: Vec<serde_yaml::Value> = serde_yaml::Deserializer::from_str(&text)
            .map(|d| serde::Deserialize::deserialize(d).unwrap())
            .collect();
        let kinds: Vec<_> = docs[1..]
            .iter()
            .map(|d| d["kind"].as_str().unwrap_or("?").to_string())
            .collect();
        assert_eq!(
            kinds,
            [
                "Secret",
                "ServiceAccount",
                "ConfigMap",
                "Deployment",
                "Service"
            ],
            "{example}"
        );
        // The key Secret is planned without its material, which is made when applied.
        assert!(
            docs[1].get("data").is_none(),
            "{example}: key material printed"
        );
        assert!(
            !text.contains("PRIVATE KEY"),
            "{example}: a key in the plan"
        );
        let roles = docs[0]["roles"].as_sequence().unwrap();
        for role in roles {
            let arn = role["arn"].as_str().unwrap();
            assert!(
                arn.starts_with("arn:aws:iam::111122223333:role/liveness-operator/default/lv-"),
                "{arn}"
            );
            let trust: serde_json::Value =
                serde_json::from_str(role["trustPolicy"].as_str().unwrap()).expect("JSON");
            assert_eq!(
                trust["Statement"][0]["Action"][0],
                "sts:AssumeRoleWithWebIdentity"
            );
            let inline: serde_json::Value =
                serde_json::from_str(role["inlinePolicies"]["liveness"].as_str().unwrap())
                    .expect("JSON");
            assert_eq!(inline["Version"], "2012-10-17");
        }
        let adopted = example == "adopt-existing-pool";
        assert_eq!(
            docs[0]["identityPool"]["action"].as_str(),
            Some(if adopted { "adopt" } else { "create" }),
            "{example}"
        );
    }
}

#[test]
fn an_invalid_app_fails_the_plan_naming_the_field() {
    let app = "apiVersion: faceliveness.dev/v1alpha1\nkind: LivenessApp\nmetadata: {name: x, namespace: y}\nspec: {region: us-east-1, identityPool: {allowUnauthenticated: true}, endpoint: {auth: {mode: none}, allowedOrigins: ['*']}}\n";
    let out = plan(&["-f", "-"], Some(app));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("spec.endpoint.allowedOrigins[0]"),
        "{stderr}"
    );
}

#[test]
fn operator_policy_is_json_for_the_given_account_and_cluster() {
    let out = plan(
        &[
            "--operator-policy",
            "--account-id",
            "111122223333",
            "--cluster",
            "prod",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let policy: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        policy,
        serde_json::to_value(operator_policy("aws", "111122223333", "prod")).unwrap()
    );
    let text = policy.to_string();
    assert!(text.contains("arn:aws:iam::111122223333:role/liveness-operator/prod/*"));
    assert!(
        text.contains("arn:aws:iam::111122223333:policy/liveness-operator/prod/liveness-boundary")
    );
    assert!(text.contains("iam:PassedToService"));
}

#[test]
fn boundary_policy_is_json_for_the_given_account_and_partition() {
    let out = plan(
        &[
            "--boundary-policy",
            "--cluster",
            "prod",
            "--account-id",
            "111122223333",
            "--partition",
            "aws-cn",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let policy: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        policy,
        serde_json::to_value(boundary_policy("aws-cn", "111122223333")).unwrap()
    );
    assert_eq!(
        policy["Statement"][1]["Condition"]["StringEquals"]["s3:ResourceAccount"][0],
        "111122223333"
    );
}

#[test]
fn policy_flags_are_checked_and_named() {
    for (args, flag) in [
        (
            &["--boundary-policy", "--account-id", "1234"][..],
            "--account-id",
        ),
        (
            &[
                "--operator-policy",
                "--account-id",
                "111122223333",
                "--partition",
                "azure",
            ][..],
            "--partition",
        ),
        (
            &["--operator-policy", "--cluster", "Prod_1"][..],
            "--cluster",
        ),
    ] {
        let out = plan(args, None);
        assert!(!out.status.success(), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?} printed a policy");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(flag), "{args:?}: {stderr}");
    }
    let both = plan(&["--operator-policy", "--boundary-policy"], None);
    assert!(!both.status.success(), "the two policies are one at a time");
}
