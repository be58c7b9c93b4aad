//! Renders the Helm chart with the real Helm engine (through `scripts/chart-check.sh
//! render`, which brings its pinned venv) and reads rendered manifests back as JSON.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;
use serde_json::Value;

/// The chart directory.
pub fn chart_dir() -> PathBuf {
    repo_root().join("charts/liveness-operator")
}

fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every object of a YAML stream (several documents), as JSON values.
pub fn parse_stream(text: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(text)
        .map(|doc| Value::deserialize(doc).expect("rendered YAML parses"))
        .filter(|v| !v.is_null())
        .collect()
}

/// Reads a rendered file written by chart-check.
pub fn read_stream(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    parse_stream(&text)
}

/// Renders the chart as release `name` in `namespace` with `values` (merged over the
/// chart's defaults, like `helm install --set-json`). Err carries Helm's message.
pub fn render(name: &str, namespace: &str, values: &Value) -> Result<Rendered, String> {
    let out = std::env::temp_dir().join(format!(
        "chart-render-{name}-{}-{}.yaml",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    let result = Command::new("bash")
        .arg(repo_root().join("scripts/chart-check.sh"))
        .arg("render")
        .arg("--chart")
        .arg(chart_dir())
        .args(["--name", name, "--namespace", namespace])
        .arg("--set-json")
        .arg(values.to_string())
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run scripts/chart-check.sh render");
    if !result.status.success() {
        return Err(String::from_utf8_lossy(&result.stderr).into_owned());
    }
    let objects = read_stream(&out);
    let notes = std::fs::read_to_string(out.with_extension("NOTES.txt")).unwrap_or_default();
    let _ = std::fs::remove_file(&out);
    let _ = std::fs::remove_file(out.with_extension("NOTES.txt"));
    Ok(Rendered { objects, notes })
}

/// A rendered release.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// Every object, in template order.
    pub objects: Vec<Value>,
    /// NOTES.txt as rendered.
    pub notes: String,
}

impl Rendered {
    /// Objects of `kind`.
    pub fn all(&self, kind: &str) -> Vec<&Value> {
        self.objects.iter().filter(|o| o["kind"] == kind).collect()
    }

    /// The one object of `kind`.
    pub fn one(&self, kind: &str) -> &Value {
        let found = self.all(kind);
        assert_eq!(found.len(), 1, "want exactly one {kind}, got {found:#?}");
        found[0]
    }

    /// The operator container of the Deployment.
    pub fn operator_container(&self) -> &Value {
        &self.one("Deployment")["spec"]["template"]["spec"]["containers"][0]
    }

    /// The operator's command-line arguments (after the `run` subcommand).
    pub fn operator_args(&self) -> Vec<String> {
        let args: Vec<String> = self.operator_container()["args"]
            .as_array()
            .expect("args")
            .iter()
            .map(|a| a.as_str().unwrap().to_string())
            .collect();
        assert_eq!(args.first().map(String::as_str), Some("run"), "{args:?}");
        args[1..].to_vec()
    }

    /// The value of `--flag=value` in the operator's arguments.
    pub fn flag(&self, flag: &str) -> Option<String> {
        let prefix = format!("--{flag}=");
        self.operator_args()
            .iter()
            .find_map(|a| a.strip_prefix(&prefix).map(str::to_string))
    }

    /// Every value of a repeated `--<flag>=value` argument, in order.
    pub fn flags(&self, flag: &str) -> Vec<String> {
        let prefix = format!("--{flag}=");
        self.operator_args()
            .iter()
            .filter_map(|a| a.strip_prefix(&prefix).map(str::to_string))
            .collect()
    }

    /// Writes objects of the given kinds as one YAML stream, for `kubectl apply -f`.
    pub fn write_kinds(&self, kinds: &[&str], path: &Path) {
        let text: String = self
            .objects
            .iter()
            .filter(|o| kinds.contains(&o["kind"].as_str().unwrap_or_default()))
            .map(|o| format!("---\n{}\n", serde_json::to_string_pretty(o).unwrap()))
            .collect();
        std::fs::write(path, text).unwrap();
    }
}
