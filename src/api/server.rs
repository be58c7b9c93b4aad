//! Assembles the service (routes + cross-cutting layers), serves it on two listeners, and
//! runs it until SIGTERM or ctrl-c, draining gracefully.
//!
//! The public listener serves browsers and probes; `/metrics` has a listener of its own
//! (`--metrics-listen`), a port the public Service does not expose, so request counts and
//! error kinds are not handed to the internet. Connections are served with hyper directly
//! (HTTP/1.1) because the service needs a header-read timeout: a client that opens a
//! connection and never finishes its request head (slowloris) is cut after
//! `--header-read-timeout-seconds` instead of holding a socket forever.
//!
//! On a shutdown signal `/readyz` turns 503 first and the listeners stay open for the
//! drain period, so Kubernetes stops routing to the pod before connections are refused.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context;
use aws_config::{BehaviorVersion, Region};
use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::StatusCode;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use super::config::Config;
use super::layers;
use super::observe;
use super::rekognition::{AwsRekognition, CreateSettings};
use super::routes::{self, AppState, Listener};

/// How long open connections may finish after the listeners closed.
const CLOSE_GRACE: Duration = Duration::from_secs(10);

/// The public HTTP application for `state`.
pub fn app(state: AppState) -> Router {
    let config = state.config.clone();
    let metrics = state.metrics.clone();
    // Each layer wraps the ones before it, so read bottom-up for the order a request
    // meets them: metrics and access log (every final status), CORS (headers on errors too,
    // preflights answered before the rate limit), JSON error bodies, timeout, body limit.
    routes::router(state, Listener::Public)
        .layer(RequestBodyLimitLayer::new(config.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::GATEWAY_TIMEOUT,
            config.request_timeout,
        ))
        .layer(axum::middleware::map_response(layers::json_errors))
        .layer(layers::cors(&config.allowed_origins))
        .layer(axum::middleware::from_fn_with_state(
            metrics,
            observe::observe,
        ))
}

/// The metrics listener's application: `/metrics` only.
pub fn metrics_app(state: AppState) -> Router {
    routes::router(state, Listener::Metrics)
        .layer(axum::middleware::map_response(layers::json_errors))
}

/// Serves `app` on `listener` until `shutdown` completes, then lets open requests finish.
/// A connection whose request head does not arrive within `header_read_timeout` is closed.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    header_read_timeout: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let app = app.clone();
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let mut request = request.map(axum::body::Body::new);
            request.extensions_mut().insert(ConnectInfo(remote));
            app.clone().oneshot(request)
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(header_read_timeout);
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, %remote, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(CLOSE_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some connections were still open after the grace period");
    }
    Ok(())
}

/// The two bound listeners.
pub struct Listeners {
    pub public: TcpListener,
    pub metrics: TcpListener,
}

impl Listeners {
    /// Binds `config.listen` and `config.security.metrics_listen`.
    pub async fn bind(config: &Config) -> anyhow::Result<Self> {
        let listen = config.listen;
        let public = TcpListener::bind(listen).await.with_context(|| {
            format!(
                "cannot listen on {listen}: choose a free address with --listen / LIVENESS_LISTEN"
            )
        })?;
        let metrics_listen = config.security.metrics_listen;
        let metrics = TcpListener::bind(metrics_listen).await.with_context(|| {
            format!(
                "cannot listen on {metrics_listen} for /metrics: choose a free address with \
                 --metrics-listen / LIVENESS_METRICS_LISTEN"
            )
        })?;
        Ok(Listeners { public, metrics })
    }

    pub fn public_addr(&self) -> std::io::Result<SocketAddr> {
        self.public.local_addr()
    }

    pub fn metrics_addr(&self) -> std::io::Result<SocketAddr> {
        self.metrics.local_addr()
    }

    /// Serves `state` on both listeners until `shutdown` completes.
    pub async fn serve(
        self,
        state: AppState,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let timeout = state.config.security.header_read_timeout;
        let (stop, stopped) = watch::channel(());
        let wait = |mut rx: watch::Receiver<()>| async move {
            let _ = rx.changed().await;
        };
        let metrics = tokio::spawn(serve(
            self.metrics,
            metrics_app(state.clone()),
            timeout,
            wait(stopped.clone()),
        ));
        let public = serve(self.public, app(state), timeout, wait(stopped));
        let signal = async move {
            shutdown.await;
            let _ = stop.send(());
        };
        let (served, ()) = tokio::join!(public, signal);
        served?;
        metrics.await.map_err(std::io::Error::other)?
    }
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
    let sessions =
        AwsRekognition::new(&sdk, CreateSettings::from(&config), config.request_timeout)?;
    let listeners = Listeners::bind(&config).await?;
    tracing::info!(
        addr = %listeners.public_addr()?,
        metrics_addr = %listeners.metrics_addr()?,
        region = %config.region,
        threshold = config.threshold,
        auth = config.security.auth.mode(),
        verdict_issuer = config.security.signer.issuer(),
        "liveness-api listening"
    );
    let drain = config.drain;
    let state = AppState::new(config, Arc::new(sessions));
    let ready = state.ready.clone();
    listeners
        .serve(state, async move {
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
