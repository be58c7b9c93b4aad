// Signing the user in, as liveness-api asks in /v1/config `auth` (openapi: FrontendAuth).
//
// liveness-api creates sessions only for signed-in callers (auth mode `cognito` or
// `oidc`); the page sends the user's ID token as `Authorization: Bearer`. This example
// signs in to the Cognito user pool with Amplify Auth (SRP, Amplify's default). An `oidc`
// endpoint needs the issuer's own sign-in, which this page does not have.
import { Amplify } from 'aws-amplify';
import { fetchAuthSession, signIn, signOut } from 'aws-amplify/auth';

/**
 * Configures Amplify from liveness-api's /v1/config: the user pool (mode `cognito`) and,
 * against AWS, the identity pool the FaceLivenessDetector takes its credentials from.
 * `?userPoolEndpoint=` points sign-in at another Cognito endpoint (the test ground).
 */
export function configureAuth(config, location = window.location) {
  const cognito = {};
  if (config.auth?.mode === 'cognito') {
    cognito.userPoolId = config.auth.userPoolId;
    cognito.userPoolClientId = config.auth.clientIds[0];
    const endpoint = new URLSearchParams(location.search).get('userPoolEndpoint');
    if (endpoint) cognito.userPoolEndpoint = endpoint;
  }
  if (!config.emulator && config.identityPoolId) {
    cognito.identityPoolId = config.identityPoolId;
    // Guests get credentials only if the identity pool allows them (allowUnauthenticated).
    cognito.allowGuestAccess = true;
  }
  if (Object.keys(cognito).length) Amplify.configure({ Auth: { Cognito: cognito } });
}

/** Whether this page can sign the user in for `config` (only Cognito user pools). */
export function canSignIn(config) {
  return config.auth?.mode === 'cognito';
}

/** Signs `username` in; resolves when tokens are stored, rejects with Cognito's message. */
export async function signInUser(username, password) {
  // A previous user's tokens would otherwise stay (Amplify keeps one signed-in user).
  await signOut().catch(() => {});
  const result = await signIn({ username, password });
  if (!result.isSignedIn) {
    throw new Error(`sign-in needs another step (${result.nextStep?.signInStep}), which this example does not handle`);
  }
}

/** The signed-in user's ID token (refreshed by Amplify when it expired), or null. */
export async function bearerToken(config) {
  if (!canSignIn(config)) return null;
  try {
    const session = await fetchAuthSession();
    return session.tokens?.idToken?.toString() || null;
  } catch {
    return null;
  }
}
