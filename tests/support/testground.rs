//! Brings the test ground up (once per machine; `scripts/testground.sh up` is idempotent and
//! serialised by a lock) and exposes its endpoints to tests. Tests that need it call
//! [`ensure`] and get the environment it wrote; nothing here talks to anything off loopback.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// What `scripts/testground.sh up` wrote to its env file.
#[derive(Debug, Clone)]
pub struct TestGround {
    /// Variables of the env file (KUBECONFIG, AWS_ENDPOINT_URL, PATH additions, …).
    pub env: HashMap<String, String>,
}

impl TestGround {
    /// Path of the kubeconfig for the test apiserver (admin token).
    pub fn kubeconfig(&self) -> PathBuf {
        PathBuf::from(&self.env["KUBECONFIG"])
    }
    /// URL of ministack.
    pub fn aws_endpoint(&self) -> String {
        self.env["TESTGROUND_AWS_ENDPOINT"].clone()
    }
    /// Directory holding kubectl, kube-apiserver and kube-controller-manager.
    pub fn kube_bin_dir(&self) -> PathBuf {
        let path = &self.env["PATH"];
        PathBuf::from(
            path.split(':')
                .next()
                .expect("PATH has the kube bin dir first"),
        )
    }
    /// The node's name (`kubectl get nodes`): pods run there, from their probes.
    pub fn node(&self) -> String {
        self.env
            .get("TESTGROUND_NODE")
            .cloned()
            .expect("the test ground runs a node (scripts/testground.sh up)")
    }
    /// The address pods reach the host at (the CNI bridge's gateway): a process a pod
    /// must call (the Rekognition stub) listens there.
    pub fn pod_gateway(&self) -> String {
        self.env["TESTGROUND_POD_GATEWAY"].clone()
    }
    /// The endpoint image loaded into the node's containerd: `TESTGROUND_ENDPOINT_IMAGE`
    /// (scripts/test.sh builds it once per run), else built here once per test process with
    /// `scripts/image.sh --runtime-only` (locked, and seconds when nothing changed).
    pub fn endpoint_image(&self) -> &'static str {
        static IMAGE: OnceLock<String> = OnceLock::new();
        IMAGE.get_or_init(|| {
            if let Ok(image) = std::env::var("TESTGROUND_ENDPOINT_IMAGE")
                && !image.is_empty()
            {
                return image;
            }
            let out = Command::new("bash")
                .arg(repo_root().join("scripts/image.sh"))
                .arg("--runtime-only")
                .stderr(std::process::Stdio::inherit())
                .output()
                .expect("run scripts/image.sh --runtime-only");
            let stdout = succeeded(out, "scripts/image.sh --runtime-only");
            stdout
                .lines()
                .last()
                .expect("image.sh prints the image reference last")
                .trim()
                .to_string()
        })
    }
    /// A kubectl command bound to the test apiserver.
    pub fn kubectl(&self) -> Command {
        let mut cmd = Command::new(self.kube_bin_dir().join("kubectl"));
        cmd.env("KUBECONFIG", self.kubeconfig());
        cmd
    }
    /// Runs kubectl with `args` and `input` on its standard input.
    pub fn kubectl_with_input(&self, args: &[&str], input: &str) -> std::process::Output {
        use std::io::Write;
        use std::process::Stdio;
        let mut child = self
            .kubectl()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run kubectl");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    /// A kube client for the test apiserver.
    pub async fn kube_client(&self) -> kube::Client {
        let kubeconfig =
            kube::config::Kubeconfig::read_from(self.kubeconfig()).expect("kubeconfig");
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
            .await
            .expect("kube config");
        kube::Client::try_from(config).expect("kube client")
    }
    /// An AWS SDK config pointed at ministack with its fixed test credentials.
    pub async fn aws_config(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(self.aws_endpoint())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_iam::config::Credentials::new(
                "test",
                "test",
                None,
                None,
                "testground",
            ))
            .load()
            .await
    }
}

/// The stdout of a command that had to succeed; its output is in the panic otherwise.
pub fn succeeded(out: std::process::Output, what: &str) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{what} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The repository root.
pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Brings the test ground up if needed and returns its environment.
pub fn ensure() -> &'static TestGround {
    static GROUND: OnceLock<TestGround> = OnceLock::new();
    GROUND.get_or_init(|| {
        let script = repo_root().join("scripts/testground.sh");
        let status = Command::new("bash")
            .arg(&script)
            .arg("up")
            .status()
            .expect("run scripts/testground.sh up");
        assert!(status.success(), "scripts/testground.sh up failed");
        let out = Command::new("bash")
            .arg(&script)
            .arg("env")
            .output()
            .unwrap();
        let env_file = String::from_utf8(out.stdout).unwrap();
        TestGround {
            env: parse_env_file(Path::new(env_file.trim())),
        }
    })
}

fn parse_env_file(path: &Path) -> HashMap<String, String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter_map(|line| line.strip_prefix("export "))
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| {
            (
                k.to_string(),
                v.replace("$PATH", "").trim_end_matches(':').to_string(),
            )
        })
        .collect()
}

/// A name unique to this test run, for namespaces and AWS objects (lowercase, DNS-safe).
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{prefix}-{:x}{:x}-{}",
        std::process::id(),
        nanos % 0xffff,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}
