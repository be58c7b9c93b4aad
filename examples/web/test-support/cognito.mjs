// A Cognito user pool on the test ground (ministack's cognito-idp, whose tokens are
// RS256-signed with the keys of its JWKS), made through the service's own JSON 1.1 API:
// a pool, a public app client (SRP, as Amplify signs in), and users with permanent
// passwords.
const REGION = 'us-east-1';

async function call(endpoint, action, body) {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-amz-json-1.1',
      'X-Amz-Target': `AWSCognitoIdentityProviderService.${action}`,
      // ministack does not check signatures; it reads the service and region from here.
      Authorization: `AWS4-HMAC-SHA256 Credential=test/20260101/${REGION}/cognito-idp/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`cognito-idp ${action}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : {};
}

/** A new pool with one app client; `endpoint` is the test ground's AWS endpoint. */
export async function createPool(endpoint) {
  const name = `browser-${Date.now()}`;
  const { UserPool } = await call(endpoint, 'CreateUserPool', { PoolName: name });
  const { UserPoolClient } = await call(endpoint, 'CreateUserPoolClient', {
    UserPoolId: UserPool.Id,
    ClientName: 'web',
    GenerateSecret: false,
    ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
  });
  return {
    endpoint,
    id: UserPool.Id,
    clientId: UserPoolClient.ClientId,
    jwksUrl: `${endpoint}/${UserPool.Id}/.well-known/jwks.json`,
  };
}

/** Adds `username` with a permanent `password` (no first-sign-in challenge). */
export async function addUser(pool, username, password) {
  await call(pool.endpoint, 'AdminCreateUser', {
    UserPoolId: pool.id,
    Username: username,
    MessageAction: 'SUPPRESS',
  });
  await call(pool.endpoint, 'AdminSetUserPassword', {
    UserPoolId: pool.id,
    Username: username,
    Password: password,
    Permanent: true,
  });
}

/** The user's ID token, signed in with USER_PASSWORD_AUTH (what the test itself sends). */
export async function idToken(pool, username, password) {
  const { AuthenticationResult } = await call(pool.endpoint, 'InitiateAuth', {
    ClientId: pool.clientId,
    AuthFlow: 'USER_PASSWORD_AUTH',
    AuthParameters: { USERNAME: username, PASSWORD: password },
  });
  return AuthenticationResult.IdToken;
}
