//! Assembles the service (routes + cross-cutting layers) and runs it until SIGTERM or
//! ctrl-c, draining gracefully.
//!
//! On a shutdown signal `/readyz` turns 503 first and the listener stays open for the
//! drain period, so Kubernetes stops routing to the pod before connections are refused.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use anyhow::Context;
use aws_config::{BehaviorVersion, Region};
use axum::Router;
use axum::http::StatusCode;
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use super::config::Config;
use super::layers;
use super::metrics;
use super::rekognition::{AwsRekognition, CreateSettings};
use super::routes::{self, AppState};

/// The whole HTTP application for `state`.
pub fn app(state: AppState) -> Router {
    let config = state.config.clone();
    let metrics = state.metrics.clone();
    // Each layer wraps the ones before it, so read bottom-up for the order a request
    // meets them: trace, metrics (sees every final status), CORS (headers on errors too,
    // preflights answered before the rate limit), JSON error bodies, timeout, body limit.
    routes::router(state)
        .layer(RequestBodyLimitLayer::new(config.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::GATEWAY_TIMEOUT,
            config.request_timeout,
        ))
        .layer(axum::middleware::map_response(layers::json_errors))
        .layer(layers::cors(&config.allowed_origins))
        .layer(axum::middleware::from_fn_with_state(
            metrics,
            metrics::track,
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_request(())
                .on_failure(())
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
}

/// Serves `app` on `listener` until `shutdown` completes, then finishes open requests.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Runs the service with the real AWS SDK (endpoint and credentials from the standard
/// AWS configuration; the region is always `config.region`).
pub async fn run(config: Config) -> anyhow::Result<()> {
    for warning in config.warnings() {
        tracing::warn!("{warning}");
    }
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(config.region.clone()))
        .load()
        .await;
    let sessions = AwsRekognition::new(&sdk, CreateSettings::from(&config), config.request_timeout);
    let listen = config.listen;
    let listener = TcpListener::bind(listen).await.with_context(|| {
        format!("cannot listen on {listen}: choose a free address with --listen / LIVENESS_LISTEN")
    })?;
    tracing::info!(
        addr = %listener.local_addr()?,
        region = %config.region,
        threshold = config.threshold,
        "liveness-api listening"
    );
    let drain = config.drain;
    let state = AppState::new(config, Arc::new(sessions));
    let ready = state.ready.clone();
    serve(listener, app(state), async move {
        shutdown_signal().await;
        ready.store(false, Ordering::Relaxed);
        tracing::info!(seconds = drain.as_secs(), "shutdown requested; draining");
        tokio::time::sleep(drain).await;
    })
    .await
    .context("server failed")?;
    tracing::info!("liveness-api stopped");
    Ok(())
}

/// Completes on SIGTERM (Kubernetes) or ctrl-c.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
