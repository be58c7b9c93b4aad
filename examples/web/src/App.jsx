import React, { useCallback, useEffect, useState } from 'react';
import {
  Alert,
  Button,
  Flex,
  Heading,
  Loader,
  PasswordField,
  Text,
  TextField,
  View,
} from '@aws-amplify/ui-react';
import {
  FaceLivenessDetector,
  FaceLivenessDetectorCore,
} from '@aws-amplify/ui-react-liveness';

import {
  apiBase,
  createSession,
  getConfig,
  getSession,
  newAttemptKey,
} from './api.js';
import { bearerToken, canSignIn, configureAuth, signInUser } from './auth.js';

// The emulator ignores the signature of the presigned websocket URL; the component still
// signs it, so it needs keys. These are not AWS credentials.
const FAKE_CREDENTIALS = {
  accessKeyId: 'AKIAEMULATOREXAMPLE00',
  secretAccessKey: 'emulator/secret/key/not/used/by/aws/0000000',
};

/** For the browser test: how often the session effect ran (2 under StrictMode in dev). */
function countEffectRun() {
  window.__livenessExample = window.__livenessExample || { sessionEffectRuns: 0 };
  window.__livenessExample.sessionEffectRuns += 1;
}

function useConfig(base) {
  const [state, setState] = useState({ phase: 'loading' });
  useEffect(() => {
    let live = true;
    getConfig(base).then(
      (config) => {
        // The user pool to sign in to; against AWS also the identity pool the component
        // gets its credentials from.
        configureAuth(config);
        if (live) setState({ phase: 'ready', config });
      },
      (error) => live && setState({ phase: 'error', error }),
    );
    return () => {
      live = false;
    };
  }, [base]);
  return state;
}

function Screen({ id, sessionId, children }) {
  return (
    <View data-testid={id} data-session-id={sessionId} padding="medium">
      {children}
    </View>
  );
}

function Detector({ config, sessionId, onComplete, onError, onUserCancel }) {
  const common = {
    sessionId,
    region: config.region,
    onAnalysisComplete: onComplete,
    onError,
    onUserCancel,
  };
  if (config.emulator) {
    const { streamingEndpoint, faceModelUrl, binaryPath } = config.emulator;
    return (
      <FaceLivenessDetectorCore
        {...common}
        config={{
          endpointOverride: streamingEndpoint,
          faceModelUrl,
          binaryPath,
          credentialProvider: async () => FAKE_CREDENTIALS,
        }}
      />
    );
  }
  return <FaceLivenessDetector {...common} />;
}

/** The sign-in form, shown when liveness-api refused the call (401) with `reason`. */
function SignIn({ reason, onSignedIn }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [state, setState] = useState({ phase: 'idle' });
  const submit = async (event) => {
    event.preventDefault();
    setState({ phase: 'signing-in' });
    try {
      await signInUser(username, password);
      onSignedIn();
    } catch (error) {
      setState({ phase: 'failed', error });
    }
  };
  return (
    <Screen id="sign-in">
      <Alert variation="info" heading="Sign in to start a check" data-testid="sign-in-reason">
        {reason}
      </Alert>
      <form onSubmit={submit}>
        <Flex direction="column" gap="small">
          <TextField label="Username" name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} />
          <PasswordField label="Password" name="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} />
          <Button type="submit" variation="primary" isLoading={state.phase === 'signing-in'}>
            Sign in
          </Button>
          {state.phase === 'failed' && (
            <Alert variation="error" data-testid="sign-in-error">
              {state.error.message}
            </Alert>
          )}
        </Flex>
      </form>
    </Screen>
  );
}

function Check({ base, config }) {
  // The attempt's Idempotency-Key is made when the attempt starts (first render, or the
  // "Try again" click), never in an effect: StrictMode's second effect run reuses it.
  const [attempt, setAttempt] = useState(() => ({ number: 1, key: newAttemptKey() }));
  const [state, setState] = useState({ phase: 'creating' });
  // Bumped by each sign-in, so the session is created again with the user's token.
  const [signIns, setSignIns] = useState(0);

  useEffect(() => {
    countEffectRun();
    let live = true;
    setState({ phase: 'creating' });
    bearerToken(config)
      .then((token) => createSession(base, config, attempt.key, token))
      .then(
        (session) => live && setState({ phase: 'checking', sessionId: session.sessionId }),
        (error) => live && setState({ phase: 'create-failed', error }),
      );
    return () => {
      live = false;
    };
  }, [base, config, attempt.key, signIns]);

  const tryAgain = useCallback(
    () => setAttempt((a) => ({ number: a.number + 1, key: newAttemptKey() })),
    [],
  );

  const fetchVerdict = useCallback(
    async (sessionId, componentError) => {
      setState({ phase: 'verdict-loading', sessionId, componentError });
      try {
        // The result is final once the stream ended; poll briefly in case it is not yet.
        const read = async () => getSession(base, config, sessionId, await bearerToken(config));
        let result = await read();
        for (let i = 0; i < 5 && ['CREATED', 'IN_PROGRESS'].includes(result.status) && !componentError; i++) {
          await new Promise((r) => setTimeout(r, 500));
          result = await read();
        }
        setState({ phase: 'verdict', sessionId, result, componentError });
      } catch (error) {
        setState({ phase: 'verdict-failed', sessionId, error, componentError });
      }
    },
    [base, config],
  );

  const againButton = (
    <Button variation="primary" onClick={tryAgain} data-testid="try-again">
      Try again
    </Button>
  );

  switch (state.phase) {
    case 'creating':
      return (
        <Screen id="creating">
          <Loader /> <Text as="span">Creating a liveness session…</Text>
        </Screen>
      );
    case 'create-failed':
      if (state.error.status === 401 && canSignIn(config)) {
        return <SignIn reason={state.error.message} onSignedIn={() => setSignIns((n) => n + 1)} />;
      }
      return (
        <Screen id="create-failed">
          <Alert variation="error" heading="Could not create a liveness session">
            {state.error.message}
          </Alert>
          {againButton}
        </Screen>
      );
    case 'checking':
      return (
        <Screen id="checking">
          <Text data-testid="session-id" fontSize="small" color="font.tertiary">
            Session {state.sessionId} (attempt {attempt.number})
          </Text>
          <Detector
            key={state.sessionId}
            config={config}
            sessionId={state.sessionId}
            onComplete={() => fetchVerdict(state.sessionId)}
            onError={(livenessError) => {
              // The check did not finish; the session can't be reused, a retry makes a new one.
              const what = livenessError?.state || 'ERROR';
              const why = livenessError?.error?.message || '';
              fetchVerdict(state.sessionId, { state: what, message: why });
            }}
            onUserCancel={() =>
              fetchVerdict(state.sessionId, {
                state: 'CANCELLED',
                message: 'the check was cancelled before it finished',
              })
            }
          />
        </Screen>
      );
    case 'verdict-loading':
      return (
        <Screen id="verdict-loading">
          <Loader /> <Text as="span">Getting the result…</Text>
        </Screen>
      );
    case 'verdict-failed':
      return (
        <Screen id="verdict-failed">
          {state.componentError && <ComponentError error={state.componentError} />}
          <Alert variation="error" heading="Could not get the result">
            {state.error.message}
          </Alert>
          {againButton}
        </Screen>
      );
    case 'verdict': {
      const { result, componentError } = state;
      // isLive tells this page what to show; only the signed verdict, checked by the app's
      // backend, may decide anything (the user controls this browser).
      const feedback = (result.feedback || []).map((f) => f.message).join(' ');
      return (
        <Screen id="verdict" sessionId={state.sessionId}>
          {componentError && <ComponentError error={componentError} />}
          <Alert
            variation={result.isLive ? 'success' : 'warning'}
            heading={result.isLive ? 'Live' : 'Not live'}
          >
            <Text
              data-testid="verdict-text"
              data-live={String(result.isLive)}
              data-verdict={result.verdict ? 'signed' : 'none'}
            >
              {result.isLive ? 'live' : 'not live'} ({result.status})
              {result.verdict ? ', signed verdict for the backend' : ''}
            </Text>
            {feedback && <Text data-testid="feedback">{feedback}</Text>}
          </Alert>
          {againButton}
        </Screen>
      );
    }
    default:
      return null;
  }
}

function ComponentError({ error }) {
  return (
    <Alert variation="error" heading="The check did not complete" data-testid="component-error">
      {error.state}
      {error.message ? `: ${error.message}` : ''}
    </Alert>
  );
}

export function App() {
  const base = apiBase();
  const config = useConfig(base);
  return (
    <Flex direction="column" maxWidth="720px" margin="0 auto">
      <Heading level={3} padding="medium">
        Face Liveness example
        {config.phase === 'ready' && (
          <Text as="span" fontSize="small" data-testid="mode">
            {' '}
            ({config.config.emulator ? 'local emulator' : `AWS ${config.config.region}`})
          </Text>
        )}
      </Heading>
      {config.phase === 'loading' && (
        <Screen id="config-loading">
          <Loader /> <Text as="span">Reading {base}/v1/config…</Text>
        </Screen>
      )}
      {config.phase === 'error' && (
        <Screen id="config-failed">
          <Alert variation="error" heading="liveness-api is not reachable">
            {config.error.message}
          </Alert>
          <Text>
            Start it (scripts/dev.sh runs everything locally) or point this page at it with{' '}
            <code>?api=http://host:port</code>.
          </Text>
        </Screen>
      )}
      {config.phase === 'ready' && <Check base={base} config={config.config} />}
    </Flex>
  );
}
