//! `spec.endpoint.auth` → the endpoint's [`AuthSettings`] (the contract type itself): the
//! mode chosen or defaulted, and everything that mode needs. `none` is never a default.

use super::Problems;
use crate::contract::AuthSettings;
use crate::crd::{AuthMode, AuthSpec, UserPoolProvider};
use crate::rules;

const PATH: &str = "spec.endpoint.auth";

pub(super) fn check_auth(
    auth: Option<&AuthSpec>,
    user_pool: Option<&UserPoolProvider>,
    p: &mut Problems,
) -> Option<AuthSettings> {
    let spec = auth.cloned().unwrap_or_default();
    let mode = match (spec.mode, user_pool) {
        (Some(mode), _) => mode,
        (None, Some(_)) => AuthMode::Cognito,
        (None, None) => {
            p.add(
                format!("{PATH}.mode"),
                "choose how callers authenticate: oidc (issuer, audiences) for your own identity provider, or none for a guest app anyone may call; cognito is the default only with identityPool.userPool",
            );
            return None;
        }
    };
    let jwks_url = match &spec.jwks_url {
        Some(url) => Some(p.rule(&format!("{PATH}.jwksUrl"), rules::public_url(url))?),
        None => None,
    };
    match mode {
        AuthMode::Cognito => {
            let Some(user_pool) = user_pool else {
                p.add(
                    format!("{PATH}.mode"),
                    "cognito needs spec.identityPool.userPool (the user pool whose tokens callers send): set it, or choose oidc or none",
                );
                return None;
            };
            let (_, pool_id) = user_pool.provider_name.rsplit_once('/')?;
            Some(AuthSettings::Cognito {
                user_pool_id: pool_id.to_string(),
                client_ids: vec![user_pool.client_id.clone()],
                jwks_url,
            })
        }
        AuthMode::Oidc => {
            let issuer = match &spec.issuer {
                Some(issuer) => p.rule(&format!("{PATH}.issuer"), rules::public_url(issuer)),
                None => {
                    p.add(
                        format!("{PATH}.issuer"),
                        "oidc needs the issuer URL, the `iss` of your tokens, e.g. https://login.example.com",
                    );
                    None
                }
            };
            if spec.audiences.is_empty() {
                p.add(
                    format!("{PATH}.audiences"),
                    "oidc needs at least one audience: the `aud` your tokens carry for this app",
                );
                return None;
            }
            Some(AuthSettings::Oidc {
                issuer: issuer?,
                audiences: spec.audiences.clone(),
                jwks_url,
            })
        }
        AuthMode::None => Some(AuthSettings::None),
    }
}
