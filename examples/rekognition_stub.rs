//! Runs the Rekognition Face Liveness stub on its own, for the benchmark and manual tries:
//! `cargo run --example rekognition_stub -- 127.0.0.1:4599 succeeded:97.5`
//! (address, then the outcome every session gets; see `Outcome`'s `FromStr`).

use std::net::SocketAddr;

use liveness_operator::emulator::{Outcome, RekognitionStub};

#[tokio::main]
async fn main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let addr: SocketAddr = args
        .next()
        .unwrap_or_else(|| "127.0.0.1:4599".into())
        .parse()
        .map_err(|e| format!("address: {e}"))?;
    let outcome: Outcome = args
        .next()
        .unwrap_or_else(|| "succeeded:97.5".into())
        .parse()?;
    let stub = RekognitionStub::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    stub.handle().set_default_outcome(outcome);
    println!("rekognition stub listening on {}", stub.endpoint_url());
    liveness_operator::api::server::shutdown_signal().await; // SIGTERM or ctrl-c
    Ok(())
}
