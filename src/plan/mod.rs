//! Desired state, computed without any client: what AWS and Kubernetes should hold for a
//! LivenessApp. The controller applies it; `liveness-operator plan` prints it for review.
//!
//! - [`aws`]: identity pool, roles, inline and trust policies, tags.
//! - [`boundary`]: the permissions boundary that caps every role of a cluster.
//! - [`keys`]: when the endpoint's key Secret is created or rotated, and what it holds.
//! - [`kube`]: ServiceAccount, Deployment, Service, ConfigMap of the endpoint.
//! - [`operator`]: the IAM policy the operator itself needs.
//! - [`policy`] / [`trust`]: typed policy documents; trust policies that cannot omit `aud`.
//! - [`route`]: the Ingress or HTTPRoute of an exposed app.
//! - [`render`]: the text `liveness-operator plan` prints.

pub mod aws;
pub mod boundary;
pub mod keys;
pub mod kube;
pub mod operator;
pub mod policy;
pub mod render;
pub mod route;
pub mod trust;
