//! Server-side apply of the Kubernetes objects a LivenessApp owns, always with the one
//! field manager, so `kubectl` edits to fields we own are put back and fields we don't
//! own (an HPA's replicas, say) are left alone.

use std::fmt::Debug;

use k8s_openapi::NamespaceResourceScope;
use kube::api::{Patch, PatchParams};
use kube::{Api, Client, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::crd::FIELD_MANAGER;

/// Server-side applies `object` (complete, with apiVersion/kind) in its namespace and
/// returns what the apiserver stored.
pub async fn apply<K>(client: &Client, object: &K) -> Result<K, kube::Error>
where
    K: Resource<Scope = NamespaceResourceScope> + Serialize + DeserializeOwned + Clone + Debug,
    K::DynamicType: Default,
{
    let namespace = object.namespace().unwrap_or_default();
    let api: Api<K> = Api::namespaced(client.clone(), &namespace);
    api.patch(&object.name_any(), &apply_params(), &Patch::Apply(object))
        .await
}

/// Apply parameters: our field manager, taking ownership of conflicting fields (the
/// LivenessApp is the source of truth for everything we set).
pub fn apply_params() -> PatchParams {
    PatchParams::apply(FIELD_MANAGER).force()
}
