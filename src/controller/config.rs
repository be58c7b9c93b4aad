//! Operator configuration: every flag has an environment variable, so the Helm chart can
//! set them either way. `liveness-operator run --help` is the reference.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;

pub use crate::logging::LogFormat;

/// Flags of `liveness-operator run`.
#[derive(Args, Clone, Debug)]
pub struct OperatorConfig {
    /// Region of the operator's own account-level AWS clients (STS, IAM). Identity pools
    /// are always created in each LivenessApp's spec.region.
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
    pub default_region: String,

    /// The cluster's IAM OIDC provider for IRSA, without scheme, e.g.
    /// `oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E`. The backend
    /// role trusts only the endpoint's ServiceAccount through it.
    #[arg(long, env = "LIVENESS_OIDC_PROVIDER")]
    pub oidc_provider: String,

    /// Name of this cluster, part of every AWS name and tag, so several clusters can share
    /// an AWS account without touching each other's objects.
    #[arg(long, env = "LIVENESS_CLUSTER_NAME", default_value = "default")]
    pub cluster_name: String,

    /// Container image of the endpoint (`liveness-api`).
    #[arg(long, env = "LIVENESS_ENDPOINT_IMAGE", default_value = crate::plan::kube::DEFAULT_API_IMAGE)]
    pub endpoint_image: String,

    /// How often an in-sync LivenessApp is checked again for drift made in AWS by hand.
    #[arg(long, env = "LIVENESS_RESYNC_PERIOD", default_value = "10m", value_parser = humantime::parse_duration)]
    pub resync_period: Duration,

    /// Most LivenessApps reconciled at once.
    #[arg(long, env = "LIVENESS_CONCURRENCY", default_value_t = 4)]
    pub concurrency: u16,

    /// Most requests a second the operator sends to each AWS service (IAM, Cognito
    /// Identity, the tagging API, STS), retries included, shared by all reconciles; the
    /// rate drops while AWS throttles and climbs back as calls succeed.
    #[arg(long, env = "LIVENESS_AWS_REQUESTS_PER_SECOND", default_value_t = crate::aws::budget::DEFAULT_REQUESTS_PER_SECOND, value_parser = clap::value_parser!(u32).range(1..))]
    pub aws_requests_per_second: u32,

    /// Namespaces to watch (comma separated); empty watches all namespaces.
    #[arg(long, env = "LIVENESS_WATCH_NAMESPACES", value_delimiter = ',')]
    pub watch_namespaces: Vec<String>,

    /// Regions to accept in addition to the Face Liveness regions this release knows.
    #[arg(long, env = "LIVENESS_EXTRA_LIVENESS_REGIONS", value_delimiter = ',')]
    pub extra_liveness_regions: Vec<String>,

    /// Identity pools LivenessApps may adopt without the pool's
    /// `faceliveness.dev/adoptable-by` tag, comma separated, each `[<namespace>/]<pool-id>`
    /// (without a namespace: apps of every namespace). A pool made by the operator for
    /// another app is never adopted, whatever this says.
    #[arg(long, env = "LIVENESS_ADOPTABLE_POOLS", value_delimiter = ',')]
    pub adoptable_pools: Vec<String>,

    /// Buckets LivenessApps may send session images to, comma separated patterns: `*`
    /// matches any characters, `{namespace}` is the app's namespace (e.g.
    /// `liveness-{namespace}-*`). Empty: any bucket of the operator's account.
    #[arg(long, env = "LIVENESS_ALLOWED_OUTPUT_BUCKETS", value_delimiter = ',')]
    pub allowed_output_buckets: Vec<String>,

    /// The cluster's ingress controllers (CIDRs or addresses, comma separated): every
    /// endpoint takes the client IP from their `X-Forwarded-For` (rightmost hop outside
    /// them), so per-IP limits of `auth: none` apps count clients, not the proxy. Empty:
    /// the peer is the client.
    #[arg(long, env = "LIVENESS_ENDPOINT_TRUSTED_PROXIES", value_delimiter = ',')]
    pub endpoint_trusted_proxies: Vec<String>,

    /// An environment variable for every endpoint container, `NAME=VALUE` (repeat the
    /// flag): an egress proxy (`HTTPS_PROXY`, `NO_PROXY`), `AWS_USE_FIPS_ENDPOINT`, … Not
    /// for secrets (pod specs are readable), and not the endpoint's `LIVENESS_*` settings.
    #[arg(long = "endpoint-env")]
    pub endpoint_env: Vec<String>,

    /// Elect a leader on a Lease so only one replica reconciles.
    #[arg(long, env = "LIVENESS_LEADER_ELECTION", default_value_t = true, action = clap::ArgAction::Set)]
    pub leader_election: bool,

    /// Namespace of the leader-election Lease (the operator's own namespace).
    #[arg(long, env = "POD_NAMESPACE", default_value = "default")]
    pub lease_namespace: String,

    /// Name of the leader-election Lease.
    #[arg(
        long,
        env = "LIVENESS_LEASE_NAME",
        default_value = "liveness-operator-leader"
    )]
    pub lease_name: String,

    /// How long a leader's lease lasts without renewal (standby takeover time).
    #[arg(long, env = "LIVENESS_LEASE_DURATION", default_value = "15s", value_parser = humantime::parse_duration)]
    pub lease_duration: Duration,

    /// This replica's identity in the Lease (defaults to the pod name, else host:pid).
    #[arg(long, env = "POD_NAME")]
    pub pod_name: Option<String>,

    /// Address of /metrics, /healthz and /readyz.
    #[arg(long, env = "LIVENESS_METRICS_ADDR", default_value = "0.0.0.0:8081")]
    pub metrics_addr: SocketAddr,

    /// Log format.
    #[arg(long, env = "LIVENESS_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
}

impl OperatorConfig {
    /// The settings every plan depends on, to be parsed into an [`crate::env::OperatorEnv`].
    pub fn env_flags(&self) -> crate::env::EnvFlags<'_> {
        crate::env::EnvFlags {
            cluster: &self.cluster_name,
            oidc_provider: &self.oidc_provider,
            endpoint_image: &self.endpoint_image,
            extra_regions: &self.extra_liveness_regions,
            adoptable_pools: &self.adoptable_pools,
            allowed_output_buckets: &self.allowed_output_buckets,
            endpoint_trusted_proxies: &self.endpoint_trusted_proxies,
            endpoint_env: &self.endpoint_env,
        }
    }

    /// This replica's identity for leader election.
    pub fn holder_identity(&self) -> String {
        self.pod_name.clone().unwrap_or_else(|| {
            let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "operator".into());
            format!("{host}-{}", std::process::id())
        })
    }
}
