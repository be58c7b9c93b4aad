//! An offline Face Liveness emulator: develop and test the browser flow without AWS.
//!
//! No public emulator implements Rekognition Face Liveness, and the browser component only
//! talks to AWS. The emulator is one HTTPS origin serving what the component and the app's
//! backend need, with the wire formats of the real service:
//!
//! - `POST /` — the JSON 1.1 operations `CreateFaceLivenessSession` and
//!   `GetFaceLivenessSessionResults` ([`rekognition`], the same code as the tests' stub);
//! - `GET /start-face-liveness-session-websocket` — the event-stream websocket ([`stream`]);
//! - `GET /assets/...` — the face detector model and tfjs WASM files ([`assets`]).
//!
//! Every response carries `X-Liveness-Emulator: true` so nobody mistakes it for AWS. The
//! verdict is decided by a [`judge::Policy`]: from what the client reported, or fixed.
//!
//! Modules depend on each other in one direction only (no cycles): [`outcome`] ← [`judge`]
//! ← [`store`] (with its test scripting) ← [`rekognition`], [`stream`] ← the [`router`]
//! here; [`assets`] and [`tls`] stand alone. The tests' plain-HTTP stub server
//! (`stub::RekognitionStub`) and the store's scripting methods exist with the `test-util`
//! feature only, so release binaries carry none of them.

pub mod assets;
pub mod judge;
pub mod outcome;
pub mod rekognition;
mod scripting;
#[cfg(feature = "test-util")]
mod sigv4;
pub mod store;
pub mod stream;
#[cfg(feature = "test-util")]
pub mod stub;
pub mod tls;

pub use outcome::{Fault, FeedbackItem, Outcome};
#[cfg(feature = "test-util")]
pub use scripting::CreateCall;
pub use store::{SessionView, StreamRefusal, StubHandle};
#[cfg(feature = "test-util")]
pub use stub::RekognitionStub;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use axum::Router;
use axum::http::HeaderValue;
use axum::response::Response;
use axum::routing::get;
use axum_server::tls_rustls::RustlsConfig;

use judge::Policy;

/// The header on every emulator response.
pub const EMULATOR_HEADER: &str = "x-liveness-emulator";

/// Errors starting the emulator.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("TLS: {0}")]
    Tls(String),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// How to run the emulator.
#[derive(Debug, Clone)]
pub struct Options {
    pub listen: SocketAddr,
    pub assets_dir: PathBuf,
    /// The certificate to serve; `None` makes a self-signed one.
    pub tls: Option<tls::PemPair>,
    pub policy: Policy,
    /// Also serve the Rekognition JSON 1.1 API (not the stream, not the assets) over plain
    /// HTTP here: for a liveness-api that cannot be given the self-signed certificate, such
    /// as a pod with a read-only root filesystem. Same sessions as the HTTPS listener.
    pub api_listen: Option<SocketAddr>,
}

/// Every route of the emulator over `store`, with the emulator header.
pub fn router(store: StubHandle, assets_dir: PathBuf) -> Router {
    let streaming = Router::new()
        .route(
            "/start-face-liveness-session-websocket",
            get(stream::start_session),
        )
        .with_state(store.clone());
    rekognition::json11_router(store)
        .merge(streaming)
        .merge(assets::router(assets_dir))
        .layer(axum::middleware::map_response(mark_as_emulator))
}

async fn mark_as_emulator(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(EMULATOR_HEADER, HeaderValue::from_static("true"));
    response
}

/// A running emulator; stops when dropped.
pub struct Emulator {
    addr: SocketAddr,
    api_addr: Option<SocketAddr>,
    api_server: Option<tokio::task::JoinHandle<()>>,
    #[cfg(feature = "test-util")]
    store: StubHandle,
    cert_pem: String,
    server: axum_server::Handle<SocketAddr>,
}

impl Emulator {
    /// Binds `options.listen` and serves HTTPS in the background.
    pub async fn start(options: Options) -> Result<Self, EmulatorError> {
        let pair = match options.tls {
            Some(pair) => pair,
            None => tls::self_signed()?,
        };
        let config = RustlsConfig::from_config(tls::server_config(&pair)?);
        let listen_error = |source| EmulatorError::Listen {
            addr: options.listen,
            source,
        };
        let listener = std::net::TcpListener::bind(options.listen).map_err(listen_error)?;
        listener.set_nonblocking(true).map_err(listen_error)?;
        let addr = listener.local_addr().map_err(listen_error)?;

        let store = StubHandle::new();
        store.set_default_outcome(Outcome::Created);
        store.set_stream_policy(options.policy);
        let (api_addr, api_server) = match options.api_listen {
            Some(listen) => {
                let api_error = |source| EmulatorError::Listen {
                    addr: listen,
                    source,
                };
                let listener = tokio::net::TcpListener::bind(listen)
                    .await
                    .map_err(api_error)?;
                let addr = listener.local_addr().map_err(api_error)?;
                let api = rekognition::json11_router(store.clone())
                    .layer(axum::middleware::map_response(mark_as_emulator));
                let task = tokio::spawn(async move {
                    if let Err(e) = axum::serve(listener, api).await {
                        tracing::error!(error = %e, "emulator's HTTP API stopped");
                    }
                });
                (Some(addr), Some(task))
            }
            None => (None, None),
        };
        let app = router(store.clone(), options.assets_dir);
        let server = axum_server::Handle::new();
        let serving = axum_server::tls_rustls::from_tcp_rustls(listener, config)
            .map_err(listen_error)?
            .handle(server.clone());
        tokio::spawn(async move {
            if let Err(e) = serving.serve(app.into_make_service()).await {
                tracing::error!(error = %e, "emulator stopped");
            }
        });
        Ok(Self {
            addr,
            api_addr,
            api_server,
            #[cfg(feature = "test-util")]
            store,
            cert_pem: pair.cert,
            server,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://<addr>`: the Rekognition endpoint and the assets' origin.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// `http://<api_listen>`: the plain-HTTP Rekognition endpoint, when asked for.
    pub fn http_api_url(&self) -> Option<String> {
        self.api_addr.map(|addr| format!("http://{addr}"))
    }

    /// `wss://<addr>`: the component's `endpointOverride`.
    pub fn streaming_url(&self) -> String {
        format!("wss://{}", self.addr)
    }

    /// The certificate served, PEM encoded (to trust it in a client).
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The session store, to script outcomes per session (tests only).
    #[cfg(feature = "test-util")]
    pub fn handle(&self) -> StubHandle {
        self.store.clone()
    }

    /// Stops accepting and lets open connections finish for up to `grace`.
    pub fn shutdown(&self, grace: Duration) {
        self.server.graceful_shutdown(Some(grace));
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(task) = &self.api_server {
            task.abort();
        }
        self.server.shutdown();
    }
}
