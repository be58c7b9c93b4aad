//! Link settings of the binaries.
//!
//! Relative relocations are packed (`DT_RELR`, glibc ≥ 2.36, the runtime image's bookworm):
//! the dynamic loader then reads a few kilobytes at start instead of a `.rela.dyn` table of
//! 1.3 MB (liveness-api) and 1.9 MB (liveness-operator), whose pages otherwise stay resident
//! for the life of the process (bench/README.md, memory). Both lld and GNU ld ≥ 2.38 take
//! the flag; a glibc without RELR refuses the binary at start, naming `GLIBC_ABI_DT_RELR`.
//!
//! liveness-api's functions are laid out in the order of `src/bin/liveness-api.order`
//! (the ones it runs, hottest first; `scripts/symbol-order.sh` writes it), so that the code
//! it runs is a few megabytes side by side, not pages spread over all of `.text`, each of
//! which the kernel maps with its neighbours. Only lld takes the option (rustc links with
//! it on x86_64 Linux since 1.90), so it is passed only when linking a probe with it
//! succeeds with the same rustc, target, linker and flags; names the file has and the
//! binary does not (another toolchain or lock file) are ignored.

use std::path::PathBuf;
use std::process::{Command, Stdio};

const SYMBOL_ORDER: &str = "src/bin/liveness-api.order";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed={SYMBOL_ORDER}");
    let target = std::env::var("TARGET").unwrap_or_default();
    if !target.ends_with("-linux-gnu") {
        return;
    }
    println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");

    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let order = root.join(SYMBOL_ORDER);
    let order_flag = format!("-Wl,--symbol-ordering-file={}", order.display());
    if order.is_file() && links_with(&target, &[&order_flag]) {
        println!("cargo:rustc-link-arg-bin=liveness-api={order_flag}");
        println!("cargo:rustc-link-arg-bin=liveness-api=-Wl,--no-warn-symbol-ordering");
    }
}

/// Whether an empty program links for `target` with `link_args` added, through the rustc,
/// linker and flags this build uses.
fn links_with(target: &str, link_args: &[&str]) -> bool {
    let Some(out) = std::env::var_os("OUT_DIR").map(PathBuf::from) else {
        return false;
    };
    let source = out.join("link_probe.rs");
    if std::fs::write(&source, "fn main() {}\n").is_err() {
        return false;
    }
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let mut probe = Command::new(rustc);
    probe
        .arg("--target")
        .arg(target)
        .arg("--crate-type=bin")
        .arg("-o")
        .arg(out.join("link_probe"))
        .arg(&source);
    if let Ok(linker) = std::env::var("RUSTC_LINKER") {
        probe.arg("-C").arg(format!("linker={linker}"));
    }
    let flags = std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    probe.args(flags.split('\x1f').filter(|f| !f.is_empty()));
    for arg in link_args {
        probe.arg("-C").arg(format!("link-arg={arg}"));
    }
    probe
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
        && out.join("link_probe").exists()
}
