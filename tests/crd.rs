//! The CRD users install is the one the code generates, and the test ground's real
//! apiserver accepts it, the examples, and shows the printer columns.

mod support;

use support::testground::succeeded;

use liveness_operator::crd::crd_yaml;

const CRD_FILE: &str = "crds/faceliveness.dev_livenessapps.yaml";

#[test]
fn committed_crd_is_exactly_the_generated_one() {
    let committed =
        std::fs::read_to_string(support::testground::repo_root().join(CRD_FILE)).unwrap();
    assert!(
        committed == crd_yaml(),
        "{CRD_FILE} differs from the generated CRD: run `cargo run --bin liveness-operator -- crd > {CRD_FILE}`"
    );
}

#[test]
fn apiserver_accepts_the_crd_and_every_example_and_shows_printer_columns() {
    let ground = support::testground::ensure();
    support::kube::install_crd(ground);
    let root = support::testground::repo_root();

    let dry_run = succeeded(
        ground
            .kubectl()
            .args(["apply", "--dry-run=server", "-f"])
            .arg(root.join("examples"))
            .output()
            .unwrap(),
        "kubectl apply --dry-run=server -f examples/",
    );
    for name in ["onboarding", "signup", "kyc", "audited"] {
        assert!(
            dry_run.contains(&format!(
                "livenessapp.faceliveness.dev/{name} created (server dry run)"
            )),
            "{name} not accepted: {dry_run}"
        );
    }

    let ns = support::testground::unique("crd");
    succeeded(
        ground
            .kubectl()
            .args(["create", "namespace", &ns])
            .output()
            .unwrap(),
        "create ns",
    );
    let example = std::fs::read_to_string(root.join("examples/basic.yaml")).unwrap();
    let example = example.replace("namespace: default", &format!("namespace: {ns}"));
    succeeded(
        ground.kubectl_with_input(&["apply", "-f", "-"], &example),
        "apply basic example",
    );

    let table = succeeded(
        ground
            .kubectl()
            .args(["get", "livenessapps", "-n", &ns])
            .output()
            .unwrap(),
        "kubectl get livenessapps",
    );
    let header: Vec<&str> = table
        .lines()
        .next()
        .unwrap()
        .split("  ")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    assert_eq!(
        header,
        [
            "NAME",
            "READY",
            "REGION",
            "IDENTITY POOL",
            "ENDPOINT",
            "AGE"
        ],
        "{table}"
    );
    assert!(
        table.contains("onboarding") && table.contains("us-east-1"),
        "{table}"
    );
    let short = succeeded(
        ground
            .kubectl()
            .args(["get", "lva", "-n", &ns, "-o", "name"])
            .output()
            .unwrap(),
        "short name",
    );
    assert_eq!(short.trim(), "livenessapp.faceliveness.dev/onboarding");

    succeeded(
        ground
            .kubectl()
            .args(["delete", "namespace", &ns, "--wait=false"])
            .output()
            .unwrap(),
        "delete ns",
    );
}

#[test]
fn apiserver_rejects_out_of_range_fields_by_schema() {
    let ground = support::testground::ensure();
    support::kube::install_crd(ground);
    let bad = r#"{"apiVersion":"faceliveness.dev/v1alpha1","kind":"LivenessApp","metadata":{"name":"bad","namespace":"default"},"spec":{"region":"us-east-1","endpoint":{"auditImagesLimit":9,"confidenceThreshold":150}}}"#;
    let out = ground.kubectl_with_input(
        &["apply", "--dry-run=server", "--validate=false", "-f", "-"],
        bad,
    );
    assert!(!out.status.success(), "an out-of-range spec was accepted");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("spec.endpoint.auditImagesLimit"),
        "{stderr}"
    );
    assert!(
        stderr.contains("spec.endpoint.confidenceThreshold"),
        "{stderr}"
    );
}
