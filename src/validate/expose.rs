//! `spec.endpoint.expose` and `spec.endpoint.challenges` → their validated form: exactly
//! one route kind, host names and paths that an Ingress or HTTPRoute accepts, and the
//! public URL browsers will use (which becomes `status.endpointUrl`).

use std::collections::HashSet;

use super::Problems;
use crate::crd::{Challenge, ExposeSpec, HttpRouteExpose, IngressExpose};
use crate::rules;

/// How the endpoint is reached, checked; paths are normalised (`/` or `/a/b`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// An Ingress owned by the app.
    Ingress(IngressExpose),
    /// An HTTPRoute owned by the app.
    HttpRoute(HttpRouteExpose),
}

/// A route and the URL browsers reach the endpoint at through it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exposure {
    /// The route object to own.
    pub route: Route,
    /// `publicUrl`, or `https://<host><path>`.
    pub public_url: String,
}

const PATH: &str = "spec.endpoint.expose";

pub(super) fn check_expose(expose: &ExposeSpec, p: &mut Problems) -> Option<Exposure> {
    let (route, host) = match (&expose.ingress, &expose.http_route) {
        (Some(ingress), None) => {
            let checked = check_ingress(ingress, p)?;
            let host = checked.host.clone();
            let path = checked.path.clone().unwrap_or_default();
            (Route::Ingress(checked), Some((host, path)))
        }
        (None, Some(route)) => {
            let checked = check_http_route(route, p)?;
            let host = checked.hostnames.first().cloned();
            let path = checked.path.clone().unwrap_or_default();
            (Route::HttpRoute(checked), host.map(|h| (h, path)))
        }
        _ => {
            p.add(
                PATH,
                "set exactly one of ingress and httpRoute (or remove expose to keep the endpoint in-cluster)",
            );
            return None;
        }
    };
    let public_url = match (&expose.public_url, host) {
        (Some(url), _) => p.rule(&format!("{PATH}.publicUrl"), rules::public_url(url))?,
        (None, Some((host, path))) => format!("https://{host}{}", path.trim_end_matches('/')),
        (None, None) => {
            p.add(
                PATH,
                "the HTTPRoute has no hostnames, so its public URL is unknown: set httpRoute.hostnames or publicUrl",
            );
            return None;
        }
    };
    Some(Exposure { route, public_url })
}

fn check_ingress(ingress: &IngressExpose, p: &mut Problems) -> Option<IngressExpose> {
    let at = |field: &str| format!("{PATH}.ingress.{field}");
    let host = p.rule(&at("host"), rules::dns_subdomain(&ingress.host));
    let path = p.rule(
        &at("path"),
        rules::path_prefix(ingress.path.as_deref().unwrap_or("/")),
    );
    let tls_ok = match &ingress.tls_secret_name {
        Some(secret) => p
            .rule(&at("tlsSecretName"), rules::dns_subdomain(secret))
            .is_some(),
        None => true,
    };
    let class_ok = match &ingress.class_name {
        Some(class) => p
            .rule(&at("className"), rules::dns_subdomain(class))
            .is_some(),
        None => true,
    };
    let (host, path) = (host?, path?);
    (tls_ok && class_ok).then(|| IngressExpose {
        host: host.to_string(),
        path: Some(path),
        ..ingress.clone()
    })
}

fn check_http_route(route: &HttpRouteExpose, p: &mut Problems) -> Option<HttpRouteExpose> {
    let at = |field: &str| format!("{PATH}.httpRoute.{field}");
    let mut ok = true;
    if route.parent_refs.is_empty() {
        p.add(
            at("parentRefs"),
            "name at least one Gateway the route attaches to",
        );
        ok = false;
    }
    for (i, parent) in route.parent_refs.iter().enumerate() {
        let name = p.rule(
            &at(&format!("parentRefs[{i}].name")),
            rules::dns_subdomain(&parent.name),
        );
        ok &= name.is_some();
        if let Some(ns) = &parent.namespace {
            ok &= p
                .rule(
                    &at(&format!("parentRefs[{i}].namespace")),
                    rules::dns_subdomain(ns),
                )
                .is_some();
        }
    }
    for (i, host) in route.hostnames.iter().enumerate() {
        ok &= p
            .rule(&at(&format!("hostnames[{i}]")), rules::dns_subdomain(host))
            .is_some();
    }
    let path = p.rule(
        &at("path"),
        rules::path_prefix(route.path.as_deref().unwrap_or("/")),
    )?;
    ok.then(|| HttpRouteExpose {
        path: Some(path),
        ..route.clone()
    })
}

pub(super) fn check_challenges(challenges: &[Challenge], p: &mut Problems) -> Vec<Challenge> {
    let mut seen = HashSet::new();
    for challenge in challenges {
        if !seen.insert(*challenge) {
            p.add(
                "spec.endpoint.challenges",
                format!(
                    "{} is listed twice: list each challenge once, in order of preference",
                    challenge.as_str()
                ),
            );
        }
    }
    challenges.to_vec()
}
