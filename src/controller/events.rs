//! Kubernetes Events on the LivenessApp: Normal when an object was created, adopted,
//! updated or deleted; Warning with the fix when something failed. Events are for people
//! reading `kubectl describe`, so failures to publish them are logged, never fatal.

use kube::Resource;
use kube::runtime::events::{Event, EventType, Recorder};

use crate::aws::{Action, Change};
use crate::crd::LivenessApp;

/// Event reason of an AWS change ("Created", "Adopted", …).
pub fn change_reason(change: &Change) -> &'static str {
    match change.action {
        Action::Created => "Created",
        Action::Adopted => "Adopted",
        Action::Updated => "Updated",
        Action::Deleted => "Deleted",
        Action::Detached => "Detached",
    }
}

/// Publishes `note` as a Normal event with `reason` (e.g. "Created").
pub async fn normal(recorder: &Recorder, app: &LivenessApp, reason: &str, note: String) {
    publish(recorder, app, EventType::Normal, reason, note).await;
}

/// Publishes `note` (what failed and what to do) as a Warning event.
pub async fn warning(recorder: &Recorder, app: &LivenessApp, reason: &str, note: String) {
    publish(recorder, app, EventType::Warning, reason, note).await;
}

async fn publish(
    recorder: &Recorder,
    app: &LivenessApp,
    type_: EventType,
    reason: &str,
    note: String,
) {
    let event = Event {
        type_,
        reason: reason.to_string(),
        note: Some(truncate(note)),
        action: "Reconcile".to_string(),
        secondary: None,
    };
    if let Err(error) = recorder.publish(&event, &app.object_ref(&())).await {
        tracing::warn!(%error, reason, "could not publish an event");
    }
}

/// The events API caps notes at 1 KiB.
fn truncate(mut note: String) -> String {
    const MAX: usize = 1024;
    if note.len() > MAX {
        let mut cut = MAX - 3;
        while !note.is_char_boundary(cut) {
            cut -= 1;
        }
        note.truncate(cut);
        note.push_str("...");
    }
    note
}
