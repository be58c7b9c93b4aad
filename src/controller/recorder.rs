//! Publishes Kubernetes Events (events.k8s.io/v1) the way kube's `Recorder` does, repeats
//! within a few minutes becoming one event with a growing `series`, but remembering of each
//! recent event only what a repeat needs: its key and name, and when it was last seen.
//!
//! kube's recorder keeps every event of the last six minutes whole, in a table that never
//! shrinks: a thousand new apps publish five thousand events, which kept 12 MB for the
//! life of the process (measured with heaptrack, README § Scale). This one keeps a
//! fingerprint of the series, the event's name, its count and time (about a hundred bytes
//! an event), forgets series once they are too old to be counted on, also when nothing is
//! published (the operator calls [`EventRecorder::forget_old`] every minute), and gives the
//! table back when the burst has aged out.

use std::collections::HashMap;
use std::sync::Mutex;

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::{Event, EventSeries};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::json;

use crate::fingerprint::Fingerprint;

/// Repeats within this long of the last one are counted in its series (kube's value).
const SERIES_TTL: SignedDuration = SignedDuration::from_mins(6);

/// How often the operator drops series older than [`SERIES_TTL`] when nothing is published.
pub const FORGET_PERIOD: std::time::Duration = std::time::Duration::from_secs(60);

/// Normal or Warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    Normal,
    Warning,
}

impl EventType {
    fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

/// What happened, as one event tells it.
#[derive(Debug, Clone, Copy)]
pub struct Occurrence<'a> {
    /// Normal or Warning.
    pub type_: EventType,
    /// Why, in one word (`Created`, `Conflict`).
    pub reason: &'a str,
    /// What the operator did or tried (`IdentityPool`, `Reconcile`).
    pub action: &'a str,
    /// For people: what changed, or what failed and the fix.
    pub note: &'a str,
}

/// What makes two events one series: the object, the type, the reason and the action (as
/// for kube; the reporter is the recorder's own).
fn series_key(regarding: &ObjectReference, what: &Occurrence<'_>) -> Fingerprint {
    Fingerprint::of([
        regarding.uid.as_deref().unwrap_or_default(),
        what.type_.as_str(),
        what.reason,
        what.action,
    ])
}

/// A recent event: its name (in the namespace of the object it is about), how often it
/// happened, and when last.
#[derive(Debug)]
struct Series {
    name: Box<str>,
    count: i32,
    last: Timestamp,
}

/// The publisher of one operator process.
pub struct EventRecorder {
    client: Client,
    controller: String,
    instance: String,
    recent: Mutex<HashMap<Fingerprint, Series>>,
}

impl EventRecorder {
    /// Publishes as `controller` (reportingController) and `instance` (reportingInstance).
    pub fn new(client: Client, controller: &str, instance: &str) -> Self {
        EventRecorder {
            client,
            controller: controller.to_string(),
            instance: instance.to_string(),
            recent: Mutex::default(),
        }
    }

    /// Events remembered for series.
    pub fn remembered(&self) -> usize {
        self.recent().len()
    }

    /// Publishes an event about `regarding`: a new Event, or, when an event of the same
    /// series was published in the last few minutes, that event's series counted up.
    pub async fn publish(
        &self,
        regarding: &ObjectReference,
        what: &Occurrence<'_>,
    ) -> Result<(), kube::Error> {
        let now = Timestamp::now();
        let key = series_key(regarding, what);
        let namespace = regarding.namespace.clone().unwrap_or_default();
        let repeat = self.forget_old_and_count(&key, now);
        if let Some((name, count)) = repeat {
            let series =
                json!({"series": EventSeries { count, last_observed_time: MicroTime(now) }});
            let api: Api<Event> = Api::namespaced(self.client.clone(), &namespace);
            match api
                .patch(&name, &PatchParams::default(), &Patch::Merge(&series))
                .await
            {
                Err(kube::Error::Api(status)) if status.code == 404 => {} // expired: a new one
                done => return done.map(drop),
            }
        }
        let event = self.event(regarding, what, now);
        let api: Api<Event> = Api::namespaced(self.client.clone(), &namespace);
        let created = api.create(&PostParams::default(), &event).await?;
        let series = Series {
            name: created.metadata.name.unwrap_or_default().into(),
            count: 1,
            last: now,
        };
        self.recent().insert(key, series);
        Ok(())
    }

    /// Drops series older than [`SERIES_TTL`], and the table's room once most of it is
    /// unused.
    pub fn forget_old(&self) {
        forget_before(&mut self.recent(), Timestamp::now());
    }

    /// Drops old series (as [`Self::forget_old`]); counts `key` up if its series is recent:
    /// its event's name and count.
    fn forget_old_and_count(&self, key: &Fingerprint, now: Timestamp) -> Option<(String, i32)> {
        let mut recent = self.recent();
        forget_before(&mut recent, now);
        let series = recent.get_mut(key)?;
        series.count += 1;
        series.last = now;
        Some((series.name.to_string(), series.count))
    }

    fn event(&self, regarding: &ObjectReference, what: &Occurrence<'_>, now: Timestamp) -> Event {
        let object = regarding.name.as_deref().unwrap_or(&self.controller);
        Event {
            metadata: ObjectMeta {
                namespace: regarding.namespace.clone(),
                name: Some(format!("{object}.{:x}", now.as_nanosecond())),
                ..ObjectMeta::default()
            },
            event_time: Some(MicroTime(now)),
            type_: Some(what.type_.as_str().to_string()),
            reason: Some(what.reason.to_string()),
            action: Some(what.action.to_string()),
            note: Some(what.note.to_string()),
            regarding: Some(regarding.clone()),
            reporting_controller: Some(self.controller.clone()),
            reporting_instance: Some(self.instance.clone()),
            ..Event::default()
        }
    }

    fn recent(&self) -> std::sync::MutexGuard<'_, HashMap<Fingerprint, Series>> {
        self.recent.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn forget_before(recent: &mut HashMap<Fingerprint, Series>, now: Timestamp) {
    recent.retain(|_, series| series.last + SERIES_TTL > now);
    if recent.capacity() > 64 && recent.len() < recent.capacity() / 4 {
        recent.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(last: Timestamp) -> Series {
        Series {
            name: "app.1".into(),
            count: 1,
            last,
        }
    }

    #[test]
    fn series_too_old_to_be_counted_on_are_forgotten_and_their_room_given_back() {
        let start = Timestamp::now();
        let mut recent: HashMap<Fingerprint, Series> = (0..1000)
            .map(|i| (Fingerprint::of([&i.to_string()]), series(start)))
            .collect();
        let recent_one = Fingerprint::of(["recent"]);
        recent.insert(recent_one, series(start + SignedDuration::from_mins(5)));

        forget_before(&mut recent, start + SignedDuration::from_mins(5));
        assert_eq!(recent.len(), 1001, "nothing is six minutes old yet");

        forget_before(&mut recent, start + SERIES_TTL);
        assert_eq!(recent.keys().collect::<Vec<_>>(), [&recent_one]);
        assert!(recent.capacity() < 64, "capacity {}", recent.capacity());
    }

    #[test]
    fn a_series_is_the_object_type_reason_and_action() {
        let regarding = |uid: &str| ObjectReference {
            uid: Some(uid.into()),
            ..ObjectReference::default()
        };
        let what = |reason| Occurrence {
            type_: EventType::Normal,
            reason,
            action: "IdentityPool",
            note: "one note",
        };
        let key = series_key(&regarding("u1"), &what("Created"));
        let other_note = Occurrence {
            note: "another note",
            ..what("Created")
        };
        assert_eq!(key, series_key(&regarding("u1"), &other_note));
        assert_ne!(key, series_key(&regarding("u2"), &what("Created")));
        assert_ne!(key, series_key(&regarding("u1"), &what("Updated")));
        let warning = Occurrence {
            type_: EventType::Warning,
            ..what("Created")
        };
        assert_ne!(key, series_key(&regarding("u1"), &warning));
    }
}
