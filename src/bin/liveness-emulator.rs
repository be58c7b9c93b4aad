//! `liveness-emulator`: an offline stand-in for Amazon Rekognition Face Liveness, for local
//! development and browser tests. Parses flags, then runs [`liveness_operator::emulator`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use liveness_operator::emulator::judge::OutcomeFlag;
use liveness_operator::emulator::{Emulator, Options, tls::PemPair};
use liveness_operator::logging::{self, LogFormat};

/// Flags; each falls back to its `LIVENESS_EMULATOR_*` environment variable.
#[derive(Debug, Parser)]
#[command(
    name = "liveness-emulator",
    version,
    about = "EMULATOR of Amazon Rekognition Face Liveness for local development (not AWS)"
)]
struct Args {
    /// Address to listen on (HTTPS).
    #[arg(
        long,
        env = "LIVENESS_EMULATOR_LISTEN",
        default_value = "127.0.0.1:8443"
    )]
    listen: SocketAddr,
    /// Directory served under /assets/ (fill it with scripts/emulator-assets.sh).
    #[arg(long, env = "LIVENESS_EMULATOR_ASSETS_DIR")]
    assets_dir: PathBuf,
    /// PEM certificate chain; without it a self-signed one is made.
    #[arg(long, env = "LIVENESS_EMULATOR_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, env = "LIVENESS_EMULATOR_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// How sessions end: judged from what the client reported, or fixed.
    #[arg(long, env = "LIVENESS_EMULATOR_OUTCOME", value_enum, default_value_t = OutcomeFlag::Judge)]
    outcome: OutcomeFlag,
    /// Confidence reported for a passing session (0-100).
    #[arg(long, env = "LIVENESS_EMULATOR_CONFIDENCE", default_value_t = 95.0)]
    confidence: f32,
    /// Also serve the Rekognition JSON 1.1 API over plain HTTP on this address (for a
    /// liveness-api that cannot trust the self-signed certificate, e.g. in a pod).
    #[arg(long, env = "LIVENESS_EMULATOR_HTTP_API_LISTEN")]
    http_api_listen: Option<SocketAddr>,
    /// Log format.
    #[arg(long, env = "LIVENESS_EMULATOR_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

fn read(path: &PathBuf) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    eprintln!(
        "liveness-emulator: this is an EMULATOR, not Amazon Rekognition; \
         its verdicts mean nothing about real users"
    );
    logging::init(args.log_format);
    if !(0.0..=100.0).contains(&args.confidence) {
        eprintln!(
            "liveness-emulator: --confidence {} is outside 0..100",
            args.confidence
        );
        return ExitCode::from(2);
    }
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => match (read(cert), read(key)) {
            (Ok(cert), Ok(key)) => Some(PemPair { cert, key }),
            (Err(e), _) | (_, Err(e)) => {
                eprintln!("liveness-emulator: cannot read {e}");
                return ExitCode::from(2);
            }
        },
        _ => None,
    };
    let self_signed = tls.is_none();
    let options = Options {
        listen: args.listen,
        assets_dir: args.assets_dir.clone(),
        tls,
        policy: args.outcome.policy(args.confidence),
        api_listen: args.http_api_listen,
    };
    let emulator = match Emulator::start(options).await {
        Ok(emulator) => emulator,
        Err(e) => {
            eprintln!("liveness-emulator: {e}");
            return ExitCode::FAILURE;
        }
    };
    if self_signed {
        let path = args.assets_dir.join("..").join("emulator-cert.pem");
        match std::fs::write(&path, emulator.cert_pem()) {
            Ok(()) => tracing::info!(path = %path.display(), "self-signed certificate written"),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot write the certificate");
                println!("{}", emulator.cert_pem());
            }
        }
    }
    tracing::info!(
        rekognition_endpoint = emulator.url(),
        http_rekognition_endpoint = emulator.http_api_url().unwrap_or_default(),
        streaming_endpoint = emulator.streaming_url(),
        assets = %args.assets_dir.display(),
        outcome = ?args.outcome,
        "liveness-emulator listening"
    );
    liveness_operator::api::server::shutdown_signal().await;
    emulator.shutdown(Duration::from_secs(2));
    ExitCode::SUCCESS
}
