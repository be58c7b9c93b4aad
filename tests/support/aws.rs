//! Looks at ministack with the real SDK clients, the way a user would check the console.

use aws_sdk_cognitoidentity::Client as Cognito;
use aws_sdk_iam::Client as Iam;

use super::testground::TestGround;

/// IAM client on ministack.
pub async fn iam(ground: &TestGround) -> Iam {
    Iam::new(&ground.aws_config().await)
}

/// Cognito Identity client on ministack, in `region`.
pub async fn cognito(ground: &TestGround, region: &str) -> Cognito {
    let config = aws_sdk_cognitoidentity::config::Builder::from(&ground.aws_config().await)
        .region(aws_config::Region::new(region.to_string()))
        .build();
    Cognito::from_conf(config)
}

/// Whether a role with this name exists.
pub async fn role_exists(iam: &Iam, name: &str) -> bool {
    match iam.get_role().role_name(name).send().await {
        Ok(_) => true,
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_no_such_entity_exception()) =>
        {
            false
        }
        Err(e) => panic!("GetRole {name}: {e:?}"),
    }
}

/// Ids of the identity pools named `name`.
pub async fn pools_named(cognito: &Cognito, name: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut token = None;
    loop {
        let page = cognito
            .list_identity_pools()
            .max_results(60)
            .set_next_token(token)
            .send()
            .await
            .expect("ListIdentityPools");
        for pool in page.identity_pools() {
            if pool.identity_pool_name() == Some(name) {
                ids.extend(pool.identity_pool_id().map(str::to_string));
            }
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            return ids;
        }
    }
}
