// Calls to liveness-api (see openapi/liveness-api.yaml in the repository).

/** The liveness-api base URL: `?api=` on the page, else the build-time default. */
export function apiBase(location = window.location) {
  const fromQuery = new URLSearchParams(location.search).get('api');
  // LIVENESS_API_URL is replaced by esbuild (build.mjs); default http://127.0.0.1:8080.
  return (fromQuery || LIVENESS_API_URL).replace(/\/+$/, '');
}

/** An error with the message liveness-api gave (`{"error", "message"}` bodies). */
export class ApiError extends Error {
  constructor(message, { status, code, reason } = {}) {
    super(message);
    this.status = status;
    this.code = code;
    // With 401: why the token was refused (missing, expired, audience, …).
    this.reason = reason;
  }
}

async function request(url, init) {
  let response;
  try {
    response = await fetch(url, { ...init, cache: 'no-store' });
  } catch (err) {
    // fetch gives no detail on network and CORS failures, on purpose.
    throw new ApiError(
      `cannot reach ${url} (${err.message}): is liveness-api running, and does ` +
        `LIVENESS_ALLOWED_ORIGINS include ${window.location.origin}?`,
    );
  }
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: reported below with the status
  }
  if (!response.ok) {
    const message = body?.message || text || response.statusText;
    throw new ApiError(`${response.status}: ${message}`, {
      status: response.status,
      code: body?.error,
      reason: body?.reason,
    });
  }
  return body;
}

/**
 * GET /v1/config: region, identityPoolId, sessionsUrl, threshold, auth, and `emulator` in
 * local mode. `?emulator=https://host:port` on the page names a liveness-emulator when the
 * endpoint cannot (one the operator deployed, whose settings come from its LivenessApp).
 */
export async function getConfig(base, location = window.location) {
  const config = await request(`${base}/v1/config`);
  const emulator = new URLSearchParams(location.search).get('emulator');
  if (emulator && !config.emulator) {
    const origin = emulator.replace(/\/+$/, '');
    config.emulator = {
      streamingEndpoint: origin.replace(/^https:/, 'wss:'),
      faceModelUrl: `${origin}/assets/models/facemesh-detection-short.json`,
      binaryPath: `${origin}/assets/wasm/`,
    };
  }
  return config;
}

function sessionsUrl(base, config) {
  const url = config.sessionsUrl || '/v1/sessions';
  return /^https?:/.test(url) ? url : `${base}${url}`;
}

// One request per Idempotency-Key. React.StrictMode runs an effect twice (mount, unmount,
// mount) in development; both runs get the same promise, so one POST is sent. The header
// makes liveness-api pass the key as ClientRequestToken, so even a second POST with the
// same key would get the same session.
const creating = new Map();

// The session token of each session this page created: liveness-api answers
// GET /v1/sessions/{id} only with it (X-Liveness-Session-Token), and only to the caller who
// created the session (the same signed-in user).
const sessionTokens = new Map();

/** For the browser test: the tokens of the sessions created so far. */
function exposeForTests() {
  window.__livenessExample = window.__livenessExample || { sessionEffectRuns: 0 };
  window.__livenessExample.sessionTokens = Object.fromEntries(sessionTokens);
}

/** `Authorization: Bearer <token>` when the user is signed in. */
function withBearer(headers, token) {
  return token ? { ...headers, Authorization: `Bearer ${token}` } : headers;
}

/**
 * POST /v1/sessions with `Idempotency-Key: key` → `{sessionId, sessionToken, expiresAt}`;
 * `token` is the signed-in user's ID token (null: anonymous, which a `cognito` endpoint
 * answers with 401).
 */
export function createSession(base, config, key, token) {
  if (!creating.has(key)) {
    const promise = request(sessionsUrl(base, config), {
      method: 'POST',
      headers: withBearer({ 'Idempotency-Key': key }, token),
    }).then((session) => {
      sessionTokens.set(session.sessionId, session.sessionToken);
      exposeForTests();
      return session;
    });
    // A failed create may be retried with the same key.
    promise.catch(() => creating.delete(key));
    creating.set(key, promise);
  }
  return creating.get(key);
}

/**
 * GET /v1/sessions/{id} → `{sessionId, status, isLive, verdict, feedback}`. `isLive` only
 * drives this page; the app's backend decides on the signed `verdict` (examples/backend).
 */
export function getSession(base, config, sessionId, token) {
  return request(`${sessionsUrl(base, config)}/${encodeURIComponent(sessionId)}`, {
    headers: withBearer({ 'X-Liveness-Session-Token': sessionTokens.get(sessionId) || '' }, token),
  });
}

/** A fresh Idempotency-Key (1-64 of [A-Za-z0-9_-], as ClientRequestToken requires). */
export function newAttemptKey() {
  // randomUUID needs a secure context (https or localhost); getRandomValues does not.
  if (crypto.randomUUID) return `web-${crypto.randomUUID()}`;
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `web-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
