//! Kubernetes Events on the LivenessApp: Normal when an object was created, adopted,
//! updated or deleted; Warning with the fix when something failed. Events are for people
//! reading `kubectl describe`, so failures to publish them are logged, never fatal.

use kube::Resource;

use super::recorder::{EventRecorder as Recorder, EventType, Occurrence};

use crate::aws::{Action, AwsObject, Change};
use crate::crd::LivenessApp;

/// Publishes one AWS change as a Normal event. The action names the object, so changes
/// to different objects are separate events rather than one series (the recorder merges
/// events with equal reason and action).
pub async fn change(recorder: &Recorder, app: &LivenessApp, change: &Change) {
    let action = match &change.object {
        AwsObject::IdentityPool(_) => "IdentityPool".to_string(),
        AwsObject::Role(kind, _) => format!("Role/{}", kind.as_str()),
        AwsObject::RoleLinks(_) => "RoleLinks".to_string(),
    };
    let reason = change_reason(change);
    publish(
        recorder,
        app,
        EventType::Normal,
        reason,
        &action,
        change.to_string(),
    )
    .await;
}

/// Event reason of an AWS change ("Created", "Adopted", …).
fn change_reason(change: &Change) -> &'static str {
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
    publish(recorder, app, EventType::Normal, reason, "Reconcile", note).await;
}

/// Publishes `note` (what failed and what to do) as a Warning event.
pub async fn warning(recorder: &Recorder, app: &LivenessApp, reason: &str, note: String) {
    publish(recorder, app, EventType::Warning, reason, "Reconcile", note).await;
}

async fn publish(
    recorder: &Recorder,
    app: &LivenessApp,
    type_: EventType,
    reason: &str,
    action: &str,
    note: String,
) {
    let note = truncate(note);
    let what = Occurrence {
        type_,
        reason,
        action,
        note: &note,
    };
    if let Err(error) = recorder.publish(&app.object_ref(&()), &what).await {
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
