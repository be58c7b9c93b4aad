// The app backend's half of a liveness check: believe a liveness-api verdict only after
// verifying it. The browser's `isLive` proves nothing (the user controls the browser); the
// verdict is an ES256 JWS that only liveness-api can sign. Uses `jose`, not the Rust crate
// that signed it.
import { createRemoteJWKSet, jwtVerify } from 'jose';

/** A verifier for verdicts of the liveness-api at `jwksUrl` issued as `issuer`. */
export function verdictVerifier({ jwksUrl, issuer }) {
  const keys = createRemoteJWKSet(new URL(jwksUrl)); // cached, refetched on a new kid
  const usedSessions = new Set(); // a real backend keeps these in its database
  /** The verdict's claims, if it is genuine, current, about `user` and not seen before. */
  return async function verify(verdict, user) {
    const { payload } = await jwtVerify(verdict, keys, {
      issuer,
      subject: user,
      algorithms: ['ES256'],
      requiredClaims: ['sid', 'live', 'status', 'iat', 'exp'],
    });
    if (usedSessions.has(payload.sid)) throw new Error(`session ${payload.sid} was already used`);
    usedSessions.add(payload.sid);
    return payload; // the user is live only if payload.live === true
  };
}

// Command line (for the tests): node verify-verdict.mjs <jwksUrl> <issuer> <user> <verdict>...
// prints one JSON line per verdict: {"ok": true, "sid", "live"} or {"ok": false, "error"}.
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  const [jwksUrl, issuer, user, ...verdicts] = process.argv.slice(2);
  const verify = verdictVerifier({ jwksUrl, issuer });
  for (const verdict of verdicts) {
    try {
      const { sid, live, status } = await verify(verdict, user);
      console.log(JSON.stringify({ ok: true, sid, live, status }));
    } catch (err) {
      console.log(JSON.stringify({ ok: false, error: err.code || err.message }));
    }
  }
}
