//! The tests' Rekognition stub: the JSON 1.1 operations alone, over plain HTTP on loopback,
//! for the endpoint service's tests, the benchmark and the demo
//! (`examples/rekognition_stub.rs`). Compiled with the `test-util` feature only.
//!
//! Tests script what Rekognition answers through its [`StubHandle`]: a default outcome for
//! new sessions, an outcome per session, or a fault for every create.

use std::net::SocketAddr;

use tokio::sync::oneshot;

use super::rekognition::json11_router;
use super::store::StubHandle;

/// A stub listening on a loopback port; stops when dropped.
pub struct RekognitionStub {
    addr: SocketAddr,
    handle: StubHandle,
    stop: Option<oneshot::Sender<()>>,
}

impl RekognitionStub {
    /// Starts a stub on `127.0.0.1` with an ephemeral port.
    pub async fn start() -> std::io::Result<Self> {
        Self::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts a stub on `addr`.
    pub async fn bind(addr: SocketAddr) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let handle = StubHandle::new();
        let app = json11_router(handle.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(Self {
            addr,
            handle,
            stop: Some(stop),
        })
    }

    /// The URL to give the SDK as its endpoint (`AWS_ENDPOINT_URL` or `endpoint_url`).
    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn handle(&self) -> StubHandle {
        self.handle.clone()
    }
}

impl Drop for RekognitionStub {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
