//! The auth choice: `--auth` and its flags over the settings' `auth`. A flag overrides the
//! same field; a different `--auth` mode starts from nothing, so a flag never mixes two
//! modes' fields. Each mode's fields are checked by [`crate::rules`].

use super::security::{AuthMode, Problem, SecurityArgs};
use super::source;
use crate::api::auth::AuthConfig;
use crate::contract::AuthSettings;
use crate::rules;

/// The auth choice: `--auth` and its flags over the settings' `auth` (a flag overrides
/// the same field; a different `--auth` mode starts from nothing).
pub(super) fn check(
    args: &SecurityArgs,
    settings: Option<AuthSettings>,
    problem: Problem<'_>,
) -> Option<AuthConfig> {
    let from_settings = settings.clone();
    let mode = match (args.auth, &settings) {
        (Some(mode), _) => mode,
        (None, Some(AuthSettings::Cognito { .. })) => AuthMode::Cognito,
        (None, Some(AuthSettings::Oidc { .. })) => AuthMode::Oidc,
        (None, Some(AuthSettings::None)) => AuthMode::None,
        (None, None) => {
            problem("--auth / LIVENESS_AUTH".into(), "required: choose who may call this endpoint, cognito (a user pool's tokens), oidc (an OpenID Connect issuer's tokens) or none (anyone), with --auth / LIVENESS_AUTH or the auth field of LIVENESS_SETTINGS".into());
            return None;
        }
    };
    let jwks_flag = args.jwks_url.is_some();
    let jwks_url = |field: Option<String>, problem: Problem<'_>| -> Result<Option<String>, ()> {
        match args.jwks_url.clone().or(field) {
            None => Ok(None),
            Some(url) => rules::token_url(url.trim()).map(Some).map_err(|why| {
                problem(
                    source("jwks-url", "LIVENESS_JWKS_URL", jwks_flag, "auth.jwksUrl"),
                    why,
                )
            }),
        }
    };
    match mode {
        AuthMode::None => Some(AuthConfig::None),
        AuthMode::Cognito => {
            let (pool, clients, jwks) = match from_settings {
                Some(AuthSettings::Cognito {
                    user_pool_id,
                    client_ids,
                    jwks_url,
                }) => (Some(user_pool_id), client_ids, jwks_url),
                _ => (None, Vec::new(), None),
            };
            let pool_flag = args.cognito_user_pool_id.is_some();
            let pool_source = source(
                "cognito-user-pool-id",
                "LIVENESS_COGNITO_USER_POOL_ID",
                pool_flag || pool.is_none(),
                "auth.userPoolId",
            );
            let pool = args
                .cognito_user_pool_id
                .clone()
                .or(pool)
                .map(|p| p.trim().to_owned())
                .filter(|p| !p.is_empty());
            let pool = match pool {
                None => {
                    problem(
                        pool_source,
                        "required with --auth cognito: the user pool id, e.g. us-east-1_AbCdEf123"
                            .into(),
                    );
                    Err(())
                }
                Some(p) => rules::user_pool_id(&p)
                    .map(str::to_owned)
                    .map_err(|why| problem(pool_source, why)),
            };
            let clients_flag = !args.cognito_client_ids.is_empty();
            let clients = list(if clients_flag {
                args.cognito_client_ids.clone()
            } else {
                clients
            });
            let clients_source = source(
                "cognito-client-ids",
                "LIVENESS_COGNITO_CLIENT_IDS",
                clients_flag || clients.is_empty(),
                "auth.clientIds",
            );
            let mut clients_ok = !clients.is_empty();
            if clients.is_empty() {
                problem(
                    clients_source.clone(),
                    "required with --auth cognito: the app client ids whose tokens are accepted"
                        .into(),
                );
            }
            for c in &clients {
                if let Err(why) = rules::user_pool_client_id(c) {
                    problem(clients_source.clone(), why);
                    clients_ok = false;
                }
            }
            let jwks = jwks_url(jwks, problem);
            let (Ok(pool), true, Ok(jwks)) = (pool, clients_ok, jwks) else {
                return None;
            };
            let issuer = rules::user_pool_issuer(&pool);
            Some(AuthConfig::Cognito {
                jwks_url: jwks.unwrap_or_else(|| format!("{issuer}/.well-known/jwks.json")),
                issuer,
                user_pool_id: pool,
                client_ids: clients,
            })
        }
        AuthMode::Oidc => {
            let (issuer, audiences, jwks) = match from_settings {
                Some(AuthSettings::Oidc {
                    issuer,
                    audiences,
                    jwks_url,
                }) => (Some(issuer), audiences, jwks_url),
                _ => (None, Vec::new(), None),
            };
            let issuer_flag = args.oidc_issuer.is_some();
            let issuer_source = source(
                "oidc-issuer",
                "LIVENESS_OIDC_ISSUER",
                issuer_flag || issuer.is_none(),
                "auth.issuer",
            );
            let issuer = match args
                .oidc_issuer
                .clone()
                .or(issuer)
                .map(|i| i.trim().to_owned())
                .filter(|i| !i.is_empty())
            {
                None => {
                    problem(
                        issuer_source,
                        "required with --auth oidc: the issuer URL, as tokens name it in iss"
                            .into(),
                    );
                    Err(())
                }
                // Checked as a URL, but kept as written: `iss` is compared exactly.
                Some(i) => rules::token_url(&i)
                    .map(|_| i)
                    .map_err(|why| problem(issuer_source, why)),
            };
            let audiences_flag = !args.oidc_audiences.is_empty();
            let audiences = list(if audiences_flag {
                args.oidc_audiences.clone()
            } else {
                audiences
            });
            if audiences.is_empty() {
                problem(source("oidc-audiences", "LIVENESS_OIDC_AUDIENCES", audiences_flag || audiences.is_empty(), "auth.audiences"), "required with --auth oidc: the aud values (client ids) whose tokens are accepted".into());
            }
            let jwks = jwks_url(jwks, problem);
            let (Ok(issuer), false, Ok(jwks_url)) = (issuer, audiences.is_empty(), jwks) else {
                return None;
            };
            Some(AuthConfig::Oidc {
                issuer,
                audiences,
                jwks_url,
            })
        }
    }
}

fn list(values: Vec<String>) -> Vec<String> {
    values
        .into_iter()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect()
}
