//! The operator's settings, parsed once at start into an [`OperatorEnv`] that every
//! reconcile shares. A malformed setting stops the process at start with the flag's name,
//! instead of parking every LivenessApp later (parse, don't validate).
//!
//! The AWS account and partition are not settings: they come from STS
//! (`GetCallerIdentity`) when the operator starts, or from `plan`'s flags offline.

use crate::ids::OidcProvider;
use crate::rules;

/// Everything about the operator that a LivenessApp's plan depends on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperatorEnv {
    /// Name of this cluster: part of every AWS name and tag.
    pub cluster: String,
    /// The cluster's IAM OIDC provider, trusted by every backend role (IRSA).
    pub oidc_provider: OidcProvider,
    /// Image of the endpoint pods.
    pub endpoint_image: String,
    /// Face Liveness regions accepted beyond [`crate::regions`]' list.
    pub extra_regions: Vec<String>,
    /// Pools LivenessApps may adopt without the pool's own adoptable-by tag
    /// (`--adoptable-pools`).
    pub adoptable_pools: Vec<AdoptablePool>,
    /// Bucket patterns an app's session images may go to (`--allowed-output-buckets`;
    /// `{namespace}` expands, `*` matches); empty allows any bucket of the account.
    pub allowed_output_buckets: Vec<String>,
    /// Proxies every endpoint believes `X-Forwarded-For` from (`--endpoint-trusted-proxies`):
    /// the cluster's ingress controllers. Canonical CIDRs.
    pub endpoint_trusted_proxies: Vec<String>,
    /// Environment variables every endpoint container gets besides its settings
    /// (`--endpoint-env`: an egress proxy, FIPS endpoints, …), in order.
    pub endpoint_env: Vec<(String, String)>,
    /// The account and partition the operator's credentials belong to.
    pub account: AwsAccount,
}

/// One `--adoptable-pools` entry: a pool id, for apps of one namespace or (without a
/// namespace) of any namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdoptablePool {
    /// The namespace allowed, `None` for every namespace.
    pub namespace: Option<String>,
    /// The pool.
    pub pool_id: String,
}

impl OperatorEnv {
    /// Whether `--adoptable-pools` lets apps of `namespace` adopt `pool`.
    pub fn allows_adoption(&self, namespace: &str, pool: &crate::ids::PoolId) -> bool {
        self.adoptable_pools.iter().any(|entry| {
            entry.pool_id == pool.as_str()
                && entry.namespace.as_deref().is_none_or(|ns| ns == namespace)
        })
    }
}

/// The AWS account the operator works in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsAccount {
    /// 12-digit account id.
    pub account_id: String,
    /// `aws`, `aws-cn`, `aws-us-gov`, …
    pub partition: String,
}

/// The settings as given (flags or their environment variables), before parsing.
#[derive(Clone, Debug)]
pub struct EnvFlags<'a> {
    /// `--cluster-name`.
    pub cluster: &'a str,
    /// `--oidc-provider`.
    pub oidc_provider: &'a str,
    /// `--endpoint-image`.
    pub endpoint_image: &'a str,
    /// `--extra-liveness-regions`.
    pub extra_regions: &'a [String],
    /// `--adoptable-pools`: `[<namespace>/]<pool-id>` entries.
    pub adoptable_pools: &'a [String],
    /// `--allowed-output-buckets`: bucket patterns.
    pub allowed_output_buckets: &'a [String],
    /// `--endpoint-trusted-proxies`: CIDRs or addresses.
    pub endpoint_trusted_proxies: &'a [String],
    /// `--endpoint-env`: `NAME=VALUE` entries.
    pub endpoint_env: &'a [String],
}

/// One setting that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlagProblem {
    /// The flag, e.g. `--oidc-provider`.
    pub flag: &'static str,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl std::fmt::Display for FlagProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.flag, self.message)
    }
}

/// Settings that parsed, waiting for the account (known only once STS answered).
#[derive(Clone, Debug)]
pub struct ParsedFlags(OperatorEnv);

impl EnvFlags<'_> {
    /// Every problem of the settings at once, or the parsed settings.
    pub fn parse(&self) -> Result<ParsedFlags, Vec<FlagProblem>> {
        let mut problems = Vec::new();
        let mut problem = |flag, message: String| problems.push(FlagProblem { flag, message });
        if let Err(why) = rules::cluster_name(self.cluster) {
            problem("--cluster-name", why);
        }
        let oidc = OidcProvider::parse(self.oidc_provider)
            .map_err(|e| problem("--oidc-provider", e.to_string()))
            .ok();
        let image = self.endpoint_image.trim();
        if image.is_empty() || image.contains(char::is_whitespace) {
            problem(
                "--endpoint-image",
                format!(
                    "'{image}' is not an image reference: use e.g. registry.example.com/liveness-operator:0.1.0"
                ),
            );
        }
        for region in self.extra_regions {
            if let Err(why) = rules::region(region) {
                problem("--extra-liveness-regions", why);
            }
        }
        for pattern in self.allowed_output_buckets {
            if let Err(why) = rules::output_bucket_pattern(pattern) {
                problem("--allowed-output-buckets", why);
            }
        }
        let mut endpoint_trusted_proxies = Vec::new();
        for raw in self.endpoint_trusted_proxies {
            match rules::proxy_network(raw) {
                Ok(net) => endpoint_trusted_proxies.push(net.to_string()),
                Err(why) => problem("--endpoint-trusted-proxies", why),
            }
        }
        let mut endpoint_env = Vec::new();
        for entry in self.endpoint_env {
            match rules::endpoint_env(entry) {
                Ok(pair) => endpoint_env.push(pair),
                Err(why) => problem("--endpoint-env", why),
            }
        }
        let mut adoptable_pools = Vec::new();
        for entry in self.adoptable_pools {
            let (namespace, pool_id) = match entry.split_once('/') {
                Some((ns, id)) => (Some(ns.to_string()), id),
                None => (None, entry.as_str()),
            };
            match rules::identity_pool_id(pool_id) {
                Ok(id) => adoptable_pools.push(AdoptablePool {
                    namespace,
                    pool_id: id.to_string(),
                }),
                Err(why) => problem(
                    "--adoptable-pools",
                    format!("entry '{entry}': {why} (an entry is [<namespace>/]<pool-id>)"),
                ),
            }
        }
        match oidc {
            Some(oidc_provider) if problems.is_empty() => Ok(ParsedFlags(OperatorEnv {
                cluster: self.cluster.to_string(),
                oidc_provider,
                endpoint_image: image.to_string(),
                extra_regions: self.extra_regions.to_vec(),
                adoptable_pools,
                allowed_output_buckets: self.allowed_output_buckets.to_vec(),
                endpoint_trusted_proxies,
                endpoint_env,
                account: AwsAccount {
                    account_id: String::new(),
                    partition: String::new(),
                },
            })),
            _ => Err(problems),
        }
    }
}

impl ParsedFlags {
    /// The environment, once the account is known.
    pub fn with_account(self, account: AwsAccount) -> OperatorEnv {
        OperatorEnv { account, ..self.0 }
    }
}

impl AwsAccount {
    /// An account given by flags (`plan --account-id --partition`), checked.
    pub fn parse(account_id: &str, partition: &str) -> Result<Self, Vec<FlagProblem>> {
        let mut problems = Vec::new();
        if account_id.len() != 12 || !account_id.bytes().all(|b| b.is_ascii_digit()) {
            problems.push(FlagProblem {
                flag: "--account-id",
                message: format!("'{account_id}' is not an AWS account id: use its 12 digits"),
            });
        }
        let partition_ok = partition
            .strip_prefix("aws")
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('-'))
            && partition
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '-');
        if !partition_ok {
            problems.push(FlagProblem {
                flag: "--partition",
                message: format!(
                    "'{partition}' is not an AWS partition: use aws, aws-cn or aws-us-gov"
                ),
            });
        }
        if problems.is_empty() {
            Ok(Self {
                account_id: account_id.into(),
                partition: partition.into(),
            })
        } else {
            Err(problems)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags<'a>(oidc: &'a str, cluster: &'a str, extra: &'a [String]) -> EnvFlags<'a> {
        EnvFlags {
            cluster,
            oidc_provider: oidc,
            endpoint_image: "liveness-operator:0.1.0",
            extra_regions: extra,
            adoptable_pools: &[],
            allowed_output_buckets: &[],
            endpoint_trusted_proxies: &[],
            endpoint_env: &[],
        }
    }

    #[test]
    fn a_malformed_oidc_provider_is_refused_by_its_flag() {
        let problems = flags("https://not a provider/", "default", &[])
            .parse()
            .unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].flag, "--oidc-provider");
        assert!(problems[0].message.contains("not an IAM OIDC provider"));
    }

    #[test]
    fn every_bad_setting_is_reported_at_once() {
        let extra = vec!["Mars".to_string()];
        let problems = flags("", "Prod_1", &extra).parse().unwrap_err();
        let named: Vec<_> = problems.iter().map(|p| p.flag).collect();
        assert_eq!(
            named,
            [
                "--cluster-name",
                "--oidc-provider",
                "--extra-liveness-regions"
            ]
        );
    }

    #[test]
    fn endpoint_trusted_proxies_are_checked_and_made_canonical() {
        let oidc = "oidc.eks.us-east-1.amazonaws.com/id/X";
        let proxies = vec!["10.1.2.3/8".to_string(), " 192.0.2.7 ".into()];
        let env = EnvFlags {
            endpoint_trusted_proxies: &proxies,
            ..flags(oidc, "prod", &[])
        }
        .parse()
        .unwrap()
        .with_account(AwsAccount::parse("111122223333", "aws").unwrap());
        assert_eq!(env.endpoint_trusted_proxies, ["10.0.0.0/8", "192.0.2.7/32"]);

        let bad = vec!["10.0.0.0/33".to_string()];
        let problems = EnvFlags {
            endpoint_trusted_proxies: &bad,
            ..flags(oidc, "prod", &[])
        }
        .parse()
        .unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].flag, "--endpoint-trusted-proxies");
        assert!(problems[0].message.contains("'10.0.0.0/33' is not a CIDR"));
    }

    #[test]
    fn endpoint_env_takes_names_and_values_but_not_the_endpoints_own_settings() {
        let oidc = "oidc.eks.us-east-1.amazonaws.com/id/X";
        let entries = vec![
            "HTTPS_PROXY=http://proxy.internal:3128".to_string(),
            "NO_PROXY=169.254.169.254,.svc".into(),
        ];
        let env = EnvFlags {
            endpoint_env: &entries,
            ..flags(oidc, "prod", &[])
        }
        .parse()
        .unwrap()
        .with_account(AwsAccount::parse("111122223333", "aws").unwrap());
        assert_eq!(
            env.endpoint_env,
            [
                ("HTTPS_PROXY".into(), "http://proxy.internal:3128".into()),
                ("NO_PROXY".into(), "169.254.169.254,.svc".into())
            ]
        );
        let bad = vec![
            "LIVENESS_AUTH=none".to_string(),
            "no-equals".into(),
            "1X=y".into(),
        ];
        let problems = EnvFlags {
            endpoint_env: &bad,
            ..flags(oidc, "prod", &[])
        }
        .parse()
        .unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems.iter().all(|p| p.flag == "--endpoint-env"));
        assert!(
            problems[0].message.contains("LIVENESS_AUTH"),
            "{}",
            problems[0]
        );
        assert!(
            problems[0].message.contains("LivenessApp"),
            "{}",
            problems[0]
        );
    }

    #[test]
    fn good_settings_parse_and_take_the_account() {
        let env = flags(
            "https://oidc.eks.us-east-1.amazonaws.com/id/X/",
            "prod",
            &[],
        )
        .parse()
        .unwrap()
        .with_account(AwsAccount::parse("111122223333", "aws-cn").unwrap());
        assert_eq!(
            env.oidc_provider.host_path(),
            "oidc.eks.us-east-1.amazonaws.com/id/X"
        );
        assert_eq!(env.account.partition, "aws-cn");
        assert!(AwsAccount::parse("1234", "azure").unwrap_err().len() == 2);
    }
}
