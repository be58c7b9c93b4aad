//! Runs the real `liveness-operator run` binary against the test ground, as a child
//! process, so tests can SIGKILL it, run two of them, and read its /metrics.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::testground::TestGround;

/// A running operator process; killed when dropped.
pub struct OperatorProcess {
    child: Child,
    /// Address of its /metrics, /healthz and /readyz.
    pub metrics_addr: String,
    /// Its leader-election identity.
    pub identity: String,
    /// File receiving its stdout and stderr.
    pub log_path: std::path::PathBuf,
}

/// A free loopback port (bound then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Settings every test operator shares: scoped to `namespace` (and its Lease there).
pub fn start(
    ground: &TestGround,
    namespace: &str,
    identity: &str,
    extra: &[&str],
) -> OperatorProcess {
    start_with_env(ground, namespace, identity, extra, &[])
}

/// Like [`start`], with environment variables set over the test ground's, e.g. a
/// `KUBECONFIG` holding a ServiceAccount token instead of the admin one.
pub fn start_with_env(
    ground: &TestGround,
    namespace: &str,
    identity: &str,
    extra: &[&str],
    env: &[(&str, &std::ffi::OsStr)],
) -> OperatorProcess {
    start_watching(ground, namespace, namespace, identity, extra, env)
}

/// Like [`start_with_env`], watching `watch_namespaces` (comma separated, as
/// `--watch-namespaces` takes them) instead of `namespace`, which keeps the Lease and
/// names the cluster.
pub fn start_watching(
    ground: &TestGround,
    namespace: &str,
    watch_namespaces: &str,
    identity: &str,
    extra: &[&str],
    env: &[(&str, &std::ffi::OsStr)],
) -> OperatorProcess {
    let metrics_addr = format!("127.0.0.1:{}", free_port());
    // The endpoint pods run the image built from this tree, unless the test names another.
    let image = format!("--endpoint-image={}", ground.endpoint_image());
    let image =
        (!extra.iter().any(|a| a.starts_with("--endpoint-image"))).then_some(image.as_str());
    let log_path = std::env::temp_dir().join(format!("{namespace}-{identity}.log"));
    let log = std::fs::File::create(&log_path).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_liveness-operator"))
        .arg("run")
        .args(["--watch-namespaces", watch_namespaces])
        .args(["--lease-namespace", namespace])
        .args(["--pod-name", identity])
        .args(["--metrics-addr", &metrics_addr])
        .args([
            "--oidc-provider",
            "oidc.eks.us-east-1.amazonaws.com/id/TESTGROUND",
        ])
        .args(["--cluster-name", namespace])
        .args(["--lease-duration", "6s"])
        .args(image)
        .args(extra)
        .envs(ground.env.iter().filter(|(k, _)| *k != "PATH"))
        .env(
            "RUST_LOG",
            std::env::var("TEST_OPERATOR_LOG").unwrap_or("info,liveness_operator=debug".into()),
        )
        .envs(env.iter().copied())
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .expect("start liveness-operator");
    OperatorProcess {
        child,
        metrics_addr,
        identity: identity.to_string(),
        log_path,
    }
}

impl OperatorProcess {
    /// Sends SIGKILL: no clean-up, no lease release.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Whether the process still runs.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The body of GET /metrics (empty when not reachable).
    pub async fn metrics(&self) -> String {
        let url = format!("http://{}/metrics", self.metrics_addr);
        match reqwest::get(url).await {
            Ok(response) => response.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// Its log so far, for assertion messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }
}

impl Drop for OperatorProcess {
    fn drop(&mut self) {
        // A failed test shows what its operator last did (set TEST_OPERATOR_LOG, e.g.
        // `debug,hyper=info`, for every API call).
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log_path).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            let tail = lines[lines.len().saturating_sub(40)..].join("\n");
            eprintln!(
                "--- last lines of operator {} ({}):\n{tail}",
                self.identity,
                self.log_path.display()
            );
        }
        self.kill();
    }
}

/// Polls `check` until it returns Some or `timeout` passes.
pub async fn eventually<T>(
    what: &str,
    timeout: Duration,
    mut check: impl AsyncFnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
