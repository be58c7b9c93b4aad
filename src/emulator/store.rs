//! The session store behind both the JSON 1.1 operations and the streaming websocket: one
//! place that knows which sessions exist, what each will report, and whether it streamed.
//!
//! Sessions are remembered, a `ClientRequestToken` seen before returns the same `SessionId`,
//! and a session nobody finished expires [`SESSION_LIFETIME`] after creation, as in AWS.
//! The websocket reports each stream here ([`StubHandle::begin_stream`],
//! [`StubHandle::finish_stream`]); the [`Policy`] then decides the session's outcome, unless
//! a test scripted one for that session already (the scripting methods exist with the
//! `test-util` feature only).
//!
//! [`SESSION_LIFETIME`]: crate::rules::SESSION_LIFETIME

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use super::judge::{ChallengeKind, ClientReport, Policy};
use super::outcome::{FeedbackItem, Outcome};
use super::scripting::Script;

struct Session {
    created: Instant,
    outcome: Outcome,
    /// A websocket was opened for it (a session streams once).
    streamed: bool,
    /// The challenge the stream used (the light one until a stream says otherwise).
    challenge: ChallengeKind,
    /// `ChallengePreferences` of the create call, in order (empty: the emulator's default).
    preferences: Vec<ChallengeKind>,
    /// What `Feedback` reports (set when a judged stream fails, or scripted).
    feedback: Vec<FeedbackItem>,
}

/// What `GetFaceLivenessSessionResults` reports about one session.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionView {
    pub outcome: Outcome,
    pub challenge: ChallengeKind,
    pub feedback: Vec<FeedbackItem>,
}

struct State {
    sessions: HashMap<String, Session>,
    tokens: HashMap<String, String>,
    default_outcome: Outcome,
    stream_policy: Policy,
}

struct Shared {
    state: Mutex<State>,
    /// Test scripting; a no-op without `test-util`. Never locked while holding it.
    script: Script,
}

/// Why a streaming session was refused (the emulator answers with a `ValidationException`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StreamRefusal {
    #[error("Session not found")]
    NotFound,
    #[error("Session has expired")]
    Expired,
    #[error("Session has already been used")]
    AlreadyUsed,
}

/// The session store, shared by the routes that serve it; cheap to clone.
#[derive(Clone)]
pub struct StubHandle(Arc<Shared>);

impl Default for StubHandle {
    fn default() -> Self {
        Self::new()
    }
}

impl StubHandle {
    /// A fresh store: sessions start `Succeeded(97.5)`, streams are judged at 95.0.
    pub fn new() -> Self {
        StubHandle(Arc::new(Shared {
            state: Mutex::new(State {
                sessions: HashMap::new(),
                tokens: HashMap::new(),
                default_outcome: Outcome::Succeeded(97.5),
                stream_policy: Policy::Judge { confidence: 95.0 },
            }),
            script: Script::new(),
        }))
    }
    fn lock(&self) -> MutexGuard<'_, State> {
        self.0.state.lock().unwrap_or_else(|e| e.into_inner())
    }
    /// The hooks the operations call (scripted faults, delays, recording).
    pub(super) fn script(&self) -> &Script {
        &self.0.script
    }
    /// The outcome given to sessions created from now on (initially `Succeeded(97.5)`).
    pub fn set_default_outcome(&self, outcome: Outcome) {
        self.lock().default_outcome = outcome;
    }
    /// How a finished stream sets the outcome of a session still `Created`/`InProgress`.
    pub fn set_stream_policy(&self, policy: Policy) {
        self.lock().stream_policy = policy;
    }

    /// A new session with the default outcome, or the one `token` created before.
    pub(super) fn create_session(
        &self,
        token: Option<&str>,
        preferences: Vec<ChallengeKind>,
    ) -> String {
        let mut state = self.lock();
        if let Some(known) = token.and_then(|t| state.tokens.get(t)) {
            return known.clone();
        }
        let id = uuid::Uuid::new_v4().to_string();
        let session = Session {
            created: Instant::now(),
            outcome: state.default_outcome,
            streamed: false,
            challenge: preferences.first().copied().unwrap_or_default(),
            preferences,
            feedback: Vec::new(),
        };
        state.sessions.insert(id.clone(), session);
        if let Some(t) = token {
            state.tokens.insert(t.to_owned(), id.clone());
        }
        id
    }

    /// What `GetFaceLivenessSessionResults` reports for `session_id` (`None` if unknown): its
    /// outcome, `Expired` once an unfinished session outlived its lifetime, its challenge and
    /// feedback.
    pub(super) fn results(&self, session_id: &str) -> Option<SessionView> {
        let lifetime = self.script().lifetime();
        let state = self.lock();
        let session = state.sessions.get(session_id)?;
        let outcome = match session.outcome {
            Outcome::Created | Outcome::InProgress if session.created.elapsed() >= lifetime => {
                Outcome::Expired
            }
            outcome => outcome,
        };
        Some(SessionView {
            outcome,
            challenge: session.challenge,
            feedback: session.feedback.clone(),
        })
    }

    /// A websocket opened for `session_id`: `Created` becomes `InProgress`. Returns the
    /// session's challenge preferences, for the stream to pick its challenge by.
    pub fn begin_stream(&self, session_id: &str) -> Result<Vec<ChallengeKind>, StreamRefusal> {
        let lifetime = self.script().lifetime();
        let mut state = self.lock();
        let session = state
            .sessions
            .get_mut(session_id)
            .ok_or(StreamRefusal::NotFound)?;
        match session.outcome {
            Outcome::Created if session.created.elapsed() >= lifetime => {
                Err(StreamRefusal::Expired)
            }
            Outcome::Expired => Err(StreamRefusal::Expired),
            Outcome::Succeeded(_) | Outcome::SucceededWithoutConfidence | Outcome::Failed(_)
                if session.streamed =>
            {
                Err(StreamRefusal::AlreadyUsed)
            }
            Outcome::Created => {
                session.outcome = Outcome::InProgress;
                session.streamed = true;
                Ok(session.preferences.clone())
            }
            _ => {
                session.streamed = true;
                Ok(session.preferences.clone())
            }
        }
    }

    /// The client ended its video: the policy decides the outcome from `report`, unless the
    /// session's outcome was scripted. Returns the session's outcome afterwards.
    pub fn finish_stream(&self, session_id: &str, report: &ClientReport) -> Option<Outcome> {
        let lifetime = self.script().lifetime();
        let mut state = self.lock();
        let policy = state.stream_policy;
        let session = state.sessions.get_mut(session_id)?;
        session.challenge = report.challenge;
        if matches!(session.outcome, Outcome::Created | Outcome::InProgress)
            && session.created.elapsed() < lifetime
        {
            session.outcome = policy.decide(report);
            if matches!(session.outcome, Outcome::Failed(_)) {
                session.feedback = report.feedback();
            }
        }
        Some(session.outcome)
    }
}

/// Scripting and inspection for tests (`test-util` only).
#[cfg(feature = "test-util")]
impl StubHandle {
    /// Scripts what `GetFaceLivenessSessionResults` answers for one existing session.
    pub fn set_outcome(&self, session_id: &str, outcome: Outcome) {
        if let Some(s) = self.lock().sessions.get_mut(session_id) {
            s.outcome = outcome;
        }
    }
    /// Scripts the `Feedback` list one session reports.
    pub fn set_feedback(&self, session_id: &str, feedback: Vec<FeedbackItem>) {
        if let Some(s) = self.lock().sessions.get_mut(session_id) {
            s.feedback = feedback;
        }
    }
    /// The outcome a session has now (`None` if unknown).
    pub fn outcome(&self, session_id: &str) -> Option<Outcome> {
        self.lock().sessions.get(session_id).map(|s| s.outcome)
    }
    /// Number of distinct sessions created.
    pub fn sessions_created(&self) -> usize {
        self.lock().sessions.len()
    }
    /// Makes every `CreateFaceLivenessSession` fail with `fault` (`None` to stop).
    pub fn fail_creates_with(&self, fault: Option<super::outcome::Fault>) {
        self.script().set_create_fault(fault);
    }
    /// Delays every answer, to exercise client and server timeouts.
    pub fn set_delay(&self, delay: std::time::Duration) {
        self.script().set_delay(delay);
    }
    /// Shortens (or lengthens) how long unfinished sessions live, so tests need not wait
    /// the real three minutes.
    pub fn set_session_lifetime(&self, lifetime: std::time::Duration) {
        self.script().set_lifetime(lifetime);
    }
    /// Refuses, as AWS would (`InvalidSignatureException`), every request not signed with
    /// `secret`: what a client signs must be what it sends.
    pub fn require_signatures_with(&self, secret: &str) {
        self.script().set_signing_secret(Some(secret.to_owned()));
    }
    /// Every create request received, in order (including failed and replayed ones).
    pub fn create_calls(&self) -> Vec<super::scripting::CreateCall> {
        self.script().creates()
    }
    /// Number of `GetFaceLivenessSessionResults` requests received.
    pub fn get_calls(&self) -> usize {
        self.script().gets()
    }
}
