//! The `liveness-emulator` binary: says first that it is an emulator, writes its
//! self-signed certificate next to the assets directory, and serves HTTPS with it.

mod emulator_support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use emulator_support::{header, https_get_at};

struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn the_binary_announces_itself_writes_its_certificate_and_serves_https() {
    let root = std::env::temp_dir().join(format!("emulator-bin-{}", uuid::Uuid::new_v4()));
    let assets = root.join("assets");
    std::fs::create_dir_all(assets.join("wasm")).unwrap();
    std::fs::write(assets.join("wasm/x.wasm"), b"\0asm").unwrap();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();

    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_liveness-emulator"))
            .args(["--listen", &addr.to_string(), "--outcome", "pass"])
            .env("LIVENESS_EMULATOR_ASSETS_DIR", &assets)
            .env("LIVENESS_EMULATOR_LOG_FORMAT", "json")
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut lines = BufReader::new(child.0.stderr.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(
        first.contains("EMULATOR, not Amazon Rekognition"),
        "{first}"
    );
    let listening = lines
        .map_while(Result::ok)
        .find(|l| l.contains("liveness-emulator listening"))
        .expect("a listening line");
    assert!(listening.contains(&format!("wss://{addr}")), "{listening}");

    let cert_path = root.join("emulator-cert.pem");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cert_path.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let cert = std::fs::read_to_string(&cert_path).expect("the certificate is written");
    let (status, headers, _) = https_get_at(addr, &cert, "/assets/wasm/x.wasm").await;
    assert!(status.contains(" 200 "), "{status}");
    assert_eq!(header(&headers, "content-type"), Some("application/wasm"));
    assert_eq!(header(&headers, "x-liveness-emulator"), Some("true"));
    drop(child);
    let _ = std::fs::remove_dir_all(root);
}
