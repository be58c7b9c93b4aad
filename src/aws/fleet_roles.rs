//! One bulk read of every role under the operator's IAM path, shared by every app's drift
//! check for a while, instead of four reads per role per app.
//!
//! `GetAccountAuthorizationDetails` (roles only, all pages) returns each role with its trust
//! policy, tags, inline policies and attached managed policies. The read is taken at most
//! once per `max_age` for the whole fleet (one caller fetches, concurrent ones wait for it)
//! and used only to prove a role *in sync*: a role that differs, is missing, or was written
//! by this process since the read began is read again one call at a time before anything is
//! written, so a stale read can delay a drift check by up to `max_age`, never cause a write.
//!
//! Off (every role read directly) unless [`FleetRoles::new`] is given a `max_age`, and when
//! the bulk read fails (say, the operator's policy does not allow it): the pass then reads
//! each role as before, and the bulk read is tried again after `max_age`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::iam::ObservedRole;
use crate::fingerprint::Fingerprint;
use crate::plan::policy::DocumentDigest;

/// The bulk read: each role's facts, by [`role_key`] of its name.
pub(crate) type Roles = HashMap<Fingerprint, RoleFacts>;

/// The key of role `name` in [`Roles`]. Were two names to share one, a role would be
/// compared with the other's facts and found out of sync: read again, never written.
pub(crate) fn role_key(name: &str) -> Fingerprint {
    Fingerprint::of([name])
}

/// A role as the bulk read reports it, kept as the facts that proving it in sync compares,
/// each a fingerprint: a few hundred bytes a role where its strings, tags and policy
/// digests were 1.5 KB (heaptrack at 300 apps), and the read holds every role of the
/// cluster for a whole resync.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RoleFacts {
    /// Its ARN and path ([`RoleFacts::place`]).
    pub place: Fingerprint,
    /// Its permissions boundary's ARN ([`RoleFacts::boundary`]), when reported: AWS reports
    /// it when the role has one, so `None` means "none, or not reported" (some emulators
    /// never report it), and the boundary is then read with GetRole.
    pub boundary: Option<Fingerprint>,
    /// Its trust policy.
    pub trust: DocumentDigest,
    /// Its inline policies, names and documents ([`RoleFacts::inline`]).
    pub inline: Fingerprint,
    /// Whether any managed policy is attached.
    pub attached: bool,
    /// Each tag, key and value ([`RoleFacts::tag`]).
    pub tags: Box<[Fingerprint]>,
}

impl RoleFacts {
    /// The facts of a role read with GetRole, with the policies as the bulk read saw them.
    pub fn of_role(role: &ObservedRole, inline: Fingerprint, attached: bool) -> Self {
        RoleFacts {
            place: Self::place(&role.arn, &role.path),
            boundary: role.boundary.as_deref().map(Self::boundary),
            trust: role.trust,
            inline,
            attached,
            tags: role.tags.iter().map(|(k, v)| Self::tag(k, v)).collect(),
        }
    }

    /// The fingerprint of a role's ARN and path.
    pub fn place(arn: &str, path: &str) -> Fingerprint {
        Fingerprint::of(["place", arn, path])
    }

    /// The fingerprint of a permissions boundary's ARN.
    pub fn boundary(arn: &str) -> Fingerprint {
        Fingerprint::of(["boundary", arn])
    }

    /// The fingerprint of one tag.
    pub fn tag(key: &str, value: &str) -> Fingerprint {
        Fingerprint::of(["tag", key, value])
    }

    /// The fingerprint of a role's inline policies, in the order given (IAM lists them by
    /// name); a document that did not parse counts as none, so never as one of ours.
    pub fn inline<'a>(
        policies: impl IntoIterator<Item = (&'a str, DocumentDigest)>,
    ) -> Fingerprint {
        let policies: Vec<(&str, DocumentDigest)> = policies.into_iter().collect();
        let mut parts: Vec<&[u8]> = vec![b"inline"];
        for (name, document) in &policies {
            parts.push(name.as_bytes());
            parts.push(document.bytes().map_or(&[], |d| d.as_slice()));
        }
        Fingerprint::of(parts)
    }

    /// Whether the role carries every one of `tags`, with the same value (others' tags
    /// beside them are theirs to keep).
    pub fn has_tags(&self, tags: &BTreeMap<String, String>) -> bool {
        tags.iter()
            .all(|(k, v)| self.tags.contains(&Self::tag(k, v)))
    }
}

/// What the shared read says about one role.
#[derive(Clone, Debug)]
pub(crate) enum Seen {
    /// No usable read: read the role directly.
    Unknown,
    /// The read holds no role of that name (and this process has not written one since).
    Absent,
    /// The role as of the read.
    Present(RoleFacts),
}

struct Snapshot {
    started: Instant,
    /// `None`: the read failed; try again after `max_age`.
    roles: Option<Roles>,
}

/// The shared read and what this process wrote since.
#[derive(Default)]
pub(crate) struct FleetRoles {
    max_age: Option<Duration>,
    fetch: tokio::sync::Mutex<()>,
    current: Mutex<Option<Arc<Snapshot>>>,
    /// Role name → when this process last wrote it; entries older than the current read
    /// are dropped when a new read is taken, so this holds at most `max_age` of writes.
    written: Mutex<HashMap<String, Instant>>,
}

impl std::fmt::Debug for FleetRoles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FleetRoles")
            .field("max_age", &self.max_age)
            .finish_non_exhaustive()
    }
}

/// IAM is eventually consistent: a write shortly before a read began may not show in it.
const PROPAGATION: Duration = Duration::from_secs(5);

impl FleetRoles {
    /// Shared reads kept for `max_age`; `None` turns them off.
    pub fn new(max_age: Option<Duration>) -> Self {
        Self {
            max_age,
            ..Self::default()
        }
    }

    /// Whether shared reads are on.
    pub fn enabled(&self) -> bool {
        self.max_age.is_some()
    }

    /// Records that this process wrote (or deleted) role `name`.
    pub fn written(&self, name: &str) {
        if self.enabled() {
            lock(&self.written).insert(name.to_string(), Instant::now());
        }
    }

    /// The role `name` as of a read younger than `max_age`, taking one (with `read`) when
    /// there is none.
    pub async fn seen<F, Fut, E>(&self, name: &str, read: F) -> Seen
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Roles, E>>,
        E: std::fmt::Display,
    {
        let Some(max_age) = self.max_age else {
            return Seen::Unknown;
        };
        let snapshot = match self.fresh(max_age) {
            Some(snapshot) => snapshot,
            None => {
                let _one_reader = self.fetch.lock().await;
                match self.fresh(max_age) {
                    Some(snapshot) => snapshot,
                    None => self.take(read).await,
                }
            }
        };
        let Some(roles) = &snapshot.roles else {
            return Seen::Unknown;
        };
        let written_since = lock(&self.written)
            .get(name)
            .is_some_and(|at| *at + PROPAGATION >= snapshot.started);
        match roles.get(&role_key(name)) {
            _ if written_since => Seen::Unknown,
            Some(facts) => Seen::Present(facts.clone()),
            None => Seen::Absent,
        }
    }

    fn fresh(&self, max_age: Duration) -> Option<Arc<Snapshot>> {
        lock(&self.current)
            .as_ref()
            .filter(|s| s.started.elapsed() < max_age)
            .cloned()
    }

    async fn take<F, Fut, E>(&self, read: F) -> Arc<Snapshot>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Roles, E>>,
        E: std::fmt::Display,
    {
        let started = Instant::now();
        // The expired read goes before the new one is taken, not after: two whole reads of
        // the cluster's roles never sit in memory side by side.
        lock(&self.current).take();
        let roles = match read().await {
            Ok(roles) => Some(roles),
            Err(error) => {
                tracing::warn!(%error, "the bulk IAM read failed: reading each role directly until the next attempt");
                None
            }
        };
        let snapshot = Arc::new(Snapshot { started, roles });
        lock(&self.written).retain(|_, at| *at + PROPAGATION >= started);
        *lock(&self.current) = Some(snapshot.clone());
        snapshot
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
#[path = "fleet_roles_tests.rs"]
mod tests;
