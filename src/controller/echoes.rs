//! The operator's own writes of the objects an app owns come back on the watch as events.
//! Each would start a reconcile with nothing to do: the object is as that reconcile left
//! it. [`OwnWrites`] remembers the resourceVersion each apply returned, and
//! [`owned_changes`] drops exactly those events, so what starts a reconcile is a change
//! made by someone else (a hand edit, the Deployment controller's status, a deletion).
//!
//! One entry per live owned object (the last version written), removed when the object
//! is deleted: the map never outgrows the objects the operator manages.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures::{Stream, StreamExt};
use kube::core::PartialObjectMeta;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Resource, ResourceExt};

/// Kind, namespace and name of an owned object.
type Key = (String, String, String);

/// The resourceVersion of each owned object as this process last wrote it.
#[derive(Debug, Default)]
pub struct OwnWrites {
    versions: Mutex<HashMap<Key, String>>,
}

fn key<K: Resource>(object: &K) -> Key
where
    K::DynamicType: Default,
{
    (
        K::kind(&K::DynamicType::default()).into_owned(),
        object.namespace().unwrap_or_default(),
        object.name_any(),
    )
}

impl OwnWrites {
    /// Records `object` as the apiserver stored it after our write.
    pub fn wrote<K: Resource>(&self, object: &K)
    where
        K::DynamicType: Default,
    {
        if let Some(version) = object.resource_version() {
            lock(&self.versions).insert(key(object), version);
        }
    }

    /// Whether `object` is exactly what we last wrote.
    pub fn is_echo<K: Resource>(&self, object: &K) -> bool
    where
        K::DynamicType: Default,
    {
        let written = lock(&self.versions);
        object
            .resource_version()
            .is_some_and(|version| written.get(&key(object)) == Some(&version))
    }

    /// Forgets a deleted object.
    pub fn gone<K: Resource>(&self, object: &K)
    where
        K::DynamicType: Default,
    {
        lock(&self.versions).remove(&key(object));
    }

    /// Objects remembered.
    pub fn len(&self) -> usize {
        lock(&self.versions).len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The changes of owned objects of kind `K` (watched as metadata only: `api` is of
/// [`PartialObjectMeta`]) that were not our own writes.
pub fn owned_changes<K>(
    api: Api<PartialObjectMeta<K>>,
    config: watcher::Config,
    writes: Arc<OwnWrites>,
) -> impl Stream<Item = Result<PartialObjectMeta<K>, watcher::Error>> + Send + 'static
where
    K: Resource + Clone + std::fmt::Debug + Send + Sync + 'static,
    K::DynamicType: Default,
    PartialObjectMeta<K>: Resource<DynamicType = K::DynamicType>
        + serde::de::DeserializeOwned
        + Clone
        + std::fmt::Debug
        + Send,
{
    watcher(api, config)
        .default_backoff()
        .filter_map(move |event| {
            let writes = writes.clone();
            async move {
                match event {
                    Ok(watcher::Event::Apply(object) | watcher::Event::InitApply(object)) => {
                        (!writes.is_echo(&object)).then_some(Ok(object))
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
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    use super::*;

    fn deployment(name: &str, version: &str) -> Deployment {
        Deployment {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("ns".into()),
                resource_version: Some(version.into()),
                ..ObjectMeta::default()
            },
            ..Deployment::default()
        }
    }

    #[test]
    fn only_the_version_we_wrote_is_an_echo() {
        let writes = OwnWrites::default();
        writes.wrote(&deployment("a", "7"));
        assert!(writes.is_echo(&deployment("a", "7")));
        assert!(
            !writes.is_echo(&deployment("a", "8")),
            "someone else's change"
        );
        assert!(!writes.is_echo(&deployment("b", "7")), "another object");
        writes.wrote(&deployment("a", "9"));
        assert!(!writes.is_echo(&deployment("a", "7")), "an older version");
        assert!(writes.is_echo(&deployment("a", "9")));
    }

    #[test]
    fn a_deleted_object_is_forgotten() {
        let writes = OwnWrites::default();
        writes.wrote(&deployment("a", "7"));
        writes.wrote(&deployment("b", "3"));
        writes.gone(&deployment("a", "12"));
        assert_eq!(writes.len(), 1);
        assert!(!writes.is_echo(&deployment("a", "7")));
    }
}
