//! Deterministic names for everything a LivenessApp owns, in AWS and in Kubernetes.
//!
//! Names derive from (cluster, namespace, name) only, so a crashed reconcile finds the same
//! objects again. IAM role names must be unique per account and fit 64 characters: they
//! carry a readable part plus a hash of the full identity, so `a-b/c` and `a/b-c` never
//! collide and long names are shortened, not truncated into each other. Cognito pool
//! names are not unique at all; ownership of a pool is proven by tags, not by its name.

use sha2::{Digest, Sha256};

/// Root of the IAM paths of this operator; each cluster has its own path below it.
pub const IAM_PATH_ROOT: &str = "/liveness-operator/";

/// IAM path of the roles (and the boundary policy) of `cluster`:
/// `/liveness-operator/<cluster>/`. The operator's own policy is scoped to it, so one
/// cluster's operator cannot touch another cluster's roles in a shared account.
pub fn iam_path(cluster: &str) -> String {
    format!("{IAM_PATH_ROOT}{cluster}/")
}
/// Longest IAM role name AWS accepts.
pub const IAM_ROLE_NAME_MAX: usize = 64;
/// Longest Cognito identity pool name AWS accepts.
pub const POOL_NAME_MAX: usize = 128;
/// Suffix of the Deployment, Service and ServiceAccount of the endpoint.
pub const ENDPOINT_SUFFIX: &str = "liveness-api";
/// Suffix of the frontend ConfigMap.
pub const CONFIG_MAP_SUFFIX: &str = "liveness-config";
/// Kubernetes object names of children are DNS-1035 labels of at most this length.
pub const KUBE_NAME_MAX: usize = 63;
/// AWS tag values fit this many characters (IAM and Cognito alike).
pub const TAG_VALUE_MAX: usize = 256;
/// Port of the endpoint Service.
pub const ENDPOINT_SERVICE_PORT: u16 = 80;

/// The roles a LivenessApp owns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RoleKind {
    /// Signed-in browser identities: may start a liveness stream.
    Client,
    /// Guest browser identities: may start a liveness stream.
    Guest,
    /// The endpoint pods: may create sessions and read results.
    Backend,
}

impl RoleKind {
    /// Short word used in names and tags.
    pub fn as_str(self) -> &'static str {
        match self {
            RoleKind::Client => "client",
            RoleKind::Guest => "guest",
            RoleKind::Backend => "backend",
        }
    }
}

/// Who a LivenessApp is: enough to derive every name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppIdentity {
    /// Operator-wide name of this cluster, so two clusters can share an AWS account.
    pub cluster: String,
    /// Namespace of the LivenessApp.
    pub namespace: String,
    /// metadata.name of the LivenessApp.
    pub name: String,
}

impl AppIdentity {
    /// 8 hex characters of SHA-256 over cluster/namespace/name.
    pub fn short_hash(&self) -> String {
        short_hash(&format!(
            "{}/{}/{}",
            self.cluster, self.namespace, self.name
        ))
    }

    /// IAM path of this app's roles (its cluster's path).
    pub fn iam_path(&self) -> String {
        iam_path(&self.cluster)
    }

    /// IAM role name: `lv-<readable>-<hash>-<kind>`, at most 64 characters.
    pub fn role_name(&self, kind: RoleKind) -> String {
        let fixed = "lv-".len() + 1 + 8 + 1 + kind.as_str().len();
        let readable = readable_part(
            &format!("{}-{}", self.namespace, self.name),
            IAM_ROLE_NAME_MAX - fixed,
            |c| c.is_ascii_alphanumeric() || "+=,.@-_".contains(c),
        );
        format!("lv-{readable}-{}-{}", self.short_hash(), kind.as_str())
    }

    /// Cognito identity pool name: letters, digits, spaces and underscores only.
    pub fn pool_name(&self) -> String {
        let fixed = "liveness_".len() + 1 + 8;
        let readable = readable_part(
            &format!("{}_{}", self.namespace, self.name),
            POOL_NAME_MAX - fixed,
            |c| c.is_ascii_alphanumeric() || c == '_',
        );
        format!("liveness_{readable}_{}", self.short_hash())
    }

    /// Name of the endpoint Deployment, Service and ServiceAccount.
    pub fn endpoint_name(&self) -> String {
        self.child_name(ENDPOINT_SUFFIX)
    }

    /// Name of the frontend ConfigMap.
    pub fn config_map_name(&self) -> String {
        self.child_name(CONFIG_MAP_SUFFIX)
    }

    /// A child object's name: `<readable>-<hash>-<suffix>`, a DNS-1035 label of at most
    /// 63 characters for any valid app name (up to 253 characters, dots allowed). The hash
    /// covers the whole app name, so two apps whose names share a long prefix differ.
    pub fn child_name(&self, suffix: &str) -> String {
        let hash = short_hash(&self.name);
        let room = KUBE_NAME_MAX - suffix.len() - hash.len() - 2;
        format!("{}-{hash}-{suffix}", dns_label_part(&self.name, room))
    }

    /// The value of the `app.kubernetes.io/instance` label: the app name when it is a
    /// valid label value (at most 63 characters), else its readable part and hash.
    pub fn instance_label(&self) -> String {
        if self.name.len() <= KUBE_NAME_MAX {
            self.name.clone()
        } else {
            let hash = short_hash(&self.name);
            let readable = dns_label_part(&self.name, KUBE_NAME_MAX - hash.len() - 1);
            format!("{readable}-{hash}")
        }
    }

    /// `<namespace>/<name>` for the app tag, shortened with a hash to fit a tag value.
    pub fn tag_value(&self) -> String {
        let full = format!("{}/{}", self.namespace, self.name);
        if full.len() <= TAG_VALUE_MAX {
            return full;
        }
        let hash = short_hash(&full);
        format!("{}-{hash}", &full[..TAG_VALUE_MAX - hash.len() - 1])
    }

    /// In-cluster URL of the endpoint Service.
    pub fn endpoint_url(&self) -> String {
        format!(
            "http://{}.{}.svc:{ENDPOINT_SERVICE_PORT}",
            self.endpoint_name(),
            self.namespace
        )
    }

    /// The IRSA subject of the endpoint's ServiceAccount.
    pub fn service_account_subject(&self) -> String {
        format!(
            "system:serviceaccount:{}:{}",
            self.namespace,
            self.endpoint_name()
        )
    }
}

/// 8 hex characters of SHA-256 over `input`.
fn short_hash(input: &str) -> String {
    let digest = Sha256::digest(input);
    digest.iter().take(4).map(|b| format!("{b:02x}")).collect()
}

/// The readable start of a DNS-1035 label made from a Kubernetes name: dots become `-`,
/// at most `max` characters, starting with a letter, not ending with `-`.
fn dns_label_part(name: &str, max: usize) -> String {
    let mut out = String::with_capacity(max);
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        out.push_str("lv-");
    }
    out.extend(
        name.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .take(max - out.len()),
    );
    out.trim_end_matches('-').to_string()
}

/// Keeps allowed characters (others become `_`/`-` by the caller's rule) and cuts to `max`.
fn readable_part(raw: &str, max: usize, allowed: impl Fn(char) -> bool) -> String {
    raw.chars()
        .map(|c| if allowed(c) { c } else { '_' })
        .take(max)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(ns: &str, name: &str) -> AppIdentity {
        AppIdentity {
            cluster: "default".into(),
            namespace: ns.into(),
            name: name.into(),
        }
    }

    #[test]
    fn role_names_fit_iam_and_never_collide_across_namespaces() {
        let a = id("a-b", "c").role_name(RoleKind::Client);
        let b = id("a", "b-c").role_name(RoleKind::Client);
        assert_ne!(a, b);
        let long = id(&"n".repeat(63), &"x".repeat(253));
        for kind in [RoleKind::Client, RoleKind::Guest, RoleKind::Backend] {
            let name = long.role_name(kind);
            assert!(name.len() <= IAM_ROLE_NAME_MAX, "{name}");
            assert!(name.ends_with(kind.as_str()));
        }
    }

    #[test]
    fn pool_names_use_only_cognito_characters() {
        let name = id("web-team", "onboarding.v2").pool_name();
        assert!(name.len() <= POOL_NAME_MAX);
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ' ')
        );
        assert!(name.starts_with("liveness_web_team_onboarding_v2_"));
    }

    #[test]
    fn names_are_deterministic_and_cluster_scoped() {
        let one = id("web", "onboarding");
        assert_eq!(
            one.role_name(RoleKind::Backend),
            one.role_name(RoleKind::Backend)
        );
        let other_cluster = AppIdentity {
            cluster: "prod".into(),
            ..one.clone()
        };
        assert_ne!(
            one.role_name(RoleKind::Backend),
            other_cluster.role_name(RoleKind::Backend)
        );
        let service = one.endpoint_name();
        assert!(
            service.starts_with("onboarding-") && service.ends_with("-liveness-api"),
            "{service}"
        );
        assert_eq!(one.endpoint_url(), format!("http://{service}.web.svc:80"));
    }

    fn is_dns_1035_label(name: &str) -> bool {
        name.len() <= 63
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && !name.ends_with('-')
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    }

    #[test]
    fn child_names_are_dns_labels_for_every_valid_app_name() {
        let long = "a".repeat(253);
        let long_other = format!("{}b", "a".repeat(252));
        for name in ["onboarding", "shop.v2", "1st-app", &long, &long_other, "a"] {
            let app = id("web", name);
            for child in [app.endpoint_name(), app.config_map_name()] {
                assert!(is_dns_1035_label(&child), "{name} -> {child}");
            }
            let label = app.instance_label();
            assert!(label.len() <= 63, "{label}");
            assert!(app.tag_value().len() <= TAG_VALUE_MAX);
        }
        assert_ne!(
            id("web", &long).endpoint_name(),
            id("web", &long_other).endpoint_name()
        );
        assert_ne!(
            id("web", &long).instance_label(),
            id("web", &long_other).instance_label()
        );
        assert_eq!(id("web", "shop.v2").instance_label(), "shop.v2");
        assert!(id("web", "shop.v2").endpoint_name().starts_with("shop-v2-"));
        assert_ne!(
            id("web", "shop.v2").endpoint_name(),
            id("web", "shop-v2").endpoint_name()
        );
    }
}
