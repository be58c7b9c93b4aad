//! A Cognito user pool on the test ground (ministack), with two app clients and users who
//! sign in with USER_PASSWORD_AUTH: real RS256 ID and access tokens, verifiable against
//! the pool's JWKS (`/<poolId>/.well-known/jwks.json` on ministack's port).

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::types::{
    AuthFlowType, ExplicitAuthFlowsType, MessageActionType,
};

use super::testground::{self, TestGround};

const PASSWORD: &str = "Liveness-test-Passw0rd!";

/// A user pool with app clients `web` (accepted) and `other` (not accepted).
pub struct Pool {
    pub id: String,
    pub web_client: String,
    pub other_client: String,
    pub jwks_url: String,
    client: Client,
}

/// Tokens of one sign-in.
pub struct Tokens {
    pub id: String,
    pub access: String,
}

impl Pool {
    pub async fn create(ground: &TestGround) -> Pool {
        let client = Client::new(&ground.aws_config().await);
        let name = testground::unique("liveness-api");
        let id = client
            .create_user_pool()
            .pool_name(&name)
            .send()
            .await
            .expect("CreateUserPool")
            .user_pool
            .and_then(|p| p.id)
            .expect("a pool id");
        let mut clients = Vec::new();
        for client_name in ["web", "other"] {
            let created = client
                .create_user_pool_client()
                .user_pool_id(&id)
                .client_name(client_name)
                .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
                .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
                .send()
                .await
                .expect("CreateUserPoolClient");
            clients.push(
                created
                    .user_pool_client
                    .and_then(|c| c.client_id)
                    .expect("a client id"),
            );
        }
        let jwks_url = format!("{}/{id}/.well-known/jwks.json", ground.aws_endpoint());
        Pool {
            jwks_url,
            id,
            other_client: clients.pop().unwrap(),
            web_client: clients.pop().unwrap(),
            client,
        }
    }

    /// The flags that make liveness-api accept the `web` client's tokens.
    pub fn flags(&self) -> Vec<String> {
        vec![
            "--auth=cognito".into(),
            format!("--cognito-user-pool-id={}", self.id),
            format!("--cognito-client-ids={}", self.web_client),
            format!("--jwks-url={}", self.jwks_url),
        ]
    }

    /// Creates `username` with a permanent password.
    pub async fn add_user(&self, username: &str) {
        self.client
            .admin_create_user()
            .user_pool_id(&self.id)
            .username(username)
            .message_action(MessageActionType::Suppress)
            .send()
            .await
            .expect("AdminCreateUser");
        self.client
            .admin_set_user_password()
            .user_pool_id(&self.id)
            .username(username)
            .password(PASSWORD)
            .permanent(true)
            .send()
            .await
            .expect("AdminSetUserPassword");
    }

    /// Signs `username` in through app client `client_id`.
    pub async fn sign_in(&self, username: &str, client_id: &str) -> Tokens {
        let result = self
            .client
            .initiate_auth()
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .client_id(client_id)
            .auth_parameters("USERNAME", username)
            .auth_parameters("PASSWORD", PASSWORD)
            .send()
            .await
            .expect("InitiateAuth")
            .authentication_result
            .expect("tokens");
        Tokens {
            id: result.id_token.expect("an ID token"),
            access: result.access_token.expect("an access token"),
        }
    }
}
