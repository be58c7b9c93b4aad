//! Unit tests of bootstrap's plan and report (the IAM side runs against ministack in
//! tests/bootstrap.rs).

use super::*;

const OIDC: &str = "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE";

fn flags<'a>(
    cluster: &'a str,
    oidc: &'a str,
    namespace: &'a str,
    sa: &'a str,
) -> BootstrapFlags<'a> {
    BootstrapFlags {
        cluster,
        oidc_provider: oidc,
        namespace,
        service_account: sa,
    }
}

fn account() -> AwsAccount {
    AwsAccount::parse("111122223333", "aws").unwrap()
}

#[test]
fn every_bad_flag_is_refused_by_its_name() {
    let problems = flags("Prod_1", "https://not a provider/", "Web", "-sa")
        .parse()
        .unwrap_err();
    let named: Vec<_> = problems.iter().map(|p| p.flag).collect();
    assert_eq!(
        named,
        [
            "--cluster",
            "--oidc-provider",
            "--namespace",
            "--service-account"
        ]
    );
    assert!(problems[1].message.contains("not an IAM OIDC provider"));
}

#[test]
fn the_role_trusts_the_service_account_through_the_oidc_provider() {
    let plan = flags("prod", &format!("https://{OIDC}/"), "ops", "op.sa")
        .parse()
        .unwrap()
        .plan(account());
    assert_eq!(
        plan.role_arn,
        "arn:aws:iam::111122223333:role/liveness-operator/liveness-operator-prod"
    );
    let trust = serde_json::to_value(plan.trust.document()).unwrap();
    let statement = &trust["Statement"][0];
    assert_eq!(
        statement["Principal"]["Federated"][0],
        format!("arn:aws:iam::111122223333:oidc-provider/{OIDC}")
    );
    let equals = &statement["Condition"]["StringEquals"];
    assert_eq!(
        equals[format!("{OIDC}:sub")][0],
        "system:serviceaccount:ops:op.sa"
    );
    assert_eq!(equals[format!("{OIDC}:aud")][0], "sts.amazonaws.com");
    assert_eq!(
        plan.operator_policy,
        operator_policy("aws", "111122223333", "prod")
    );
    assert_eq!(
        plan.boundary_arn,
        "arn:aws:iam::111122223333:policy/liveness-operator/prod/liveness-boundary"
    );
}

#[test]
fn the_operator_role_is_outside_every_cluster_path() {
    for cluster in ["prod", "liveness-operator-prod", &"c".repeat(63)] {
        let arn = operator_role_arn("aws", "111122223333", cluster);
        let name = operator_role_name(cluster);
        assert!(name.len() <= IAM_ROLE_NAME_MAX, "{name}");
        assert_eq!(
            arn,
            format!("arn:aws:iam::111122223333:role/liveness-operator/{name}")
        );
        // The operator's roles are `role/liveness-operator/<cluster>/*`: a name with no
        // further `/` is never one of them.
        assert!(!name.contains('/'));
    }
    assert_ne!(
        operator_role_name(&format!("{}a", "c".repeat(62))),
        operator_role_name(&format!("{}b", "c".repeat(62))),
        "long names stay distinct"
    );
}

#[test]
fn the_helm_line_sets_the_charts_values() {
    let plan = flags("prod", OIDC, "liveness-system", "liveness-operator")
        .parse()
        .unwrap()
        .plan(account());
    let line = plan.helm_install();
    for part in [
        "-n liveness-system --create-namespace",
        "--set aws.roleArn=arn:aws:iam::111122223333:role/liveness-operator/liveness-operator-prod",
        &format!("--set aws.oidcProvider={OIDC}"),
        "--set clusterName=prod",
    ] {
        assert!(line.contains(part), "{line}");
    }
    assert!(
        !line.contains("serviceAccount.name"),
        "default SA needs no value"
    );
    let other = flags("prod", OIDC, "ops", "op")
        .parse()
        .unwrap()
        .plan(account());
    assert!(
        other
            .helm_install()
            .contains("--set serviceAccount.name=op")
    );
}

#[test]
fn a_dry_run_report_shows_every_document_and_says_nothing_changed() {
    let plan = flags("prod", OIDC, "liveness-system", "liveness-operator")
        .parse()
        .unwrap()
        .plan(account());
    let outcome = Outcome {
        changes: vec![
            Change::BoundaryCreated,
            Change::RoleCreated,
            Change::PolicyPut,
        ],
        warnings: vec![],
        dry_run: true,
        plan: plan.clone(),
    };
    let text = outcome.report();
    assert!(text.contains("dry run: nothing is changed"), "{text}");
    assert!(text.contains("would: create the boundary policy liveness-boundary"));
    for doc in [&plan.boundary, plan.trust.document(), &plan.operator_policy] {
        assert!(text.contains(&doc.to_pretty_json()), "{text}");
    }
    let applied = Outcome {
        dry_run: false,
        changes: vec![],
        ..outcome
    };
    let text = applied.report();
    assert!(text.contains("In sync"), "{text}");
    assert!(!text.contains(&plan.boundary.to_pretty_json()));
}
