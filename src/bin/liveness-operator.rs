//! `liveness-operator`: the controller and its tools. Parses flags and wires; the logic
//! lives in the library.

use clap::{Parser, Subcommand};

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
    /// Print the LivenessApp CustomResourceDefinition (YAML) to stdout.
    Crd,
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Crd => print!("{}", liveness_operator::crd::crd_yaml()),
    }
    Ok(())
}
