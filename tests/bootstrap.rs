//! `liveness-operator bootstrap` against the test ground's IAM (ministack): the boundary
//! policy and the operator's role are made once, a second run changes nothing, a dry run
//! writes nothing, hand edits are put back, and bad flags are refused by name.

mod support;

use std::process::Command;

use aws_sdk_iam::Client;
use liveness_operator::bootstrap::{
    Bootstrap, BootstrapFlags, Change, OPERATOR_POLICY_NAME, Outcome, run,
};
use liveness_operator::plan::policy::{PolicyDocument, Statement, parse_aws_document};
use support::testground::{self, TestGround};

const OIDC: &str = "oidc.eks.us-east-1.amazonaws.com/id/TESTGROUND";

fn settings(cluster: &str) -> Bootstrap {
    BootstrapFlags {
        cluster,
        oidc_provider: OIDC,
        namespace: "liveness-system",
        service_account: "liveness-operator",
    }
    .parse()
    .unwrap()
}

struct Ground {
    ground: &'static TestGround,
    config: aws_config::SdkConfig,
    iam: Client,
}

async fn ground() -> Ground {
    let ground = testground::ensure();
    let config = ground.aws_config().await;
    let iam = Client::new(&config);
    Ground {
        ground,
        config,
        iam,
    }
}

impl Ground {
    async fn bootstrap(&self, settings: &Bootstrap, dry_run: bool) -> Outcome {
        run(settings, &self.config, dry_run)
            .await
            .unwrap_or_else(|e| panic!("bootstrap: {e}"))
    }

    async fn role_exists(&self, name: &str) -> bool {
        match self.iam.get_role().role_name(name).send().await {
            Ok(_) => true,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_no_such_entity_exception()) =>
            {
                false
            }
            Err(e) => panic!("GetRole: {e:?}"),
        }
    }

    async fn policy_exists(&self, arn: &str) -> bool {
        match self.iam.get_policy().policy_arn(arn).send().await {
            Ok(_) => true,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_no_such_entity_exception()) =>
            {
                false
            }
            Err(e) => panic!("GetPolicy: {e:?}"),
        }
    }

    /// The boundary's default document, as IAM returns it.
    async fn boundary_text(&self, arn: &str) -> String {
        let policy = self.iam.get_policy().policy_arn(arn).send().await.unwrap();
        let version = policy
            .policy()
            .unwrap()
            .default_version_id()
            .unwrap()
            .to_string();
        let out = self
            .iam
            .get_policy_version()
            .policy_arn(arn)
            .version_id(version)
            .send()
            .await
            .unwrap();
        out.policy_version()
            .unwrap()
            .document()
            .unwrap()
            .to_string()
    }

    async fn tidy(&self, outcome: &Outcome) {
        let plan = &outcome.plan;
        let names = self
            .iam
            .list_role_policies()
            .role_name(&plan.role_name)
            .send()
            .await
            .map(|o| o.policy_names().to_vec())
            .unwrap_or_default();
        for name in names {
            let _ = self
                .iam
                .delete_role_policy()
                .role_name(&plan.role_name)
                .policy_name(name)
                .send()
                .await;
        }
        let _ = self
            .iam
            .delete_role()
            .role_name(&plan.role_name)
            .send()
            .await;
        let _ = self
            .iam
            .delete_policy()
            .policy_arn(&plan.boundary_arn)
            .send()
            .await;
    }
}

/// What AWS holds is the plan: the boundary document, the role on the operator's path with
/// the IRSA trust, and the operator policy inline.
async fn assert_holds(g: &Ground, outcome: &Outcome) {
    let plan = &outcome.plan;
    assert!(
        plan.boundary
            .same_as_aws(&g.boundary_text(&plan.boundary_arn).await)
    );
    let role = g
        .iam
        .get_role()
        .role_name(&plan.role_name)
        .send()
        .await
        .unwrap();
    let role = role.role().unwrap();
    assert_eq!(role.arn(), plan.role_arn);
    assert_eq!(role.path(), "/liveness-operator/");
    let trust = role.assume_role_policy_document().unwrap();
    assert!(
        plan.trust.document().same_as_aws(trust),
        "trust: {:?}",
        parse_aws_document(trust)
    );
    let inline = g
        .iam
        .get_role_policy()
        .role_name(&plan.role_name)
        .policy_name(OPERATOR_POLICY_NAME)
        .send()
        .await
        .unwrap();
    assert!(plan.operator_policy.same_as_aws(inline.policy_document()));
}

#[tokio::test]
async fn bootstrap_creates_the_boundary_and_the_role_and_a_second_run_changes_nothing() {
    let g = ground().await;
    let cluster = testground::unique("bs");
    let first = g.bootstrap(&settings(&cluster), false).await;
    assert_eq!(
        first.changes,
        [
            Change::BoundaryCreated,
            Change::RoleCreated,
            Change::PolicyPut
        ]
    );
    assert_holds(&g, &first).await;
    let second = g.bootstrap(&settings(&cluster), false).await;
    assert_eq!(second.changes, [], "the second run changed something");
    assert!(second.warnings.is_empty(), "{:?}", second.warnings);
    assert!(second.report().contains("In sync"));
    assert!(
        second
            .report()
            .contains(&format!("--set aws.roleArn={}", first.plan.role_arn))
    );
    g.tidy(&first).await;
}

#[tokio::test]
async fn a_dry_run_reports_what_it_would_do_and_writes_nothing() {
    let g = ground().await;
    let cluster = testground::unique("bs");
    let dry = g.bootstrap(&settings(&cluster), true).await;
    assert_eq!(
        dry.changes,
        [
            Change::BoundaryCreated,
            Change::RoleCreated,
            Change::PolicyPut
        ]
    );
    assert!(
        !g.role_exists(&dry.plan.role_name).await,
        "dry run made the role"
    );
    assert!(
        !g.policy_exists(&dry.plan.boundary_arn).await,
        "dry run made the boundary"
    );
    let text = dry.report();
    assert!(text.contains(&dry.plan.operator_policy.to_pretty_json()));
    assert!(text.contains(&dry.plan.boundary.to_pretty_json()));

    // On an existing install with hand edits, a dry run names the fixes and makes none.
    let made = g.bootstrap(&settings(&cluster), false).await;
    let name = &made.plan.role_name;
    let wide = PolicyDocument::new(vec![Statement::allow("All", &["*"], vec!["*".into()])]);
    g.iam
        .put_role_policy()
        .role_name(name)
        .policy_name(OPERATOR_POLICY_NAME)
        .policy_document(wide.to_json())
        .send()
        .await
        .unwrap();
    let dry = g.bootstrap(&settings(&cluster), true).await;
    assert_eq!(dry.changes, [Change::PolicyPut]);
    let inline = g
        .iam
        .get_role_policy()
        .role_name(name)
        .policy_name(OPERATOR_POLICY_NAME)
        .send()
        .await
        .unwrap();
    assert!(wide.same_as_aws(inline.policy_document()), "dry run wrote");
    g.tidy(&made).await;
}

#[tokio::test]
async fn hand_edits_are_put_back_and_a_changed_boundary_gets_a_new_default_version() {
    let g = ground().await;
    let cluster = testground::unique("bs");
    let made = g.bootstrap(&settings(&cluster), false).await;
    let (name, arn) = (&made.plan.role_name, &made.plan.boundary_arn);
    // An older boundary as default, four versions in all, plus a fifth: IAM's limit.
    let older = PolicyDocument::new(vec![Statement::allow(
        "Old",
        &["rekognition:CreateFaceLivenessSession"],
        vec!["*".into()],
    )]);
    for default in [false, false, false, true] {
        g.iam
            .create_policy_version()
            .policy_arn(arn)
            .policy_document(older.to_json())
            .set_as_default(default)
            .send()
            .await
            .unwrap();
    }
    // The trust edited to let another ServiceAccount assume the operator's role.
    let loose = BootstrapFlags {
        cluster: &cluster,
        oidc_provider: OIDC,
        namespace: "default",
        service_account: "intruder",
    }
    .parse()
    .unwrap()
    .plan(made.plan.account.clone())
    .trust;
    g.iam
        .update_assume_role_policy()
        .role_name(name)
        .policy_document(loose.document().to_json())
        .send()
        .await
        .unwrap();
    g.iam
        .put_role_policy()
        .role_name(name)
        .policy_name("extra")
        .policy_document(older.to_json())
        .send()
        .await
        .unwrap();

    let fixed = g.bootstrap(&settings(&cluster), false).await;
    assert_eq!(
        fixed.changes,
        [
            Change::BoundaryUpdated {
                deleted: Some("v1".into())
            },
            Change::TrustUpdated,
        ]
    );
    assert!(
        fixed
            .warnings
            .iter()
            .any(|w| w.contains("inline policy extra")),
        "{:?}",
        fixed.warnings
    );
    assert_holds(&g, &fixed).await;
    let again = g.bootstrap(&settings(&cluster), false).await;
    assert_eq!(again.changes, []);
    g.tidy(&made).await;
}

#[tokio::test]
async fn the_cli_prints_the_helm_line_and_refuses_bad_flags_by_name() {
    let g = ground().await;
    let cluster = testground::unique("bs");
    let cli = |args: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_liveness-operator"));
        cmd.arg("bootstrap").args(args).env_remove("RUST_BACKTRACE");
        for key in [
            "AWS_ENDPOINT_URL",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_REGION",
        ] {
            cmd.env(key, &g.ground.env[key]);
        }
        cmd.output().unwrap()
    };
    let out = cli(&["--cluster", &cluster, "--oidc-provider", OIDC, "--dry-run"]);
    let stdout = testground::succeeded(out, "bootstrap --dry-run");
    assert!(stdout.contains("dry run: nothing is changed"), "{stdout}");
    assert!(stdout.contains("helm install liveness-operator charts/liveness-operator"));
    assert!(stdout.contains(&format!("--set clusterName={cluster}")));
    assert!(stdout.contains(&format!("--set aws.oidcProvider={OIDC}")));
    let plan = settings(&cluster).plan(liveness_operator::env::AwsAccount {
        account_id: "000000000000".into(),
        partition: "aws".into(),
    });
    assert!(!g.role_exists(&plan.role_name).await);

    for (args, flag) in [
        (
            [
                "--cluster",
                &cluster,
                "--oidc-provider",
                "https://not a provider/",
            ],
            "--oidc-provider",
        ),
        (
            ["--cluster", "Not_A_Cluster", "--oidc-provider", OIDC],
            "--cluster",
        ),
    ] {
        let out = cli(&args);
        assert!(!out.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(flag), "{args:?}: {stderr}");
    }
}
