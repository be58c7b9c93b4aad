//! The route in front of the endpoint's Service, when the app is exposed: an Ingress
//! (`networking.k8s.io/v1`) or a Gateway API HTTPRoute (`gateway.networking.k8s.io/v1`).
//!
//! The HTTPRoute types are the subset of the upstream v1 schema this operator writes,
//! declared here with kube's derive: the `gateway-api` crate's types are generated for
//! kube 4 / k8s-openapi 0.28 and do not implement kube 5's traits. Field names and shapes
//! follow the upstream CRD, so the objects are valid HTTPRoutes for any Gateway API
//! implementation; [`HTTPRoute::crd`] is only for test grounds without Gateway API.
//! Pure: no clients.

use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec, IngressTLS, ServiceBackendPort,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::crd::{HttpRouteExpose, IngressExpose};
use crate::names::ENDPOINT_SERVICE_PORT;
use crate::validate::Route;

/// The route object of an exposed app.
#[derive(Clone, Debug)]
pub enum RouteObject {
    /// An Ingress.
    Ingress(Ingress),
    /// An HTTPRoute.
    HttpRoute(HTTPRoute),
}

/// Spec of a Gateway API v1 HTTPRoute (the fields this operator sets).
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "gateway.networking.k8s.io",
    version = "v1",
    kind = "HTTPRoute",
    plural = "httproutes",
    namespaced
)]
#[serde(rename_all = "camelCase")]
pub struct HTTPRouteSpec {
    /// Gateways the route attaches to.
    pub parent_refs: Vec<HTTPRouteParentRef>,
    /// Host names it serves.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hostnames: Vec<String>,
    /// Its one rule: the path prefix to the Service.
    pub rules: Vec<HTTPRouteRule>,
}

/// `spec.parentRefs[]`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HTTPRouteParentRef {
    /// Gateway name.
    pub name: String,
    /// Gateway namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Listener name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section_name: Option<String>,
}

/// `spec.rules[]`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HTTPRouteRule {
    /// Requests matched.
    pub matches: Vec<HTTPRouteMatch>,
    /// Rewrites applied (the prefix becomes `/`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<HTTPRouteFilter>,
    /// Where they go.
    pub backend_refs: Vec<HTTPBackendRef>,
}

/// `matches[]` with a path.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
pub struct HTTPRouteMatch {
    /// The path match.
    pub path: HTTPPathMatch,
}

/// A `PathPrefix` match.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
pub struct HTTPPathMatch {
    /// `PathPrefix`.
    #[serde(rename = "type")]
    pub type_: String,
    /// The prefix.
    pub value: String,
}

/// A `URLRewrite` filter replacing the matched prefix.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HTTPRouteFilter {
    /// `URLRewrite`.
    #[serde(rename = "type")]
    pub type_: String,
    /// The rewrite.
    pub url_rewrite: HTTPURLRewrite,
}

/// `urlRewrite`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
pub struct HTTPURLRewrite {
    /// The path rewrite.
    pub path: HTTPPathModifier,
}

/// `ReplacePrefixMatch` to `/`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HTTPPathModifier {
    /// `ReplacePrefixMatch`.
    #[serde(rename = "type")]
    pub type_: String,
    /// The replacement.
    pub replace_prefix_match: String,
}

/// A Service backend.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
pub struct HTTPBackendRef {
    /// Service name.
    pub name: String,
    /// Service port.
    pub port: i32,
}

/// The route object for `route`, named `name`, in front of the Service `service`.
pub fn route_object(route: &Route, meta: ObjectMeta, service: &str) -> RouteObject {
    match route {
        Route::Ingress(ingress) => RouteObject::Ingress(ingress_object(ingress, meta, service)),
        Route::HttpRoute(route) => RouteObject::HttpRoute(http_route(route, meta, service)),
    }
}

fn ingress_object(expose: &IngressExpose, mut meta: ObjectMeta, service: &str) -> Ingress {
    if !expose.annotations.is_empty() {
        let mut annotations: BTreeMap<String, String> = meta.annotations.unwrap_or_default();
        annotations.extend(expose.annotations.clone());
        meta.annotations = Some(annotations);
    }
    let path = expose.path.clone().unwrap_or_else(|| "/".into());
    Ingress {
        metadata: meta,
        spec: Some(IngressSpec {
            ingress_class_name: expose.class_name.clone(),
            tls: expose.tls_secret_name.as_ref().map(|secret| {
                vec![IngressTLS {
                    hosts: Some(vec![expose.host.clone()]),
                    secret_name: Some(secret.clone()),
                }]
            }),
            rules: Some(vec![IngressRule {
                host: Some(expose.host.clone()),
                http: Some(HTTPIngressRuleValue {
                    paths: vec![HTTPIngressPath {
                        path: Some(path),
                        path_type: "Prefix".into(),
                        backend: IngressBackend {
                            service: Some(IngressServiceBackend {
                                name: service.into(),
                                port: Some(ServiceBackendPort {
                                    number: Some(ENDPOINT_SERVICE_PORT.into()),
                                    ..Default::default()
                                }),
                            }),
                            ..Default::default()
                        },
                    }],
                }),
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn http_route(expose: &HttpRouteExpose, meta: ObjectMeta, service: &str) -> HTTPRoute {
    let path = expose.path.clone().unwrap_or_else(|| "/".into());
    let filters = if path == "/" {
        Vec::new()
    } else {
        vec![HTTPRouteFilter {
            type_: "URLRewrite".into(),
            url_rewrite: HTTPURLRewrite {
                path: HTTPPathModifier {
                    type_: "ReplacePrefixMatch".into(),
                    replace_prefix_match: "/".into(),
                },
            },
        }]
    };
    let mut route = HTTPRoute::new(
        meta.name.as_deref().unwrap_or_default(),
        HTTPRouteSpec {
            parent_refs: expose
                .parent_refs
                .iter()
                .map(|p| HTTPRouteParentRef {
                    name: p.name.clone(),
                    namespace: p.namespace.clone(),
                    section_name: p.section_name.clone(),
                })
                .collect(),
            hostnames: expose.hostnames.clone(),
            rules: vec![HTTPRouteRule {
                matches: vec![HTTPRouteMatch {
                    path: HTTPPathMatch {
                        type_: "PathPrefix".into(),
                        value: path,
                    },
                }],
                filters,
                backend_refs: vec![HTTPBackendRef {
                    name: service.into(),
                    port: ENDPOINT_SERVICE_PORT.into(),
                }],
            }],
        },
    );
    route.metadata = meta;
    route
}
