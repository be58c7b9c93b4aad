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

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::iam::ObservedRole;
use crate::plan::policy::DocumentDigest;

/// A role as the bulk read reports it.
#[derive(Clone, Debug)]
pub(crate) struct RoleDetail {
    pub role: ObservedRole,
    /// Whether the read reported the permissions boundary: AWS does when the role has one,
    /// so `false` means "none, or not reported" (some emulators never report it), and the
    /// boundary is then read with GetRole.
    pub boundary_reported: bool,
    /// Inline policies: name and digest. A slice, not a map: a role of ours has one, and a
    /// B-tree leaf reserves room for eleven (the read holds every role of the cluster).
    pub inline: Box<[(String, DocumentDigest)]>,
    /// ARNs of attached managed policies.
    pub attached: Vec<String>,
}

/// What the shared read says about one role.
#[derive(Clone, Debug)]
pub(crate) enum Seen {
    /// No usable read: read the role directly.
    Unknown,
    /// The read holds no role of that name (and this process has not written one since).
    Absent,
    /// The role as of the read.
    Present(Box<RoleDetail>),
}

struct Snapshot {
    started: Instant,
    /// `None`: the read failed; try again after `max_age`.
    roles: Option<HashMap<String, RoleDetail>>,
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
        Fut: Future<Output = Result<HashMap<String, RoleDetail>, E>>,
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
        match roles.get(name) {
            _ if written_since => Seen::Unknown,
            Some(detail) => Seen::Present(Box::new(detail.clone())),
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
        Fut: Future<Output = Result<HashMap<String, RoleDetail>, E>>,
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
