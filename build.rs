//! Link settings of the binaries.
//!
//! Relative relocations are packed (`DT_RELR`, glibc ≥ 2.36, the runtime image's bookworm):
//! the dynamic loader then reads a few kilobytes at start instead of a `.rela.dyn` table of
//! 1.3 MB (liveness-api) and 1.9 MB (liveness-operator), whose pages otherwise stay resident
//! for the life of the process (bench/README.md, memory). Both lld and GNU ld ≥ 2.38 take
//! the flag; a glibc without RELR refuses the binary at start, naming `GLIBC_ABI_DT_RELR`.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.ends_with("-linux-gnu") {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}
