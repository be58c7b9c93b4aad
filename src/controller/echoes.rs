//! The operator's own writes of the objects an app owns come back on the watch as events,
//! and so do changes by others that the app does not care about (the Deployment
//! controller's status bookkeeping). Each would start a reconcile with nothing to do.
//! [`OwnWrites`] remembers, per owned object, a [`Relevant`] digest of what the reconcile
//! reads or puts back, as the operator last wrote or saw it, and [`owned_changes`] lets an
//! event through only when that digest changed: a hand edit, a rollout's progress, a
//! deletion. The echo of a write often arrives before the write returns; events of an
//! object being written are held back until then, and a change among them (someone
//! else's, right after ours) has the app looked at again.
//!
//! One entry per live owned object, removed when the object is deleted: the map never
//! outgrows the objects the operator manages.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex};

use futures::{Stream, StreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::core::PartialObjectMeta;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Resource, ResourceExt};

use super::endpoint;
use crate::fingerprint::Fingerprint;

/// Kind, namespace and name of an owned object, as a fingerprint: a thousand apps own five
/// thousand objects, and three strings an entry were most of this map.
type Key = Fingerprint;

/// What of an owned object the app depends on, as a digest: two versions with the same
/// digest are the same to the reconcile, so a change between them starts none.
pub trait Relevant {
    /// The digest.
    fn relevant_digest(&self) -> u64;
}

/// Kinds watched as metadata only ([`PartialObjectMeta`]), and which of their changes
/// matter.
pub trait WatchedAsMetadata: Resource {
    /// Every change (the resourceVersion) matters, for kinds whose content we set and that
    /// nothing else writes (a ConfigMap's data, a Service's spec): a change is a hand edit to
    /// put back. Otherwise only the metadata we set and the generation (moved by spec
    /// edits) matter: a ServiceAccount gets token secrets listed by the token controller of
    /// older clusters, an Ingress its address from the ingress controller.
    const EVERY_CHANGE: bool;
}

impl<K: WatchedAsMetadata> Relevant for K {
    fn relevant_digest(&self) -> u64 {
        let meta = self.meta();
        if K::EVERY_CHANGE {
            digest(&meta.resource_version)
        } else {
            digest(&metadata_we_set(meta))
        }
    }
}

impl<K: WatchedAsMetadata> WatchedAsMetadata for PartialObjectMeta<K> {
    const EVERY_CHANGE: bool = K::EVERY_CHANGE;
}
impl WatchedAsMetadata for ConfigMap {
    const EVERY_CHANGE: bool = true;
}
impl WatchedAsMetadata for Service {
    const EVERY_CHANGE: bool = true;
}
impl WatchedAsMetadata for ServiceAccount {
    const EVERY_CHANGE: bool = false;
}
impl WatchedAsMetadata for Ingress {
    const EVERY_CHANGE: bool = false;
}

/// Annotations the Deployment controller writes on every Deployment.
const DEPLOYMENT_CONTROLLER_ANNOTATIONS: &str = "deployment.kubernetes.io/";

/// The generation and the metadata a hand edit of ours would change: labels, annotations
/// (not the Deployment controller's revision), the owner references, the deletion.
fn metadata_we_set(meta: &ObjectMeta) -> impl Hash + '_ {
    let annotations: Vec<_> = meta
        .annotations
        .iter()
        .flatten()
        .filter(|(key, _)| !key.starts_with(DEPLOYMENT_CONTROLLER_ANNOTATIONS))
        .collect();
    let owners: Vec<(&str, Option<bool>)> = meta
        .owner_references
        .iter()
        .flatten()
        .map(|owner| (owner.uid.as_str(), owner.controller))
        .collect();
    (
        meta.generation,
        &meta.labels,
        annotations,
        owners,
        meta.deletion_timestamp.is_some(),
    )
}

/// A Deployment's generation and metadata (see [`metadata_we_set`]) and the part of its
/// status that EndpointReady reports: not the conditions' timestamps and reasons, nor the
/// revision annotation, the Deployment controller rewrites as it goes (two or three
/// updates for every new Deployment, even one scaled to zero).
impl Relevant for Deployment {
    fn relevant_digest(&self) -> u64 {
        let available_replicas = self.status.as_ref().and_then(|s| s.available_replicas);
        digest(&(
            metadata_we_set(&self.metadata),
            (endpoint::wanted(self), endpoint::available(self)),
            available_replicas,
        ))
    }
}

fn digest(value: &impl Hash) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

/// Per owned object: the [`Relevant`] digest as this process last wrote or saw it, or a
/// write in flight.
#[derive(Debug, Default)]
pub struct OwnWrites {
    entries: Mutex<HashMap<Key, Entry>>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Entry {
    Known(u64),
    /// A write is in flight: its echo may come back before the write returns, so events are
    /// held back, the digest of the last one kept for [`Write::done`] to compare.
    Writing {
        seen: Option<u64>,
    },
}

fn key<K: Resource>(object: &K) -> Key
where
    K::DynamicType: Default,
{
    Fingerprint::of([
        K::kind(&K::DynamicType::default()).as_ref(),
        object.namespace().unwrap_or_default().as_str(),
        object.name_any().as_str(),
    ])
}

/// A write of one owned object in flight (from [`OwnWrites::writing`]). Dropped without
/// [`Write::done`] (the write failed), the object is forgotten: its next event is a change.
#[must_use = "a write's outcome is recorded with done()"]
pub struct Write<'a> {
    writes: &'a OwnWrites,
    key: Option<Key>,
}

impl Write<'_> {
    /// Records `stored`, what the apiserver returned for the write. `true` when an event
    /// held back meanwhile showed the object otherwise: someone else may have changed it
    /// right after the write, so the app is to be looked at again.
    pub fn done<K: Resource + Relevant>(mut self, stored: &K) -> bool {
        let digest = stored.relevant_digest();
        let key = self.key.take().expect("done once");
        let before = lock(&self.writes.entries).insert(key, Entry::Known(digest));
        matches!(before, Some(Entry::Writing { seen: Some(seen) }) if seen != digest)
    }
}

impl Drop for Write<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            lock(&self.writes.entries).remove(&key);
        }
    }
}

impl OwnWrites {
    /// Starts a write of `object` (the desired object; its kind, namespace and name).
    pub fn writing<K: Resource>(&self, object: &K) -> Write<'_>
    where
        K::DynamicType: Default,
    {
        let key = key(object);
        lock(&self.entries).insert(key, Entry::Writing { seen: None });
        Write {
            writes: self,
            key: Some(key),
        }
    }

    /// Whether `object` differs, in what the app depends on, from what we last wrote or
    /// saw of it; remembers it as seen. Never while a write of it is in flight.
    pub fn changed<K: Resource + Relevant>(&self, object: &K) -> bool
    where
        K::DynamicType: Default,
    {
        let (digest, key) = (object.relevant_digest(), key(object));
        let mut entries = lock(&self.entries);
        match entries.get_mut(&key) {
            Some(Entry::Writing { seen }) => {
                *seen = Some(digest);
                false
            }
            Some(Entry::Known(known)) => std::mem::replace(known, digest) != digest,
            None => {
                entries.insert(key, Entry::Known(digest));
                true
            }
        }
    }

    /// Forgets a deleted object.
    pub fn gone<K: Resource>(&self, object: &K)
    where
        K::DynamicType: Default,
    {
        lock(&self.entries).remove(&key(object));
    }

    /// Objects remembered.
    pub fn len(&self) -> usize {
        lock(&self.entries).len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The changes of owned objects of kind `K` that matter to their app (see [`Relevant`]);
/// `api` is of [`PartialObjectMeta`] for kinds of which only the version matters.
pub fn owned_changes<K>(
    api: Api<K>,
    config: watcher::Config,
    writes: Arc<OwnWrites>,
) -> impl Stream<Item = Result<K, watcher::Error>> + Send + 'static
where
    K: Resource
        + Relevant
        + serde::de::DeserializeOwned
        + Clone
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
    K::DynamicType: Default,
{
    watcher(api, config)
        .default_backoff()
        .filter_map(move |event| {
            let writes = writes.clone();
            async move {
                match event {
                    Ok(watcher::Event::Apply(object) | watcher::Event::InitApply(object)) => {
                        writes.changed(&object).then_some(Ok(object))
                    }
                    Ok(watcher::Event::Delete(object)) => {
                        writes.gone(&object);
                        Some(Ok(object))
                    }
                    Ok(watcher::Event::Init | watcher::Event::InitDone) => None,
                    Err(error) => Some(Err(error)),
                }
            }
        })
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::apps::v1::{DeploymentSpec, DeploymentStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

    use super::*;

    fn config_map(name: &str, version: &str) -> ConfigMap {
        ConfigMap {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("ns".into()),
                resource_version: Some(version.into()),
                ..ObjectMeta::default()
            },
            ..ConfigMap::default()
        }
    }

    /// A Deployment of `replicas` at generation 1, as its controller reports it.
    fn deployment(replicas: i32, status: DeploymentStatus) -> Deployment {
        Deployment {
            metadata: ObjectMeta {
                name: Some("a".into()),
                namespace: Some("ns".into()),
                generation: Some(1),
                ..ObjectMeta::default()
            },
            spec: Some(DeploymentSpec {
                replicas: Some(replicas),
                ..DeploymentSpec::default()
            }),
            status: Some(status),
        }
    }

    fn wrote<K: Resource + Relevant>(writes: &OwnWrites, object: &K)
    where
        K::DynamicType: Default,
    {
        assert!(!writes.writing(object).done(object));
    }

    #[test]
    fn an_echo_before_the_write_returns_is_no_change() {
        let writes = OwnWrites::default();
        let write = writes.writing(&config_map("a", ""));
        assert!(!writes.changed(&config_map("a", "7")), "held back");
        assert!(!write.done(&config_map("a", "7")), "it was the echo");
        assert!(!writes.changed(&config_map("a", "7")), "a late copy of it");
        assert!(writes.changed(&config_map("a", "8")));
    }

    #[test]
    fn a_change_while_writing_has_the_app_looked_at_again() {
        let writes = OwnWrites::default();
        let write = writes.writing(&config_map("a", ""));
        assert!(!writes.changed(&config_map("a", "7")));
        assert!(
            !writes.changed(&config_map("a", "8")),
            "someone else's, held back"
        );
        assert!(write.done(&config_map("a", "7")));
    }

    #[test]
    fn a_failed_write_forgets_the_object() {
        let writes = OwnWrites::default();
        wrote(&writes, &config_map("a", "7"));
        drop(writes.writing(&config_map("a", "")));
        assert!(writes.is_empty());
        assert!(writes.changed(&config_map("a", "7")), "unknown: a change");
    }

    #[test]
    fn only_the_version_we_wrote_is_an_echo() {
        let writes = OwnWrites::default();
        wrote(&writes, &config_map("a", "7"));
        assert!(!writes.changed(&config_map("a", "7")), "our own write");
        assert!(
            writes.changed(&config_map("a", "8")),
            "someone else's change"
        );
        assert!(writes.changed(&config_map("b", "7")), "another object");
        wrote(&writes, &config_map("a", "9"));
        assert!(writes.changed(&config_map("a", "7")), "an older version");
    }

    #[test]
    fn a_change_is_reported_once() {
        let writes = OwnWrites::default();
        wrote(&writes, &config_map("a", "7"));
        assert!(writes.changed(&config_map("a", "8")));
        assert!(!writes.changed(&config_map("a", "8")), "seen already");
    }

    #[test]
    fn the_deployment_controllers_bookkeeping_is_not_a_change() {
        let writes = OwnWrites::default();
        wrote(&writes, &deployment(0, DeploymentStatus::default()));
        let observed = DeploymentStatus {
            observed_generation: Some(1),
            ..DeploymentStatus::default()
        };
        let mut revised = deployment(0, observed.clone());
        revised.metadata.annotations =
            Some([("deployment.kubernetes.io/revision".into(), "1".into())].into());
        assert!(
            !writes.changed(&revised),
            "scaled to zero: the controller catching up changes nothing reported"
        );
        wrote(&writes, &deployment(2, observed.clone()));
        let one_up = DeploymentStatus {
            available_replicas: Some(1),
            ..observed
        };
        assert!(
            writes.changed(&deployment(2, one_up.clone())),
            "a replica came up"
        );
        let two_up = DeploymentStatus {
            available_replicas: Some(2),
            ..one_up
        };
        assert!(writes.changed(&deployment(2, two_up)), "and another");
    }

    #[test]
    fn a_service_account_changes_only_by_its_metadata() {
        let writes = OwnWrites::default();
        let mut ours = ServiceAccount::default();
        ours.metadata.name = Some("sa".into());
        ours.metadata.resource_version = Some("5".into());
        ours.metadata.annotations =
            Some([("eks.amazonaws.com/role-arn".into(), "r".into())].into());
        wrote(&writes, &ours);
        // Watched as metadata only, after the token controller of an older cluster listed
        // a token secret in it.
        let mut watched: PartialObjectMeta<ServiceAccount> = PartialObjectMeta {
            metadata: ours.metadata.clone(),
            ..PartialObjectMeta::default()
        };
        watched.metadata.resource_version = Some("6".into());
        assert!(!writes.changed(&watched), "the token controller's update");
        watched.metadata.annotations = None;
        assert!(
            writes.changed(&watched),
            "the role annotation removed by hand"
        );
    }

    #[test]
    fn a_hand_edit_of_the_deployment_is_a_change() {
        let writes = OwnWrites::default();
        let mut ours = deployment(1, DeploymentStatus::default());
        ours.metadata.owner_references = Some(vec![OwnerReference {
            uid: "app-uid".into(),
            controller: Some(true),
            ..OwnerReference::default()
        }]);
        wrote(&writes, &ours);
        let mut respecced = ours.clone();
        respecced.metadata.generation = Some(2);
        assert!(writes.changed(&respecced), "spec edit");
        let mut relabelled = ours.clone();
        relabelled.metadata.labels = Some([("team".into(), "x".into())].into());
        assert!(writes.changed(&relabelled), "label edit");
        let mut annotated = ours.clone();
        annotated.metadata.annotations = Some([("team".into(), "x".into())].into());
        assert!(writes.changed(&annotated), "annotation edit");
        let mut disowned = ours;
        disowned.metadata.owner_references = None;
        assert!(writes.changed(&disowned), "owner reference removed");
    }

    #[test]
    fn a_deleted_object_is_forgotten() {
        let writes = OwnWrites::default();
        wrote(&writes, &config_map("a", "7"));
        wrote(&writes, &config_map("b", "3"));
        writes.gone(&config_map("a", "12"));
        assert_eq!(writes.len(), 1);
        assert!(writes.changed(&config_map("a", "7")));
    }
}
