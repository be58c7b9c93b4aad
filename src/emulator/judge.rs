//! The emulator's verdict: what `GetFaceLivenessSessionResults` reports after a stream.
//!
//! The real service judges the video with models the emulator does not have. The emulator
//! judges instead from what the client itself reported in its `ClientSessionInformationEvent`s:
//! the component only reports a face, an oval reached and colours shown when its own face
//! detector (BlazeFace, with the thresholds the emulator sent) saw them. That is enough to
//! tell a page that works from one that does not (no camera, no face, challenge skipped),
//! which is what a developer needs offline. Tests and demos can instead fix the outcome
//! ([`Policy::Fixed`]).

use std::str::FromStr;

use serde_json::Value;

use super::outcome::{Fault, FeedbackItem, Outcome};

/// Confidence reported for a session the judge failed.
pub const FAILED_CONFIDENCE: f32 = 5.0;

/// Which challenge the emulator gave the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChallengeKind {
    /// Oval plus a sequence of colours (`FaceMovementAndLightChallenge`).
    #[default]
    FaceMovementAndLight,
    /// Oval only (`FaceMovementChallenge`).
    FaceMovement,
}

impl ChallengeKind {
    /// The kind of a `ChallengePreferences` `Type` (`None` for types the emulator lacks).
    pub fn from_name(name: &str) -> Option<Self> {
        [
            ChallengeKind::FaceMovementAndLight,
            ChallengeKind::FaceMovement,
        ]
        .into_iter()
        .find(|k| k.name() == name)
    }

    /// The key of the challenge in the events' `Challenge` object.
    pub fn name(self) -> &'static str {
        match self {
            ChallengeKind::FaceMovementAndLight => "FaceMovementAndLightChallenge",
            ChallengeKind::FaceMovement => "FaceMovementChallenge",
        }
    }
    /// The version reported by `GetFaceLivenessSessionResults`.
    pub fn version(self) -> &'static str {
        match self {
            ChallengeKind::FaceMovementAndLight => "2.0.0",
            ChallengeKind::FaceMovement => "1.0.0",
        }
    }
}

/// What the client reported during one stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClientReport {
    pub challenge: ChallengeKind,
    /// Colour sequences the emulator asked for (0 for the movement-only challenge).
    pub color_sequences: usize,
    /// `InitialFace` with an `InitialFaceDetectedTimestamp` was reported.
    pub initial_face: bool,
    /// `TargetFace` with both `FaceDetectedInTargetPosition*Timestamp`s was reported.
    pub reached_oval: bool,
    /// `ColorDisplayed` events received.
    pub colors_displayed: usize,
    /// Non-empty `VideoEvent`s received.
    pub video_chunks: usize,
}

impl ClientReport {
    /// Folds one `ClientSessionInformationEvent` payload into the report.
    pub fn record_client_information(&mut self, event: &Value) {
        let challenge = &event["Challenge"];
        let body = [
            ChallengeKind::FaceMovementAndLight,
            ChallengeKind::FaceMovement,
        ]
        .iter()
        .map(|k| &challenge[k.name()])
        .find(|v| v.is_object());
        let Some(body) = body else { return };
        if body["InitialFace"]["InitialFaceDetectedTimestamp"].is_number() {
            self.initial_face = true;
        }
        let target = &body["TargetFace"];
        if target["FaceDetectedInTargetPositionStartTimestamp"].is_number()
            && target["FaceDetectedInTargetPositionEndTimestamp"].is_number()
        {
            self.reached_oval = true;
        }
        if body["ColorDisplayed"]["SequenceNumber"].is_number() {
            self.colors_displayed += 1;
        }
    }

    /// The checks the judge requires, each with whether it passed (for logs and tests).
    pub fn checks(&self) -> [(&'static str, bool); 4] {
        [
            ("face detected", self.initial_face),
            ("face reached the oval", self.reached_oval),
            (
                "colours displayed",
                self.colors_displayed >= self.color_sequences,
            ),
            ("video received", self.video_chunks > 0),
        ]
    }

    /// Every check passed.
    pub fn passes(&self) -> bool {
        self.checks().iter().all(|(_, ok)| *ok)
    }

    /// What Rekognition would tell the user about a failed check, from what the client
    /// reported (the first thing that went wrong).
    pub fn feedback(&self) -> Vec<FeedbackItem> {
        if !self.initial_face {
            vec![FeedbackItem::face_not_visible()]
        } else if !self.reached_oval {
            vec![FeedbackItem::face_not_aligned()]
        } else {
            Vec::new()
        }
    }
}

/// How a finished stream sets the session's outcome.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Policy {
    /// SUCCEEDED with `confidence` when the report passes every check, else FAILED with
    /// [`FAILED_CONFIDENCE`].
    Judge { confidence: f32 },
    /// This outcome, whatever the client did.
    Fixed(Outcome),
}

impl Policy {
    /// The outcome for a session whose stream produced `report`.
    pub fn decide(self, report: &ClientReport) -> Outcome {
        match self {
            Policy::Fixed(outcome) => outcome,
            Policy::Judge { confidence } if report.passes() => Outcome::Succeeded(confidence),
            Policy::Judge { .. } => Outcome::Failed(FAILED_CONFIDENCE),
        }
    }
}

/// The `--outcome` flag's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutcomeFlag {
    Judge,
    Pass,
    Fail,
    Expire,
    Throttle,
    ServerError,
}

impl OutcomeFlag {
    /// The policy for this flag; `confidence` is what a passing session reports.
    pub fn policy(self, confidence: f32) -> Policy {
        match self {
            OutcomeFlag::Judge => Policy::Judge { confidence },
            OutcomeFlag::Pass => Policy::Fixed(Outcome::Succeeded(confidence)),
            OutcomeFlag::Fail => Policy::Fixed(Outcome::Failed(FAILED_CONFIDENCE)),
            OutcomeFlag::Expire => Policy::Fixed(Outcome::Expired),
            OutcomeFlag::Throttle => Policy::Fixed(Outcome::Fault(Fault::Throttling)),
            OutcomeFlag::ServerError => Policy::Fixed(Outcome::Fault(Fault::InternalServerError)),
        }
    }
}

impl FromStr for OutcomeFlag {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        <Self as clap::ValueEnum>::from_str(s, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn light_report() -> ClientReport {
        ClientReport {
            challenge: ChallengeKind::FaceMovementAndLight,
            color_sequences: 2,
            ..ClientReport::default()
        }
    }

    fn feed_good_session(report: &mut ClientReport) {
        let c = "FaceMovementAndLightChallenge";
        report.record_client_information(&json!({"Challenge": {c: {
            "ChallengeId": "x", "VideoStartTimestamp": 1,
            "InitialFace": {"BoundingBox": {}, "InitialFaceDetectedTimestamp": 2}}}}));
        for n in 0..2 {
            report.record_client_information(&json!({"Challenge": {c: {
                "ColorDisplayed": {"CurrentColor": {"RGB": [0, 0, 0]}, "SequenceNumber": n,
                                   "CurrentColorStartTimestamp": 3}}}}));
        }
        report.record_client_information(&json!({"Challenge": {c: {
            "TargetFace": {"BoundingBox": {}, "FaceDetectedInTargetPositionStartTimestamp": 4,
                           "FaceDetectedInTargetPositionEndTimestamp": 5}}}}));
        report.video_chunks = 3;
    }

    #[test]
    fn a_full_session_succeeds_with_the_configured_confidence() {
        let mut report = light_report();
        feed_good_session(&mut report);
        assert!(report.passes(), "{:?}", report.checks());
        let policy = Policy::Judge { confidence: 88.0 };
        assert_eq!(policy.decide(&report), Outcome::Succeeded(88.0));
    }

    #[test]
    fn each_missing_step_fails_the_session() {
        let policy = Policy::Judge { confidence: 95.0 };
        let mut good = light_report();
        feed_good_session(&mut good);
        let breakers: [fn(&mut ClientReport); 4] = [
            |r| r.initial_face = false,
            |r| r.reached_oval = false,
            |r| r.colors_displayed = 1,
            |r| r.video_chunks = 0,
        ];
        for broken in breakers {
            let mut report = good.clone();
            broken(&mut report);
            assert_eq!(
                policy.decide(&report),
                Outcome::Failed(FAILED_CONFIDENCE),
                "{report:?}"
            );
        }
    }

    #[test]
    fn movement_only_needs_no_colours_and_reads_its_own_key() {
        let mut report = ClientReport {
            challenge: ChallengeKind::FaceMovement,
            color_sequences: 0,
            video_chunks: 1,
            ..ClientReport::default()
        };
        report.record_client_information(&json!({"Challenge": {"FaceMovementChallenge": {
            "InitialFace": {"InitialFaceDetectedTimestamp": 2},
            "TargetFace": {"FaceDetectedInTargetPositionStartTimestamp": 4,
                           "FaceDetectedInTargetPositionEndTimestamp": 5}}}}));
        assert!(report.passes(), "{:?}", report.checks());
    }

    #[test]
    fn a_failed_check_says_what_went_wrong() {
        let mut report = light_report();
        assert_eq!(report.feedback(), [FeedbackItem::face_not_visible()]);
        report.initial_face = true;
        assert_eq!(report.feedback()[0].code, "FACE_NOT_ALIGNED");
        feed_good_session(&mut report);
        assert!(report.feedback().is_empty());
    }

    #[test]
    fn a_session_without_a_face_fails() {
        let mut report = light_report();
        report.video_chunks = 5;
        report.record_client_information(
            &json!({"Challenge": {"FaceMovementAndLightChallenge": {"VideoStartTimestamp": 1}}}),
        );
        assert!(!report.passes());
    }

    #[test]
    fn fixed_policies_ignore_the_report() {
        let report = ClientReport::default();
        assert_eq!(
            OutcomeFlag::Pass.policy(91.0).decide(&report),
            Outcome::Succeeded(91.0)
        );
        assert_eq!(
            OutcomeFlag::Throttle.policy(91.0).decide(&report),
            Outcome::Fault(Fault::Throttling)
        );
        assert_eq!("server-error".parse(), Ok(OutcomeFlag::ServerError));
    }
}
