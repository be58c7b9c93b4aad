//! `liveness-operator`: the controller and its tools. Parses flags and wires; the logic
//! lives in the library.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use liveness_operator::plan::{kube::DEFAULT_API_IMAGE, render};
use liveness_operator::{bootstrap, memory};

#[derive(Parser)]
#[command(
    version,
    about = "Kubernetes operator for Amazon Rekognition Face Liveness"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the controller (reconciles LivenessApps until SIGTERM).
    Run(Box<liveness_operator::controller::OperatorConfig>),
    /// Print the LivenessApp CustomResourceDefinition (YAML) to stdout.
    Crd,
    /// Print, offline, the AWS and Kubernetes objects a LivenessApp will get (for review),
    /// or with --operator-policy the IAM policy the operator itself needs, or with
    /// --boundary-policy the permissions boundary of the cluster's roles.
    Plan(PlanArgs),
    /// Create (idempotently) the cluster's permissions boundary and the operator's IRSA
    /// role, with your AWS credentials, then print the `helm install` line.
    Bootstrap(BootstrapArgs),
}

#[derive(Args)]
struct BootstrapArgs {
    /// Cluster name the operator will run with (the chart's clusterName).
    #[arg(long)]
    cluster: String,
    /// The cluster's IAM OIDC provider, e.g. oidc.eks.us-east-1.amazonaws.com/id/<id>.
    #[arg(long)]
    oidc_provider: String,
    /// Namespace the chart is installed in.
    #[arg(long, default_value = bootstrap::DEFAULT_NAMESPACE)]
    namespace: String,
    /// The operator's ServiceAccount (the chart's, for release liveness-operator).
    #[arg(long, default_value = bootstrap::DEFAULT_SERVICE_ACCOUNT)]
    service_account: String,
    /// Region of the STS call (IAM is global).
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
    region: String,
    /// Read and print what would be created or changed (policy JSON included); write nothing.
    #[arg(long)]
    dry_run: bool,
}

#[derive(Args)]
struct PlanArgs {
    /// LivenessApp manifest to plan (`-` reads stdin).
    #[arg(
        short = 'f',
        long = "file",
        required_unless_present_any = ["operator_policy", "boundary_policy"]
    )]
    file: Option<PathBuf>,
    /// Print the operator's own minimal IAM policy for --cluster (JSON) instead.
    #[arg(long, conflicts_with_all = ["file", "boundary_policy"])]
    operator_policy: bool,
    /// Print the permissions boundary every role of the operator carries (JSON) instead:
    /// the managed policy `liveness-boundary` under /liveness-operator/<cluster>/.
    #[arg(long, conflicts_with = "file")]
    boundary_policy: bool,
    /// AWS account the operator runs in.
    #[arg(long, default_value = render::EXAMPLE_ACCOUNT_ID)]
    account_id: String,
    /// AWS partition (aws, aws-cn, aws-us-gov).
    #[arg(long, default_value = "aws")]
    partition: String,
    /// Cluster name the operator is started with (part of every AWS name).
    #[arg(long, default_value = "default")]
    cluster: String,
    /// The cluster's IAM OIDC provider, e.g. oidc.eks.us-east-1.amazonaws.com/id/<id>.
    #[arg(long)]
    oidc_provider: Option<String>,
    /// Image of the endpoint.
    #[arg(long, default_value = DEFAULT_API_IMAGE)]
    image: String,
    /// Face Liveness regions to accept beyond the built-in list.
    #[arg(long, value_delimiter = ',')]
    extra_liveness_regions: Vec<String>,
}

fn main() -> anyhow::Result<()> {
    memory::configure();
    match Cli::parse().command {
        Command::Run(config) => tokio::runtime::Runtime::new()?.block_on(async {
            memory::spawn_trimmer(memory::TRIM_PERIOD);
            liveness_operator::controller::start(*config).await
        })?,
        Command::Crd => print!("{}", liveness_operator::crd::crd_yaml()),
        Command::Plan(args) => print!("{}", plan(args)?),
        Command::Bootstrap(args) => {
            print!(
                "{}",
                tokio::runtime::Runtime::new()?.block_on(run_bootstrap(args))?
            )
        }
    }
    Ok(())
}

async fn run_bootstrap(args: BootstrapArgs) -> anyhow::Result<String> {
    let settings = bootstrap::BootstrapFlags {
        cluster: &args.cluster,
        oidc_provider: &args.oidc_provider,
        namespace: &args.namespace,
        service_account: &args.service_account,
    }
    .parse()
    .map_err(|problems| {
        let lines: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
        anyhow::anyhow!("invalid flags:\n{}", lines.join("\n"))
    })?;
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(args.region))
        .load()
        .await;
    let outcome = bootstrap::run(&settings, &config, args.dry_run).await?;
    Ok(outcome.report())
}

fn plan(args: PlanArgs) -> anyhow::Result<String> {
    if args.operator_policy || args.boundary_policy {
        let account = render::policy_flags(&args.account_id, &args.partition, &args.cluster)?;
        let (partition, account_id) = (&account.partition, &account.account_id);
        return Ok(if args.operator_policy {
            render::render_operator_policy(partition, account_id, &args.cluster)
        } else {
            render::render_boundary_policy(partition, account_id)
        });
    }
    let file = args.file.expect("clap requires --file");
    let yaml = if file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).context("reading stdin")?
    } else {
        std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?
    };
    let options = render::PlanOptions {
        account_id: args.account_id,
        partition: args.partition,
        cluster: args.cluster,
        oidc_provider: args.oidc_provider,
        image: args.image,
        extra_regions: args.extra_liveness_regions,
    };
    Ok(render::render_plan(&yaml, &options)?)
}
