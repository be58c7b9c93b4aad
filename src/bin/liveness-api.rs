//! `liveness-api`: parses flags and environment, then runs the service from the library.

use std::process::ExitCode;

use clap::Parser;
use liveness_operator::api::{self, Args, Config, config};
use liveness_operator::{logging, memory};

fn main() -> ExitCode {
    memory::configure();
    match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime.block_on(serve()),
        Err(err) => {
            eprintln!("liveness-api: cannot start the async runtime: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn serve() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(err) => {
            if !err.use_stderr() {
                err.exit(); // --help, --version
            }
            let _ = err.print();
            if let Some(hint) = config::env_hint(&err) {
                eprintln!("hint: {hint}");
            }
            return ExitCode::from(2);
        }
    };
    let config = match Config::from_args(args) {
        Ok(config) => config,
        Err(problems) => {
            eprintln!("liveness-api: invalid configuration:");
            for problem in problems {
                eprintln!("  - {problem}");
            }
            return ExitCode::from(2);
        }
    };
    logging::init(config.log_format);
    memory::spawn_trimmer(memory::TRIM_PERIOD);
    match api::run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "liveness-api failed");
            eprintln!("liveness-api: {err:#}");
            ExitCode::FAILURE
        }
    }
}
