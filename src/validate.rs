//! A LivenessApp → a [`ValidatedApp`], or every problem with its field path and a fix.
//!
//! Parse, don't validate: [`validate`] is the only way to get a [`ValidatedApp`], and the
//! plan ([`crate::plan`]) accepts nothing else, so no plan is ever built from a spec that
//! was not checked. The apiserver enforces the OpenAPI schema, but not every cluster
//! enforces the CEL rules (1.25+ do) and some rules need operator settings (extra
//! regions), so the controller runs this before any AWS call: an invalid LivenessApp
//! touches nothing in AWS. Each rule itself is defined once, in [`crate::rules`].
//! Pure: no clients, no I/O.

use std::collections::HashSet;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::Resource;

mod auth;
mod expose;

pub use expose::{Exposure, Route};

use std::time::Duration;

use crate::contract::AuthSettings;
use crate::crd::{Challenge, DeletionPolicy, IdentityPoolSpec, LivenessApp, OutputSpec};
use crate::env::OperatorEnv;
use crate::ids::PoolId;
use crate::names::AppIdentity;
use crate::{regions, rules};

/// One thing wrong with a LivenessApp.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Field path, e.g. `spec.endpoint.allowedOrigins[1]`.
    pub path: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// A LivenessApp whose every field was checked; the only input of the plan.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidatedApp {
    /// Cluster, namespace and name: every AWS and Kubernetes name derives from it.
    pub identity: AppIdentity,
    /// metadata.uid: the owner tag on AWS objects.
    pub uid: String,
    /// The controller owner reference every child object carries.
    pub owner: OwnerReference,
    /// The Face Liveness region.
    pub region: String,
    /// What happens to AWS objects on deletion.
    pub deletion_policy: DeletionPolicy,
    /// The identity pool.
    pub pool: ValidatedPool,
    /// The endpoint.
    pub endpoint: ValidatedEndpoint,
}

impl ValidatedApp {
    /// The URL browsers reach the endpoint at: the public URL when exposed, else the
    /// Service's in-cluster URL.
    pub fn endpoint_url(&self) -> String {
        match &self.endpoint.exposure {
            Some(exposure) => exposure.public_url.clone(),
            None => self.identity.endpoint_url(),
        }
    }
}

/// The identity pool, created or adopted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatedPool {
    /// Create a pool or adopt an existing one.
    pub mode: PoolMode,
    /// Whether guests may start a check (a guest role is linked).
    pub allow_unauthenticated: bool,
    /// Cognito user pool app clients trusted by a created pool.
    pub providers: Vec<CognitoProvider>,
}

/// Whether the operator owns the pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PoolMode {
    /// Create (or find by owner tag) a pool; its settings are enforced; deleted on Delete.
    Create,
    /// Use this pool; only the role links are managed; never deleted.
    Adopt(PoolId),
}

/// A Cognito user pool app client trusted by the identity pool.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct CognitoProvider {
    /// `cognito-idp.<region>.amazonaws.com/<userPoolId>`.
    pub provider_name: String,
    /// App client id.
    pub client_id: String,
}

/// The endpoint's checked settings.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidatedEndpoint {
    /// Number of endpoint pods.
    pub replicas: i32,
    /// Minimum confidence for `isLive`.
    pub confidence_threshold: f64,
    /// Canonical browser origins.
    pub allowed_origins: Vec<String>,
    /// Audit images per session.
    pub audit_images_limit: i32,
    /// Where session images are stored.
    pub output: Option<OutputSpec>,
    /// The route browsers reach the endpoint through, and its public URL.
    pub exposure: Option<Exposure>,
    /// Challenge preferences, in order.
    pub challenges: Vec<Challenge>,
    /// Who may call the endpoint (the contract's own type).
    pub auth: AuthSettings,
    /// Whether the browser gets the confidence score.
    pub expose_confidence: bool,
    /// How often the verdict signing key is replaced.
    pub verdict_key_rotation: Duration,
}

/// Every problem of `app`, or the app in validated form.
pub fn validate(app: &LivenessApp, env: &OperatorEnv) -> Result<ValidatedApp, Vec<Problem>> {
    let mut p = Problems::default();
    let meta = &app.metadata;
    let name = p.required(meta.name.as_deref(), "metadata.name");
    let namespace = p.required(meta.namespace.as_deref(), "metadata.namespace");
    let uid = p.required(meta.uid.as_deref(), "metadata.uid");
    let spec = &app.spec;
    if spec.region.is_empty() {
        p.rule("spec.region", rules::region(&spec.region));
    } else if !regions::is_liveness_region(&spec.region, &env.extra_regions) {
        p.add(
            "spec.region",
            format!(
                "'{}' does not offer Rekognition Face Liveness: use one of {} (if AWS has added it, start the operator with --extra-liveness-regions {})",
                spec.region,
                regions::known_regions(&env.extra_regions).join(", "),
                spec.region
            ),
        );
    }
    check_region_unchanged(app, &mut p);
    let pool = check_identity_pool(&spec.identity_pool, &spec.region, &mut p);
    let endpoint = &spec.endpoint;
    let replicas = p.rule(
        "spec.endpoint.replicas",
        rules::replicas(endpoint.replicas.into()),
    );
    let confidence_threshold = p.rule(
        "spec.endpoint.confidenceThreshold",
        rules::confidence_threshold(endpoint.confidence_threshold),
    );
    let allowed_origins = check_origins(&endpoint.allowed_origins, &mut p);
    let audit_images_limit = p.rule(
        "spec.endpoint.auditImagesLimit",
        rules::audit_images_limit(endpoint.audit_images_limit.into()),
    );
    if let Some(output) = &endpoint.output {
        let namespace = meta.namespace.as_deref().unwrap_or_default();
        check_output(output, &spec.region, namespace, env, &mut p);
    }
    let exposure = match &endpoint.expose {
        Some(expose) => expose::check_expose(expose, &mut p).map(Some),
        None => Some(None),
    };
    let challenges = expose::check_challenges(&endpoint.challenges, &mut p);
    let auth = auth::check_auth(
        endpoint.auth.as_ref(),
        spec.identity_pool.user_pool.as_ref(),
        &mut p,
    );
    let verdict_key_rotation = match &endpoint.verdict_key_rotation {
        Some(period) => p.rule(
            "spec.endpoint.verdictKeyRotation",
            rules::key_rotation(period),
        ),
        None => Some(rules::DEFAULT_VERDICT_KEY_ROTATION),
    };
    let owner = app.controller_owner_ref(&()).map(|mut owner| {
        // Foreground deletion of the app waits for its objects.
        owner.block_owner_deletion = Some(true);
        owner
    });
    let (
        Some(name),
        Some(namespace),
        Some(uid),
        Some(pool),
        Some(replicas),
        Some(confidence_threshold),
        Some(audit_images_limit),
        Some(owner),
        Some(exposure),
        Some(auth),
        Some(verdict_key_rotation),
    ) = (
        name,
        namespace,
        uid,
        pool,
        replicas,
        confidence_threshold,
        audit_images_limit,
        owner,
        exposure,
        auth,
        verdict_key_rotation,
    )
    else {
        return Err(p.0);
    };
    if !p.0.is_empty() {
        return Err(p.0);
    }
    Ok(ValidatedApp {
        identity: AppIdentity {
            cluster: env.cluster.clone(),
            namespace: namespace.into(),
            name: name.into(),
        },
        uid: uid.into(),
        owner,
        region: spec.region.clone(),
        deletion_policy: spec.deletion_policy,
        pool,
        endpoint: ValidatedEndpoint {
            replicas,
            confidence_threshold,
            allowed_origins,
            audit_images_limit,
            output: endpoint.output.clone(),
            exposure,
            challenges,
            auth,
            expose_confidence: endpoint.expose_confidence,
            verdict_key_rotation,
        },
    })
}

#[derive(Default)]
struct Problems(Vec<Problem>);

impl Problems {
    fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem {
            path: path.into(),
            message: message.into(),
        });
    }

    fn rule<T>(&mut self, path: &str, checked: Result<T, String>) -> Option<T> {
        checked.map_err(|why| self.add(path, why)).ok()
    }

    fn required<'a>(&mut self, value: Option<&'a str>, path: &str) -> Option<&'a str> {
        if value.is_none() {
            self.add(path, "is missing: the apiserver sets it; apply the LivenessApp to a cluster (or give it in the file for an offline plan)");
        }
        value
    }
}

/// CEL keeps spec.region immutable on 1.25+; on older clusters the status remembers.
fn check_region_unchanged(app: &LivenessApp, p: &mut Problems) {
    let recorded = app
        .status
        .as_ref()
        .and_then(|s| s.identity_pool_id.as_deref());
    if let Some(pool_id) = recorded {
        let pool_region = rules::pool_region(pool_id);
        if pool_region != app.spec.region {
            p.add(
                "spec.region",
                format!(
                    "is immutable: this app's identity pool {pool_id} is in {pool_region}; set spec.region back to {pool_region}, or create a new LivenessApp for {}",
                    app.spec.region
                ),
            );
        }
    }
}

fn check_identity_pool(
    pool: &IdentityPoolSpec,
    region: &str,
    p: &mut Problems,
) -> Option<ValidatedPool> {
    let mode = match &pool.existing_pool_id {
        None => Some(PoolMode::Create),
        Some(id) => {
            let path = "spec.identityPool.existingPoolId";
            match PoolId::parse(id) {
                Err(_) => {
                    p.rule::<()>(path, rules::identity_pool_id(id).map(drop));
                    None
                }
                Ok(_) if rules::pool_region(id) != region => {
                    p.add(path, format!("'{id}' is in {} but spec.region is {region}: adopt a pool in {region} (sessions created in one region cannot be streamed to another)", rules::pool_region(id)));
                    None
                }
                Ok(parsed) => Some(PoolMode::Adopt(parsed)),
            }
        }
    };
    let mut providers = Vec::new();
    if let Some(user_pool) = &pool.user_pool {
        let name = p.rule(
            "spec.identityPool.userPool.providerName",
            rules::user_pool_provider(&user_pool.provider_name, region),
        );
        let client = p.rule(
            "spec.identityPool.userPool.clientId",
            rules::user_pool_client_id(&user_pool.client_id),
        );
        if let (Some(provider_name), Some(client_id)) = (name, client) {
            providers.push(CognitoProvider {
                provider_name: provider_name.into(),
                client_id: client_id.into(),
            });
        }
    }
    if pool.existing_pool_id.is_none() && pool.user_pool.is_none() && !pool.allow_unauthenticated {
        p.add(
            "spec.identityPool",
            "no browser could get credentials from the new pool: set userPool for signed-in users, allowUnauthenticated: true for guests, or existingPoolId to adopt a configured pool",
        );
        return None;
    }
    Some(ValidatedPool {
        mode: mode?,
        allow_unauthenticated: pool.allow_unauthenticated,
        providers,
    })
}

fn check_origins(origins: &[String], p: &mut Problems) -> Vec<String> {
    if origins.len() > rules::MAX_ALLOWED_ORIGINS {
        p.add(
            "spec.endpoint.allowedOrigins",
            format!(
                "{} origins listed: allow at most {}",
                origins.len(),
                rules::MAX_ALLOWED_ORIGINS
            ),
        );
    }
    let mut seen = HashSet::new();
    let mut canonical = Vec::new();
    for (i, origin) in origins.iter().enumerate() {
        let path = format!("spec.endpoint.allowedOrigins[{i}]");
        if let Some(origin) = p.rule(&path, rules::origin(origin, true)) {
            if seen.insert(origin.clone()) {
                canonical.push(origin);
            } else {
                p.add(
                    path,
                    format!("'{origin}' is listed twice: remove the duplicate"),
                );
            }
        }
    }
    canonical
}

fn check_output(
    output: &OutputSpec,
    region: &str,
    namespace: &str,
    env: &OperatorEnv,
    p: &mut Problems,
) {
    let bucket = p.rule(
        "spec.endpoint.output.s3Bucket",
        rules::s3_bucket(&output.s3_bucket),
    );
    let patterns = &env.allowed_output_buckets;
    if let Some(bucket) = bucket
        && !patterns.is_empty()
        && !rules::output_bucket_allowed(bucket, namespace, patterns)
    {
        let allowed: Vec<String> = patterns
            .iter()
            .map(|pattern| pattern.replace("{namespace}", namespace))
            .collect();
        p.add(
            "spec.endpoint.output.s3Bucket",
            format!(
                "'{bucket}' is not a bucket apps of namespace {namespace} may use: the operator allows {} (--allowed-output-buckets); pick one of those, or ask the platform team",
                allowed.join(", ")
            ),
        );
    }
    if let Some(prefix) = &output.s3_key_prefix {
        p.rule(
            "spec.endpoint.output.s3KeyPrefix",
            rules::s3_key_prefix(prefix),
        );
    }
    if let Some(key) = &output.kms_key_id {
        p.rule(
            "spec.endpoint.output.kmsKeyId",
            rules::kms_key(key, region, Some(&env.account.account_id)),
        );
    }
}

/// What deletion needs of an app whose current spec may no longer validate: the objects
/// were made for the recorded region and pool, and their names derive from the identity,
/// so endpoint settings and user pools play no part. `None` when nothing can have been
/// provisioned: no pool was recorded and the spec never validated (no AWS call was made).
pub fn for_cleanup(
    app: &LivenessApp,
    env: &OperatorEnv,
) -> Option<Result<ValidatedApp, Vec<Problem>>> {
    let status = app.status.clone().unwrap_or_default();
    let recorded_pool = status.identity_pool_id.clone();
    if recorded_pool.is_none() && validate(app, env).is_err() {
        return None;
    }
    let mut recorded = app.clone();
    recorded.status = None;
    let pool = &mut recorded.spec.identity_pool;
    if let Some(pool_id) = recorded_pool {
        recorded.spec.region = rules::pool_region(&pool_id).to_string();
        pool.existing_pool_id = status
            .identity_pool_adopted
            .unwrap_or(false)
            .then_some(pool_id);
    }
    pool.user_pool = None;
    pool.allow_unauthenticated = true;
    recorded.spec.endpoint = crate::crd::EndpointSpec {
        // Deletion needs no caller rules; any choice validates.
        auth: Some(crate::crd::AuthSpec {
            mode: Some(crate::crd::AuthMode::None),
            ..Default::default()
        }),
        ..Default::default()
    };
    Some(validate(&recorded, env))
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
