//! Log setup shared by both binaries: JSON lines for the cluster's log pipeline, or text
//! for people. `RUST_LOG` overrides the default level (`info`).
//!
//! The filter is tracing-subscriber's `Targets`: `RUST_LOG` directives by target and level
//! (`info,liveness_operator=debug,kube=warn`), which is all the chart's `logLevel` offers.
//! `EnvFilter` adds span and field matching at the price of a regex engine in both
//! binaries (about half a megabyte of code each, resident: README § Scale).

use std::str::FromStr;

use clap::ValueEnum;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::prelude::*;

/// Log output format (`--log-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line.
    Json,
    /// Human-readable lines.
    Text,
}

/// The level filter from `RUST_LOG` (`info` when unset), or why it cannot be used.
pub fn filter(rust_log: Option<&str>) -> Result<Targets, String> {
    match rust_log.map(str::trim) {
        None | Some("") => Ok(Targets::new().with_default(tracing::Level::INFO)),
        Some(directives) => Targets::from_str(directives).map_err(|e| {
            format!(
                "RUST_LOG={directives:?} is not a list of [target=]level directives ({e}); \
                 logging at info"
            )
        }),
    }
}

/// Installs the global subscriber; a second call (e.g. in tests) is a no-op.
pub fn init(format: LogFormat) {
    let rust_log = std::env::var("RUST_LOG").ok();
    let (filter, problem) = match filter(rust_log.as_deref()) {
        Ok(filter) => (filter, None),
        Err(problem) => (filter(None).expect("the default parses"), Some(problem)),
    };
    // Colours only for a terminal: a log file or a pod's log gets plain text.
    let builder = tracing_subscriber::fmt()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let installed = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .finish()
            .with(filter)
            .try_init(),
        LogFormat::Text => builder.finish().with(filter).try_init(),
    };
    if let (Ok(()), Some(problem)) = (installed, problem) {
        tracing::warn!("{problem}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::level_filters::LevelFilter;

    #[test]
    fn rust_log_sets_levels_by_target() {
        let targets = filter(Some("warn,liveness_operator=debug")).unwrap();
        assert!(targets.would_enable("liveness_operator::controller", &tracing::Level::DEBUG));
        assert!(!targets.would_enable("kube_runtime", &tracing::Level::INFO));
        assert!(targets.would_enable("kube_runtime", &tracing::Level::WARN));
    }

    #[test]
    fn no_rust_log_means_info() {
        for unset in [None, Some(""), Some("  ")] {
            let targets = filter(unset).unwrap();
            assert_eq!(targets.default_level(), Some(LevelFilter::INFO));
        }
    }

    #[test]
    fn a_malformed_rust_log_is_named() {
        let why = filter(Some("liveness_operator=loud")).unwrap_err();
        assert!(why.contains("RUST_LOG=\"liveness_operator=loud\""), "{why}");
    }
}
