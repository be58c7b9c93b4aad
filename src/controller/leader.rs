//! Leader election on a `coordination.k8s.io/v1` Lease, so that with several operator
//! replicas exactly one reconciles.
//!
//! Every write is a replace carrying the resourceVersion that was read: of two candidates
//! racing for an expired lease, the apiserver lets one win and answers 409 Conflict to the
//! other. A leader that cannot renew before its lease runs out stops leading (the caller
//! exits), so two leaders never overlap by more than clock skew.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::{ObjectMeta, PostParams};
use kube::{Api, Client};

/// Settings of one election.
#[derive(Clone, Debug)]
pub struct LeaseConfig {
    /// Namespace of the Lease.
    pub namespace: String,
    /// Name of the Lease.
    pub name: String,
    /// This replica's identity (pod name).
    pub holder: String,
    /// How long a lease is valid without renewal; a standby takes over after this.
    pub duration: Duration,
    /// How often the leader renews and a standby retries.
    pub retry: Duration,
}

/// Holds (or tries to hold) one Lease.
pub struct LeaderElector {
    api: Api<Lease>,
    config: LeaseConfig,
}

impl LeaderElector {
    /// An elector for `config`, using `client`.
    pub fn new(client: Client, config: LeaseConfig) -> Self {
        Self {
            api: Api::namespaced(client, &config.namespace),
            config,
        }
    }

    /// Blocks until this replica holds the lease.
    pub async fn acquire(&self) -> Result<(), kube::Error> {
        loop {
            if self.try_acquire_or_renew().await? {
                tracing::info!(lease = %self.config.name, holder = %self.config.holder, "became leader");
                return Ok(());
            }
            tokio::time::sleep(self.config.retry).await;
        }
    }

    /// Renews the lease until renewal fails for longer than the lease lasts, then returns:
    /// from then on another replica may lead, so the caller must stop reconciling.
    pub async fn keep_renewing(&self) {
        let mut last_renewal = tokio::time::Instant::now();
        loop {
            tokio::time::sleep(self.config.retry).await;
            match self.try_acquire_or_renew().await {
                Ok(true) => last_renewal = tokio::time::Instant::now(),
                Ok(false) => {
                    tracing::error!(lease = %self.config.name, "lease taken by another replica");
                    return;
                }
                Err(error) => {
                    tracing::warn!(%error, "could not renew the lease");
                    // Give up a little before expiry so the next leader never overlaps.
                    if last_renewal.elapsed() + self.config.retry >= self.config.duration {
                        return;
                    }
                }
            }
        }
    }

    /// Gives the lease up so a standby takes over at once (on graceful shutdown).
    pub async fn release(&self) {
        if let Ok(mut lease) = self.api.get(&self.config.name).await {
            let spec = lease.spec.get_or_insert_with(Default::default);
            if spec.holder_identity.as_deref() == Some(self.config.holder.as_str()) {
                spec.holder_identity = None;
                spec.renew_time = None;
                let _ = self
                    .api
                    .replace(&self.config.name, &PostParams::default(), &lease)
                    .await;
            }
        }
    }

    /// One round: true when this replica holds the lease afterwards.
    pub async fn try_acquire_or_renew(&self) -> Result<bool, kube::Error> {
        let now = MicroTime(Timestamp::now());
        let existing = self.api.get_opt(&self.config.name).await?;
        let Some(mut lease) = existing else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.config.name.clone()),
                    ..Default::default()
                },
                spec: Some(self.spec_for_new_term(now, 0)),
            };
            return conflict_is_false(self.api.create(&PostParams::default(), &lease).await);
        };
        let spec = lease.spec.clone().unwrap_or_default();
        let ours = spec.holder_identity.as_deref() == Some(self.config.holder.as_str());
        if ours {
            let renewed = LeaseSpec {
                renew_time: Some(now),
                lease_duration_seconds: Some(self.duration_secs()),
                ..spec
            };
            lease.spec = Some(renewed);
        } else if is_free(&spec) {
            let transitions = spec.lease_transitions.unwrap_or(0) + 1;
            lease.spec = Some(self.spec_for_new_term(now, transitions));
        } else {
            return Ok(false);
        }
        // `lease` still carries the resourceVersion we read: a concurrent writer makes this 409.
        conflict_is_false(
            self.api
                .replace(&self.config.name, &PostParams::default(), &lease)
                .await,
        )
    }

    fn spec_for_new_term(&self, now: MicroTime, transitions: i32) -> LeaseSpec {
        LeaseSpec {
            holder_identity: Some(self.config.holder.clone()),
            acquire_time: Some(now.clone()),
            renew_time: Some(now),
            lease_duration_seconds: Some(self.duration_secs()),
            lease_transitions: Some(transitions),
            ..Default::default()
        }
    }

    fn duration_secs(&self) -> i32 {
        self.config.duration.as_secs().max(1) as i32
    }
}

/// A lease nobody holds, or whose holder stopped renewing.
fn is_free(spec: &LeaseSpec) -> bool {
    let (Some(_), Some(renewed)) = (&spec.holder_identity, &spec.renew_time) else {
        return true;
    };
    let duration = SignedDuration::from_secs(spec.lease_duration_seconds.unwrap_or(0).into());
    renewed.0 + duration < Timestamp::now()
}

fn conflict_is_false(result: Result<Lease, kube::Error>) -> Result<bool, kube::Error> {
    match result {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(holder: Option<&str>, renewed_secs_ago: i64, duration: i32) -> LeaseSpec {
        LeaseSpec {
            holder_identity: holder.map(str::to_string),
            renew_time: Some(MicroTime(
                Timestamp::now() - SignedDuration::from_secs(renewed_secs_ago),
            )),
            lease_duration_seconds: Some(duration),
            ..Default::default()
        }
    }

    #[test]
    fn a_lease_is_free_only_when_unheld_or_expired() {
        assert!(!is_free(&spec(Some("a"), 5, 15)));
        assert!(is_free(&spec(Some("a"), 16, 15)));
        assert!(is_free(&spec(None, 0, 15)));
        assert!(is_free(&LeaseSpec::default()));
    }
}
