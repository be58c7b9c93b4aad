//! Server-side apply of the Kubernetes objects a LivenessApp owns, always with the one
//! field manager, so `kubectl` edits to fields we own are put back and fields we don't
//! own (an HPA's replicas, say) are left alone.
//!
//! An object is applied only if it does not exist yet or is already this app's (its
//! controller owner reference names the app's uid). A same-named object of anyone else is
//! never taken over: the apply stops with [`ApplyError::Foreign`], naming it.

use std::fmt::Debug;

use k8s_openapi::NamespaceResourceScope;
use kube::api::{Patch, PatchParams};
use kube::{Api, Client, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::crd::FIELD_MANAGER;

/// Why an object was not applied.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// An object of that kind and name exists and is not the app's.
    #[error(
        "{kind} {namespace}/{name} exists and is not this LivenessApp's (no controller owner reference to it): the operator leaves it untouched; delete or rename it, or give the LivenessApp another name"
    )]
    Foreign {
        /// Kind of the object.
        kind: String,
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
    },
    /// The API call failed.
    #[error(transparent)]
    Kube(#[from] kube::Error),
}

/// Server-side applies `object` (complete, with apiVersion/kind, and a controller owner
/// reference to the app with `owner_uid`) and returns what the apiserver stored.
pub async fn apply<K>(client: &Client, object: &K, owner_uid: &str) -> Result<K, ApplyError>
where
    K: Resource<Scope = NamespaceResourceScope> + Serialize + DeserializeOwned + Clone + Debug,
    K::DynamicType: Default,
{
    let namespace = object.namespace().unwrap_or_default();
    let name = object.name_any();
    let api: Api<K> = Api::namespaced(client.clone(), &namespace);
    if let Some(existing) = api.get_opt(&name).await?
        && !is_controlled_by(&existing, owner_uid)
    {
        return Err(ApplyError::Foreign {
            kind: K::kind(&K::DynamicType::default()).into_owned(),
            namespace,
            name,
        });
    }
    Ok(api
        .patch(&name, &apply_params(), &Patch::Apply(object))
        .await?)
}

/// Deletes the object `name` of kind `K` if it exists and is the app's (a route no
/// longer wanted); a missing object, or a kind the cluster does not serve, is done.
pub async fn delete_owned<K>(
    client: &Client,
    namespace: &str,
    name: &str,
    owner_uid: &str,
) -> Result<(), kube::Error>
where
    K: Resource<Scope = NamespaceResourceScope> + DeserializeOwned + Clone + Debug,
    K::DynamicType: Default,
{
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    match api.get_opt(name).await {
        Ok(Some(existing)) if is_controlled_by(&existing, owner_uid) => {
            match api.delete(name, &Default::default()).await {
                Ok(_) => Ok(()),
                Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
                Err(e) => Err(e),
            }
        }
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(e) => Err(e),
    }
}

/// Whether `object`'s controller owner reference is the app with `owner_uid`.
pub fn is_controlled_by<K: Resource>(object: &K, owner_uid: &str) -> bool {
    object
        .owner_references()
        .iter()
        .any(|r| r.controller == Some(true) && r.uid == owner_uid)
}

/// Apply parameters: our field manager, taking ownership of conflicting fields of our own
/// objects (the LivenessApp is the source of truth for everything we set).
pub fn apply_params() -> PatchParams {
    PatchParams::apply(FIELD_MANAGER).force()
}
