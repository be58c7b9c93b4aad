//! Leader election on a `coordination.k8s.io/v1` Lease, so that with several operator
//! replicas exactly one reconciles.
//!
//! **Expiry is judged on this replica's monotonic clock, never on the wall clock.** The
//! holder's `renewTime` was written with the holder's wall clock, and replicas' clocks may
//! disagree by any amount; comparing it with our own `now` would let a replica whose clock runs
//! ahead steal a live lease (or one whose clock lags wait forever). So, like client-go, a
//! candidate remembers the last lease it read (resourceVersion and spec) and the
//! [`tokio::time::Instant`] at which it first saw that version ([`LeaseObserver`]). The lease
//! is expired only when it has not changed for longer than its `leaseDurationSeconds`,
//! measured on that monotonic clock. Consequences: a lease nobody holds is free at once; a
//! candidate that sees a held lease for the first time waits a full duration before taking it
//! over; any write by the holder (each renewal) restarts the count.
//!
//! Every write is a replace carrying the resourceVersion that was read: of two candidates
//! racing for an expired lease, the apiserver lets one win and answers 409 Conflict to the
//! other. The leader starts its own count *before* sending a renewal (a standby can only see
//! the renewal after that) and stops leading one retry period before the lease would run out
//! unrenewed (the caller exits), so a standby never takes over while the old leader still
//! leads, whatever the wall clocks say.
//!
//! Errors: while waiting for leadership ([`LeaderElector::acquire`]), transient errors (no
//! answer, timeouts, 5xx, 429, 408) are logged and retried after the retry period. An answer
//! that retrying cannot change — any other 4xx, above all 403 Forbidden (RBAC for Leases is
//! missing) and 401, or a request that cannot even be built — is logged with a hint and
//! returned, so the process exits visibly instead of standing by forever.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::Timestamp;
use kube::api::{ObjectMeta, PostParams};
use kube::{Api, Client};
use tokio::time::Instant;

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

/// Decides, from successive reads of a Lease, whether its holder stopped renewing: the pure
/// part of the election, on the local monotonic clock only (see the module documentation).
#[derive(Debug)]
pub struct LeaseObserver {
    /// The last lease read (resourceVersion, spec) and when it was first read in that state.
    last: Option<((Option<String>, LeaseSpec), Instant)>,
    /// The duration used when the lease does not state one.
    default_duration: Duration,
}

impl LeaseObserver {
    /// An observer that has seen nothing yet.
    pub fn new(default_duration: Duration) -> Self {
        Self {
            last: None,
            default_duration,
        }
    }

    /// Records `lease` as read at `now`; true when it is free to take: nobody holds it, or it
    /// has not changed for longer than its duration.
    pub fn observe(&mut self, lease: &Lease, now: Instant) -> bool {
        let record = (
            lease.metadata.resource_version.clone(),
            lease.spec.clone().unwrap_or_default(),
        );
        let unchanged_since = match &self.last {
            Some((seen, since)) if *seen == record => *since,
            _ => now,
        };
        let duration = record
            .1
            .lease_duration_seconds
            .filter(|secs| *secs > 0)
            .map_or(self.default_duration, |secs| {
                Duration::from_secs(secs as u64)
            });
        let unheld = record.1.holder_identity.as_deref().unwrap_or("").is_empty();
        self.last = Some((record, unchanged_since));
        unheld || now.saturating_duration_since(unchanged_since) > duration
    }
}

/// Whether a failed lease request may succeed when repeated later (see the module docs).
fn is_transient(error: &kube::Error) -> bool {
    use kube::Error as E;
    match error {
        E::Api(status) => !(400..500).contains(&status.code) || matches!(status.code, 408 | 429),
        E::BuildRequest(_)
        | E::HttpError(_)
        | E::InferConfig(_)
        | E::InferKubeconfig(_)
        | E::TlsRequired
        | E::ProxyProtocolUnsupported { .. }
        | E::ProxyProtocolDisabled { .. } => false,
        _ => true,
    }
}

/// Holds (or tries to hold) one Lease.
pub struct LeaderElector {
    api: Api<Lease>,
    config: LeaseConfig,
    state: Mutex<State>,
}

struct State {
    observer: LeaseObserver,
    /// When the last round that left this replica holding the lease started.
    held_since: Option<Instant>,
}

impl LeaderElector {
    /// An elector for `config`, using `client`.
    pub fn new(client: Client, config: LeaseConfig) -> Self {
        Self {
            api: Api::namespaced(client, &config.namespace),
            state: Mutex::new(State {
                observer: LeaseObserver::new(config.duration),
                held_since: None,
            }),
            config,
        }
    }

    /// Blocks until this replica holds the lease. Transient errors are logged and retried;
    /// an error retrying cannot fix (such as 403 Forbidden: RBAC missing) is returned.
    pub async fn acquire(&self) -> Result<(), kube::Error> {
        let (lease, holder) = (&self.config.name, &self.config.holder);
        loop {
            match tokio::time::timeout(self.config.duration, self.try_acquire_or_renew()).await {
                Ok(Ok(true)) => {
                    tracing::info!(%lease, %holder, "became leader");
                    return Ok(());
                }
                Ok(Ok(false)) => {}
                Ok(Err(error)) if is_transient(&error) => {
                    tracing::warn!(%error, %lease, "lease request failed; retrying");
                }
                Ok(Err(error)) => {
                    let hint = match &error {
                        kube::Error::Api(s) if s.code == 403 => {
                            "RBAC: the operator needs get, create and update on \
                             leases.coordination.k8s.io in this namespace"
                        }
                        _ => "retrying cannot fix this",
                    };
                    let namespace = &self.config.namespace;
                    tracing::error!(%error, %lease, %namespace, "lease request refused; {hint}");
                    return Err(error);
                }
                Err(_) => tracing::warn!(%lease, "lease request timed out; retrying"),
            }
            tokio::time::sleep(self.config.retry).await;
        }
    }

    /// Renews the lease until renewal fails for longer than the lease lasts, then returns:
    /// from then on another replica may lead, so the caller must stop reconciling.
    ///
    /// Renews every retry period (at least three times per lease duration); after a failed
    /// attempt it tries again four times as often. It gives up one period before the lease,
    /// counted from the start of the last successful renewal, would run out.
    pub async fn keep_renewing(&self) {
        let period = self.config.retry.min(self.config.duration / 3);
        let mut held_since = self.state().held_since.unwrap_or_else(Instant::now);
        let mut pause = period;
        loop {
            let deadline = held_since + (self.config.duration - period);
            let wake = Instant::now() + pause;
            if wake >= deadline {
                tracing::error!(lease = %self.config.name, "could not renew the lease in time");
                return;
            }
            tokio::time::sleep_until(wake).await;
            let started = Instant::now();
            match tokio::time::timeout_at(deadline, self.try_acquire_or_renew()).await {
                Ok(Ok(true)) => (held_since, pause) = (started, period),
                Ok(Ok(false)) => {
                    tracing::error!(lease = %self.config.name, "lease taken by another replica");
                    return;
                }
                Ok(Err(error)) => {
                    tracing::warn!(%error, "could not renew the lease");
                    pause = period / 4;
                }
                Err(_) => tracing::warn!("renewing the lease timed out"),
            }
        }
    }

    /// Gives the lease up so a standby takes over at once (on graceful shutdown).
    pub async fn release(&self) {
        let released = async {
            let mut lease = self.api.get(&self.config.name).await?;
            let spec = lease.spec.get_or_insert_with(Default::default);
            if spec.holder_identity.as_deref() == Some(self.config.holder.as_str()) {
                spec.holder_identity = None;
                spec.renew_time = None;
                self.api
                    .replace(&self.config.name, &PostParams::default(), &lease)
                    .await?;
            }
            Ok::<_, kube::Error>(())
        };
        match tokio::time::timeout(self.config.retry, released).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(%error, "could not release the lease"),
            Err(_) => tracing::warn!("releasing the lease timed out"),
        }
    }

    /// One round: true when this replica holds the lease afterwards.
    pub async fn try_acquire_or_renew(&self) -> Result<bool, kube::Error> {
        let started = Instant::now();
        let now = MicroTime(Timestamp::now());
        let Some(mut lease) = self.api.get_opt(&self.config.name).await? else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.config.name.clone()),
                    ..Default::default()
                },
                spec: Some(self.spec_for_new_term(now, 0)),
            };
            let created = self.api.create(&PostParams::default(), &lease).await;
            return self.won(started, created, &[409]);
        };
        let free = self.state().observer.observe(&lease, Instant::now());
        let spec = lease.spec.clone().unwrap_or_default();
        if spec.holder_identity.as_deref() == Some(self.config.holder.as_str()) {
            lease.spec = Some(LeaseSpec {
                renew_time: Some(now),
                lease_duration_seconds: Some(self.duration_secs()),
                ..spec
            });
        } else if free {
            let transitions = spec.lease_transitions.unwrap_or(0) + 1;
            lease.spec = Some(self.spec_for_new_term(now, transitions));
        } else {
            return Ok(false);
        }
        // `lease` still carries the resourceVersion we read: a concurrent writer makes this 409.
        let replaced = self
            .api
            .replace(&self.config.name, &PostParams::default(), &lease)
            .await;
        // 404: the lease was deleted meanwhile and anyone may be creating it: not ours either.
        self.won(started, replaced, &[404, 409])
    }

    /// Maps the answer to a write of this round: true for the lease we wrote, false for an
    /// answer in `lost` (another replica wrote first).
    fn won(
        &self,
        started: Instant,
        written: Result<Lease, kube::Error>,
        lost: &[u16],
    ) -> Result<bool, kube::Error> {
        match written {
            Ok(lease) => {
                let mut state = self.state();
                state.observer.observe(&lease, Instant::now());
                state.held_since = Some(started);
                Ok(true)
            }
            Err(kube::Error::Api(status)) if lost.contains(&status.code) => Ok(false),
            Err(error) => Err(error),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
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
        self.config.duration.as_secs().clamp(1, i32::MAX as u64) as i32
    }
}

#[cfg(test)]
mod tests;
