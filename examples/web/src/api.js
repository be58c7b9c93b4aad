// Calls to liveness-api (see openapi/liveness-api.yaml in the repository).

/** The liveness-api base URL: `?api=` on the page, else the build-time default. */
export function apiBase(location = window.location) {
  const fromQuery = new URLSearchParams(location.search).get('api');
  // LIVENESS_API_URL is replaced by esbuild (build.mjs); default http://127.0.0.1:8080.
  return (fromQuery || LIVENESS_API_URL).replace(/\/+$/, '');
}

/** An error with the message liveness-api gave (`{"error", "message"}` bodies). */
export class ApiError extends Error {
  constructor(message, { status, code } = {}) {
    super(message);
    this.status = status;
    this.code = code;
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
    });
  }
  return body;
}

/** GET /v1/config: region, identityPoolId, sessionsUrl, threshold, and `emulator` in local mode. */
export function getConfig(base) {
  return request(`${base}/v1/config`);
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

/** POST /v1/sessions with `Idempotency-Key: key` → `{sessionId, expiresAt}`. */
export function createSession(base, config, key) {
  if (!creating.has(key)) {
    const promise = request(sessionsUrl(base, config), {
      method: 'POST',
      headers: { 'Idempotency-Key': key },
    });
    // A failed create may be retried with the same key.
    promise.catch(() => creating.delete(key));
    creating.set(key, promise);
  }
  return creating.get(key);
}

/** GET /v1/sessions/{id} → `{sessionId, status, confidence, isLive, threshold}`. */
export function getSession(base, config, sessionId) {
  return request(`${sessionsUrl(base, config)}/${encodeURIComponent(sessionId)}`);
}

/** A fresh Idempotency-Key (1-64 of [A-Za-z0-9_-], as ClientRequestToken requires). */
export function newAttemptKey() {
  // randomUUID needs a secure context (https or localhost); getRandomValues does not.
  if (crypto.randomUUID) return `web-${crypto.randomUUID()}`;
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `web-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
