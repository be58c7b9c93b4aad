// The example page, end to end in Debian's Chromium: the user signs in to a Cognito user
// pool on the test ground (ministack, real RS256 tokens), the page (own origin) →
// liveness-api (auth cognito, CORS, Idempotency-Key) → liveness-emulator (Rekognition JSON
// 1.1 + the streaming websocket) with Chromium's fake camera playing a face video, then a
// video without a face. A page that is not signed in gets the sign-in screen with the 401.
//
// Run by scripts/browser-test.sh, which prepares everything; the inputs come from the
// environment (defaults in brackets):
//   LIVENESS_API_BIN       liveness-api binary               [$CARGO_TARGET_DIR|../../target/debug/liveness-api]
//   LIVENESS_EMULATOR_BIN  liveness-emulator binary          [same dir/liveness-emulator]
//   EMULATOR_ASSETS_DIR    what scripts/emulator-assets.sh prepared (models/, wasm/)
//   FACE_VIDEO, NOFACE_VIDEO  y4m files for the fake camera (640x480, >= 15 fps)
//   TESTGROUND_AWS_ENDPOINT  ministack (scripts/testground.sh up), for the user pool
//   TESTGROUND_ENDPOINT_IMAGE, TESTGROUND_POD_GATEWAY, KUBECONFIG, PATH with kubectl: the
//                          test ground's node, for the operator-deployed endpoint in a pod
//   LIVENESS_OPERATOR_BIN  liveness-operator binary           [same dir/liveness-operator]
//   CHROMIUM               [/usr/bin/chromium]
// Screenshots and process logs go to test-output/browser/ at the repository root.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { connect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

import { addUser, createPool, idToken } from '../test-support/cognito.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const web = resolve(here, '..');
const repo = resolve(web, '../..');
const out = join(repo, 'test-output/browser');
const targetDir = process.env.CARGO_TARGET_DIR || join(repo, 'target');
const bins = {
  api: process.env.LIVENESS_API_BIN || join(targetDir, 'debug/liveness-api'),
  emulator: process.env.LIVENESS_EMULATOR_BIN || join(targetDir, 'debug/liveness-emulator'),
  operator: process.env.LIVENESS_OPERATOR_BIN || join(targetDir, 'debug/liveness-operator'),
};
const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run scripts/browser-test.sh`);
  return v;
};
const CHECK_TIMEOUT = 90_000;
const USER = { name: 'alice', password: 'Example-Passw0rd!' };

// ---- processes ------------------------------------------------------------------------
const children = [];

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.unref();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

function start(name, command, args, extraEnv = {}) {
  const logFile = join(out, 'logs', `${name}.log`);
  const log = createWriteStream(logFile);
  const child = spawn(command, args, {
    env: { ...process.env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  child.exited = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal })));
  child.logFile = logFile;
  child.spawnEnv = extraEnv;
  children.push(child);
  return child;
}

async function stopAll() {
  for (const child of children.reverse()) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await child.exited;
      clearTimeout(t);
    }
  }
}

async function waitFor(what, probe, child, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) {
      throw new Error(`${what}: the process exited (${child.exitCode}); see ${child.logFile}`);
    }
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} not ready after ${timeoutMs} ms: ${last?.message || 'no answer'}`);
}

/** The emulator's certificate as PEM, read from the TLS handshake (no interface needed). */
function peerCertificatePem(port) {
  return new Promise((ok, fail) => {
    const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false }, () => {
      const raw = socket.getPeerCertificate(true).raw;
      socket.end();
      const b64 = raw.toString('base64').match(/.{1,64}/g).join('\n');
      ok(`-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`);
    });
    socket.on('error', fail);
  });
}

// ---- the stack: emulator, liveness-api, static page -----------------------------------
const stack = {};

before(async () => {
  mkdirSync(join(out, 'logs'), { recursive: true });
  const assets = env('EMULATOR_ASSETS_DIR');
  const [emuPort, apiPort, webPort, metricsPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  stack.emulatorUrl = `https://127.0.0.1:${emuPort}`;
  stack.api = `http://127.0.0.1:${apiPort}`;
  stack.web = `http://127.0.0.1:${webPort}`;
  stack.metrics = `http://127.0.0.1:${metricsPort}/metrics`;
  stack.tmp = mkdtempSync(join(tmpdir(), 'liveness-browser-'));

  assert.ok(existsSync(bins.emulator), `${bins.emulator} is missing: cargo build --bin liveness-emulator`);
  // The JSON 1.1 API also over plain HTTP on the pod network's gateway, for the endpoint in
  // a pod (it cannot be given the self-signed certificate).
  const emuHttpPort = await freePort();
  stack.emulatorForPods = `http://${env('TESTGROUND_POD_GATEWAY')}:${emuHttpPort}`;
  stack.emulator = start('emulator', bins.emulator, [
    '--listen', `127.0.0.1:${emuPort}`, '--assets-dir', assets, '--outcome', 'judge',
    '--http-api-listen', `${env('TESTGROUND_POD_GATEWAY')}:${emuHttpPort}`,
  ]);
  const pem = await waitFor('emulator (TLS)', () => peerCertificatePem(emuPort), stack.emulator);
  // liveness-api's AWS SDK (rustls with the system roots) trusts the emulator through
  // SSL_CERT_FILE: the emulator's self-signed certificate is the only root it needs.
  const certFile = join(stack.tmp, 'emulator-cert.pem');
  writeFileSync(certFile, pem);

  // The session key (32 random bytes) and the verdict key (PKCS#8 P-256) liveness-api needs.
  const sessionKey = join(stack.tmp, 'session.key');
  writeFileSync(sessionKey, randomBytes(32));
  const signingKey = join(stack.tmp, 'verdict.pem');
  const { privateKey } = generateKeyPairSync('ec', {
    namedCurve: 'P-256',
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  writeFileSync(signingKey, privateKey);

  // The user pool the page signs in to, with one user.
  stack.pool = await createPool(env('TESTGROUND_AWS_ENDPOINT'));
  await addUser(stack.pool, USER.name, USER.password);

  assert.ok(existsSync(bins.api), `${bins.api} is missing: cargo build --bin liveness-api`);
  stack.apiProc = start('liveness-api', bins.api, [], {
    LIVENESS_LISTEN: `127.0.0.1:${apiPort}`,
    LIVENESS_METRICS_LISTEN: `127.0.0.1:${metricsPort}`,
    // Signed-in callers of the pool's web client only; the JWKS is on ministack's port.
    LIVENESS_AUTH: 'cognito',
    LIVENESS_COGNITO_USER_POOL_ID: stack.pool.id,
    LIVENESS_COGNITO_CLIENT_IDS: stack.pool.clientId,
    LIVENESS_JWKS_URL: stack.pool.jwksUrl,
    LIVENESS_SESSION_KEY_FILE: sessionKey,
    LIVENESS_SIGNING_KEY_FILE: signingKey,
    LIVENESS_APP: 'browser-test/example',
    LIVENESS_REGION: 'us-east-1',
    LIVENESS_ALLOWED_ORIGINS: stack.web,
    LIVENESS_EMULATOR_URL: stack.emulatorUrl,
    LIVENESS_RATE_LIMIT_PER_MINUTE: '0',
    LIVENESS_LOG_FORMAT: 'text',
    AWS_ENDPOINT_URL: stack.emulatorUrl,
    AWS_ACCESS_KEY_ID: 'AKIAEMULATOREXAMPLE00',
    AWS_SECRET_ACCESS_KEY: 'emulator-secret',
    AWS_EC2_METADATA_DISABLED: 'true',
    SSL_CERT_FILE: certFile,
  });
  await waitFor('liveness-api', async () => (await fetch(`${stack.api}/readyz`)).ok, stack.apiProc);

  // A second endpoint asking for the challenge without flashing lights (photosensitive
  // users): the same page and emulator, only --challenges differs.
  const [noLightPort, noLightMetrics] = [await freePort(), await freePort()];
  stack.noLightApi = `http://127.0.0.1:${noLightPort}`;
  stack.noLightProc = start('liveness-api-no-light', bins.api, [], {
    ...stack.apiProc.spawnEnv,
    LIVENESS_LISTEN: `127.0.0.1:${noLightPort}`,
    LIVENESS_METRICS_LISTEN: `127.0.0.1:${noLightMetrics}`,
    LIVENESS_CHALLENGES: 'FaceMovementChallenge',
  });
  await waitFor('liveness-api (no light)', async () => (await fetch(`${stack.noLightApi}/readyz`)).ok, stack.noLightProc);

  stack.webProc = start('web', process.execPath, [join(web, 'serve.mjs'), '--listen', `127.0.0.1:${webPort}`]);
  await waitFor('page server', async () => (await fetch(`${stack.web}/`)).ok, stack.webProc);

  // liveness-api started with LIVENESS_EMULATOR_URL tells the page where the emulator is.
  const config = await (await fetch(`${stack.api}/v1/config`)).json();
  assert.deepEqual(config.emulator, {
    streamingEndpoint: `wss://127.0.0.1:${emuPort}`,
    faceModelUrl: `${stack.emulatorUrl}/assets/models/facemesh-detection-short.json`,
    binaryPath: `${stack.emulatorUrl}/assets/wasm/`,
  });
  assert.deepEqual(config.auth, { mode: 'cognito', userPoolId: stack.pool.id, clientIds: [stack.pool.clientId] });
  stack.userPoolEndpoint = `&userPoolEndpoint=${encodeURIComponent(stack.pool.endpoint)}`;
  stack.pageQuery = `?api=${encodeURIComponent(stack.api)}${stack.userPoolEndpoint}`;
});

after(async () => {
  await stopAll();
  if (stack.tmp) rmSync(stack.tmp, { recursive: true, force: true });
});

// ---- the endpoint the operator deploys, in a pod on the test ground's node -------------
const run = (command, args, input) =>
  new Promise((ok, fail) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => (code === 0 ? ok(out) : fail(new Error(`${command} ${args.join(' ')}: ${err || out}`))));
    child.stdin.end(input || '');
  });
const kubectl = (args, input) => run('kubectl', args, input);

/**
 * Runs liveness-operator with the image built from this tree and a guest LivenessApp
 * allowing the page's origin; resolves to the endpoint's in-cluster URL (its ClusterIP,
 * reached through kube-proxy) once the app is Ready from its pod's probes.
 */
async function inClusterEndpoint(namespace) {
  await kubectl(['create', 'namespace', namespace]);
  const metricsPort = await freePort();
  stack.operator = start('operator', bins.operator, [
    'run', '--watch-namespaces', namespace, '--lease-namespace', namespace, '--cluster-name', namespace,
    '--oidc-provider', 'oidc.eks.us-east-1.amazonaws.com/id/TESTGROUND', '--metrics-addr', `127.0.0.1:${metricsPort}`,
    '--endpoint-image', env('TESTGROUND_ENDPOINT_IMAGE'),
    // The pod has no IRSA here: the emulator's endpoint and keys it does not check.
    '--endpoint-env', `AWS_ENDPOINT_URL=${stack.emulatorForPods}`,
    '--endpoint-env', 'AWS_ACCESS_KEY_ID=AKIAEMULATOREXAMPLE00',
    '--endpoint-env', 'AWS_SECRET_ACCESS_KEY=emulator-secret',
  ], { AWS_ENDPOINT_URL: env('TESTGROUND_AWS_ENDPOINT'), AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' });
  const app = {
    apiVersion: 'faceliveness.dev/v1alpha1',
    kind: 'LivenessApp',
    metadata: { name: 'in-cluster', namespace },
    spec: {
      region: 'us-east-1',
      identityPool: { allowUnauthenticated: true },
      endpoint: { auth: { mode: 'none' }, replicas: 1, allowedOrigins: [stack.web] },
    },
  };
  await kubectl(['apply', '-f', '-'], JSON.stringify(app));
  await kubectl(['-n', namespace, 'wait', '--for=condition=Ready', '--timeout=150s', 'livenessapp/in-cluster']);
  const name = (await kubectl(['-n', namespace, 'get', 'service', '-l', 'app.kubernetes.io/instance=in-cluster', '-o', 'jsonpath={.items[0].metadata.name}'])).trim();
  const ip = (await kubectl(['-n', namespace, 'get', 'service', name, '-o', 'jsonpath={.spec.clusterIP}'])).trim();
  return `http://${ip}`;
}

// ---- browser --------------------------------------------------------------------------
async function launch(video) {
  const userDataDir = mkdtempSync(join(tmpdir(), 'liveness-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1000, height: 900 },
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--ignore-certificate-errors',
      '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
      `--use-file-for-fake-video-capture=${video}`,
    ],
  });
  const page = context.pages()[0] || (await context.newPage());
  const consoleLines = [];
  page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
  const close = async (name) => {
    writeFileSync(join(out, 'logs', `${name}-console.log`), consoleLines.join('\n') + '\n');
    await context.close();
    rmSync(userDataDir, { recursive: true, force: true });
  };
  return { page, close };
}

/**
 * GET /v1/sessions/{id} as the signed-in user (their own ID token: the same `sub`), with the
 * session token the page received when it created the session.
 */
async function readSession(page, sessionId) {
  const token = await page.evaluate((id) => window.__livenessExample.sessionTokens[id], sessionId);
  assert.ok(token, `the page got a session token for ${sessionId}`);
  const bearer = await idToken(stack.pool, USER.name, USER.password);
  const response = await fetch(`${stack.api}/v1/sessions/${sessionId}`, {
    headers: { 'X-Liveness-Session-Token': token, Authorization: `Bearer ${bearer}` },
  });
  assert.equal(response.status, 200);
  return response.json();
}

async function shot(page, name) {
  await page.screenshot({ path: join(out, `${name}.png`) });
}

async function sessionCreates() {
  // /metrics is on its own port, not the public one.
  const text = await (await fetch(stack.metrics)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith('liveness_api_http_requests_total{route="/v1/sessions",method="POST",status="201"}'));
  return line ? Number(line.split(' ').pop()) : 0;
}

/**
 * The page, not signed in, was refused with 401 and shows the sign-in form: the user signs
 * in (Amplify Auth, SRP against the test ground's user pool).
 */
async function signIn(page) {
  await page.getByTestId('sign-in').waitFor({ timeout: 30_000 });
  await page.getByLabel('Username').fill(USER.name);
  await page.getByLabel('Password', { exact: true }).fill(USER.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Waits for the page to reach the component, starts the check, waits for the outcome. */
async function runCheck(page, name) {
  await page.getByTestId('checking').waitFor({ timeout: 30_000 });
  const start = page.getByRole('button', { name: /start video check/i });
  await start.waitFor({ timeout: 30_000 });
  await shot(page, `${name}-1-start`);
  await start.click();
  // The component shows the camera with the oval while it checks.
  await page.locator('video').first().waitFor({ timeout: 30_000 });
  await page.waitForTimeout(2000);
  await shot(page, `${name}-2-check`);
  const outcome = page.getByTestId('verdict').or(page.getByTestId('verdict-failed'));
  await outcome.waitFor({ timeout: CHECK_TIMEOUT });
  await shot(page, `${name}-3-verdict`);
}

describe('example page in Chromium', { concurrency: false }, () => {
  test('not signed in, the page gets the sign-in screen; signed in, a face is live with one session under StrictMode; "Try again" makes a new one', { timeout: 180_000 }, async () => {
    const before = await sessionCreates();
    const { page, close } = await launch(env('FACE_VIDEO'));
    try {
      await page.goto(`${stack.web}/${stack.pageQuery}`);
      // No token yet: liveness-api refused the create, and the page says why.
      await page.getByTestId('sign-in').waitFor({ timeout: 30_000 });
      const reason = await page.getByTestId('sign-in-reason').innerText();
      assert.match(reason, /401: No bearer token: send Authorization: Bearer/, reason);
      assert.equal((await sessionCreates()) - before, 0, 'no session for an anonymous caller');
      await shot(page, 'face-0-sign-in');
      // A wrong password is Cognito's refusal, shown on the form.
      await page.getByLabel('Username').fill(USER.name);
      await page.getByLabel('Password', { exact: true }).fill('not-the-password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByTestId('sign-in-error').waitFor({ timeout: 30_000 });

      await signIn(page);
      await runCheck(page, 'face');
      const verdict = page.getByTestId('verdict-text');
      assert.equal(await verdict.getAttribute('data-live'), 'true', await page.getByTestId('verdict').innerText());
      assert.match(await verdict.innerText(), /^live \(SUCCEEDED\)/);
      assert.equal(await verdict.getAttribute('data-verdict'), 'signed');

      // StrictMode ran the session effect twice, yet liveness-api created one session.
      const runs = await page.evaluate(() => window.__livenessExample.sessionEffectRuns);
      assert.ok(runs >= 2, `the session effect ran ${runs} time(s): not a StrictMode development build?`);
      assert.equal((await sessionCreates()) - before, 1, 'exactly one POST /v1/sessions → 201');

      // The session the page showed is the one liveness-api reports as live.
      const sessionId = (await page.getByTestId('verdict').getAttribute('data-session-id')) || '';
      const result = await readSession(page, sessionId);
      assert.equal(result.isLive, true, JSON.stringify(result));
      assert.equal(result.confidence, undefined, 'the score stays on the server');
      assert.equal(result.verdict.split('.').length, 3, 'a compact JWS for the backend');
      const bearer = await idToken(stack.pool, USER.name, USER.password);
      const bare = await fetch(`${stack.api}/v1/sessions/${sessionId}`, {
        headers: { Authorization: `Bearer ${bearer}` },
      });
      assert.equal(bare.status, 404, 'without the session token the session is not found');
      const anonymous = await fetch(`${stack.api}/v1/sessions/${sessionId}`);
      assert.equal(anonymous.status, 401, 'without a sign-in token nothing is answered');

      await page.getByTestId('try-again').click();
      await page.getByTestId('checking').waitFor({ timeout: 30_000 });
      assert.equal((await sessionCreates()) - before, 2, 'a retry creates a fresh session');
      assert.match(await page.getByTestId('session-id').innerText(), /attempt 2/);
    } finally {
      await close('face');
    }
  });

  test('the no-light challenge (FaceMovementChallenge) completes and is live', { timeout: 180_000 }, async () => {
    const { page, close } = await launch(env('FACE_VIDEO'));
    try {
      await page.goto(`${stack.web}/?api=${encodeURIComponent(stack.noLightApi)}${stack.userPoolEndpoint}`);
      await signIn(page);
      await runCheck(page, 'no-light');
      const verdict = page.getByTestId('verdict-text');
      assert.equal(await verdict.getAttribute('data-live'), 'true', await page.getByTestId('verdict').innerText());
      const sessionId = (await page.getByTestId('verdict').getAttribute('data-session-id')) || '';
      assert.match(sessionId, /^[0-9a-f-]{36}$/);
      // The emulator streamed the movement-only challenge: no colour sequence was shown.
      const { readFileSync } = await import('node:fs');
      const log = readFileSync(stack.emulator.logFile, 'utf8')
        .split('\n')
        .find((line) => line.includes('stream started') && line.includes(sessionId));
      assert.ok(log, `the emulator logged no stream for ${sessionId}`);
      assert.match(log, /challenge="?FaceMovementChallenge"?/, log);
    } finally {
      await close('no-light');
    }
  });

  test('a video without a face never passes: the session is not live, and cancelling shows "not live"', { timeout: 180_000 }, async () => {
    const { page, close } = await launch(env('NOFACE_VIDEO'));
    try {
      await page.goto(`${stack.web}/${stack.pageQuery}`);
      await signIn(page);
      await page.getByTestId('checking').waitFor({ timeout: 30_000 });
      const sessionText = await page.getByTestId('session-id').innerText();
      const sessionId = sessionText.match(/[0-9a-f-]{36}/)[0];
      const start = page.getByRole('button', { name: /start video check/i });
      await start.waitFor({ timeout: 30_000 });
      await shot(page, 'noface-1-start');
      await start.click();
      // The client finds no face, so it never fits the oval nor ends the video; the
      // emulator's judge has nothing to pass. Watch long enough for a pass to show up.
      await page.waitForTimeout(5_000);
      await shot(page, 'noface-2-check');
      await page.waitForTimeout(10_000);
      assert.equal(await page.getByTestId('verdict').count(), 0, 'no verdict without a face');
      const during = await readSession(page, sessionId);
      assert.equal(during.isLive, false, JSON.stringify(during));
      assert.notEqual(during.status, 'SUCCEEDED', JSON.stringify(during));

      // The user gives up: the page reports the session's state as not live.
      await page.getByRole('button', { name: /cancel liveness check/i }).click();
      await page.getByTestId('verdict').waitFor({ timeout: 30_000 });
      await shot(page, 'noface-3-verdict');
      const shown = await page.getByTestId('verdict').innerText();
      assert.equal(await page.getByTestId('verdict-text').getAttribute('data-live'), 'false', shown);
      assert.match(shown, /CANCELLED/);
    } finally {
      await close('noface');
    }
  });

  test('the endpoint the operator deployed, in a pod behind its Service, runs a live check', { timeout: 300_000 }, async () => {
    const namespace = `browser-${process.pid}`;
    const { page, close } = await launch(env('FACE_VIDEO'));
    try {
      const api = await inClusterEndpoint(namespace);
      // kube-proxy writes the Service's rules a moment after the pod turns Ready.
      const served = await waitFor('the Service answering', async () => (await fetch(`${api}/v1/config`)).json());
      assert.equal(served.emulator, undefined, 'the in-cluster endpoint is configured by its LivenessApp only');
      await page.goto(`${stack.web}/?api=${encodeURIComponent(api)}&emulator=${encodeURIComponent(stack.emulatorUrl)}`);
      await runCheck(page, 'in-cluster');
      const verdict = page.getByTestId('verdict-text');
      assert.equal(await verdict.getAttribute('data-live'), 'true', await page.getByTestId('verdict').innerText());
      assert.equal(await verdict.getAttribute('data-verdict'), 'signed');
      // The pod served it: its log has the session the page showed.
      const sessionId = (await page.getByTestId('verdict').getAttribute('data-session-id')) || '';
      const logs = await kubectl(['-n', namespace, 'logs', '-l', 'app.kubernetes.io/instance=in-cluster', '--tail=-1']);
      assert.ok(logs.includes(sessionId), `the pod's log does not name ${sessionId}:\n${logs}`);
    } finally {
      await close('in-cluster');
      await kubectl(['delete', 'namespace', namespace, '--wait=false']).catch(() => {});
    }
  });

  test('an unreachable liveness-api gets a clear error screen', { timeout: 60_000 }, async () => {
    const closedPort = await freePort();
    const { page, close } = await launch(env('NOFACE_VIDEO'));
    try {
      await page.goto(`${stack.web}/?api=${encodeURIComponent(`http://127.0.0.1:${closedPort}`)}`);
      const screen = page.getByTestId('config-failed');
      await screen.waitFor({ timeout: 15_000 });
      assert.match(await screen.innerText(), /liveness-api is not reachable[\s\S]*cannot reach http:\/\/127\.0\.0\.1/);
      await shot(page, 'config-unreachable');
    } finally {
      await close('unreachable');
    }
  });
});
