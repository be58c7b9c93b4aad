use crate::plan::policy::DocumentDigest;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::*;

fn role(name: &str) -> RoleFacts {
    RoleFacts {
        place: RoleFacts::place(
            &format!("arn:aws:iam::000000000000:role/liveness-operator/c/{name}"),
            "/liveness-operator/c/",
        ),
        boundary: None,
        trust: DocumentDigest::of_aws(""),
        inline: RoleFacts::inline([]),
        attached: false,
        tags: Box::default(),
    }
}

fn roles(names: &[&str]) -> Roles {
    names.iter().map(|n| (role_key(n), role(n))).collect()
}

/// A bulk read holding `names`, counting how often it runs.
fn reader<'a>(
    reads: &'a AtomicUsize,
    names: &'a [&'a str],
) -> impl FnOnce() -> std::future::Ready<Result<Roles, String>> + 'a {
    move || {
        reads.fetch_add(1, Ordering::SeqCst);
        std::future::ready(Ok(roles(names)))
    }
}

const HOUR: Duration = Duration::from_secs(3600);

#[tokio::test]
async fn off_means_every_role_is_read_directly_and_no_bulk_read_happens() {
    let fleet = FleetRoles::new(None);
    let reads = AtomicUsize::new(0);
    assert!(matches!(
        fleet.seen("a", reader(&reads, &["a"])).await,
        Seen::Unknown
    ));
    assert_eq!(reads.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn one_bulk_read_serves_every_role_until_it_is_older_than_max_age() {
    let fleet = FleetRoles::new(Some(HOUR));
    let reads = AtomicUsize::new(0);
    let names = ["a", "b"];
    assert!(
        matches!(fleet.seen("a", reader(&reads, &names)).await, Seen::Present(d) if d == role("a"))
    );
    assert!(matches!(
        fleet.seen("b", reader(&reads, &names)).await,
        Seen::Present(_)
    ));
    assert!(matches!(
        fleet.seen("c", reader(&reads, &names)).await,
        Seen::Absent
    ));
    assert_eq!(reads.load(Ordering::SeqCst), 1);

    let always_stale = FleetRoles::new(Some(Duration::ZERO));
    always_stale.seen("a", reader(&reads, &names)).await;
    always_stale.seen("a", reader(&reads, &names)).await;
    assert_eq!(reads.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_role_written_since_the_read_began_is_unknown_until_the_next_read() {
    let fleet = FleetRoles::new(Some(HOUR));
    let reads = AtomicUsize::new(0);
    fleet.seen("a", reader(&reads, &["a"])).await;
    fleet.written("a");
    fleet.written("new");
    assert!(matches!(
        fleet.seen("a", reader(&reads, &["a"])).await,
        Seen::Unknown
    ));
    // Created by this process after the read: not "absent".
    assert!(matches!(
        fleet.seen("new", reader(&reads, &["a"])).await,
        Seen::Unknown
    ));
    assert!(matches!(
        fleet.seen("other", reader(&reads, &["a"])).await,
        Seen::Absent
    ));
    assert_eq!(reads.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_failed_bulk_read_means_direct_reads_and_is_not_retried_before_max_age() {
    let fleet = FleetRoles::new(Some(HOUR));
    let reads = AtomicUsize::new(0);
    for _ in 0..3 {
        let seen = fleet
            .seen("a", || {
                reads.fetch_add(1, Ordering::SeqCst);
                std::future::ready(Err::<Roles, _>("AccessDenied"))
            })
            .await;
        assert!(matches!(seen, Seen::Unknown));
    }
    assert_eq!(reads.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn concurrent_checks_wait_for_one_bulk_read() {
    let fleet = FleetRoles::new(Some(HOUR));
    let reads = AtomicUsize::new(0);
    let check = |name: &'static str| {
        let (fleet, reads) = (&fleet, &reads);
        async move {
            fleet
                .seen(name, || async move {
                    reads.fetch_add(1, Ordering::SeqCst);
                    tokio::task::yield_now().await;
                    Ok::<_, String>(roles(&["a"]))
                })
                .await
        }
    };
    let seen = futures::future::join_all(["a", "a", "b", "a"].map(check)).await;
    assert_eq!(reads.load(Ordering::SeqCst), 1);
    assert_eq!(
        seen.iter()
            .filter(|s| matches!(s, Seen::Present(_)))
            .count(),
        3
    );
}

#[tokio::test]
async fn an_expired_read_is_dropped_before_the_next_one_is_taken() {
    let fleet = FleetRoles::new(Some(Duration::ZERO));
    let reads = AtomicUsize::new(0);
    fleet.seen("a", reader(&reads, &["a"])).await;
    let first = Arc::downgrade(lock(&fleet.current).as_ref().expect("a read is kept"));
    let first_alive_during_second_read = AtomicUsize::new(0);
    fleet
        .seen("a", || {
            if first.upgrade().is_some() {
                first_alive_during_second_read.fetch_add(1, Ordering::SeqCst);
            }
            reader(&reads, &["a"])()
        })
        .await;
    assert_eq!(
        first_alive_during_second_read.load(Ordering::SeqCst),
        0,
        "the first read was still in memory while the second was taken"
    );
    assert_eq!(reads.load(Ordering::SeqCst), 2);
}

#[test]
fn facts_tell_apart_what_the_in_sync_proof_compares() {
    let ours = crate::plan::policy::PolicyDocument::new(vec![]);
    let tags = BTreeMap::from([
        ("owner".to_string(), "uid-1".to_string()),
        ("app".to_string(), "ns/a".to_string()),
    ]);
    let mut facts = role("a");
    facts.tags = tags
        .iter()
        .map(|(k, v)| RoleFacts::tag(k, v))
        .chain([RoleFacts::tag("cost-center", "42")])
        .collect();
    // Tags: every wanted one, same value; someone else's beside them are fine.
    assert!(facts.has_tags(&tags));
    let mut other_owner = tags.clone();
    other_owner.insert("owner".into(), "uid-2".into());
    assert!(!facts.has_tags(&other_owner));
    let mut more = tags.clone();
    more.insert("cluster".into(), "c".into());
    assert!(!facts.has_tags(&more));
    // Inline policies: only ours, as ours; a second one, another name or an unreadable
    // document is something else.
    let only_ours = RoleFacts::inline([("liveness", ours.digest())]);
    assert_eq!(only_ours, RoleFacts::inline([("liveness", ours.digest())]));
    for other in [
        RoleFacts::inline([]),
        RoleFacts::inline([("liveness", ours.digest()), ("extra", ours.digest())]),
        RoleFacts::inline([("renamed", ours.digest())]),
        RoleFacts::inline([("liveness", DocumentDigest::of_aws("{not json"))]),
    ] {
        assert_ne!(only_ours, other);
    }
    assert_ne!(
        RoleFacts::place("arn:a", "/p/"),
        RoleFacts::place("arn:a", "/q/")
    );
    assert_ne!(RoleFacts::boundary("arn:b"), RoleFacts::boundary("arn:c"));
}

#[test]
fn a_role_read_directly_gives_the_same_facts_as_the_bulk_read() {
    let role = ObservedRole {
        arn: "arn:aws:iam::000000000000:role/liveness-operator/c/a".into(),
        path: "/liveness-operator/c/".into(),
        boundary: Some("arn:aws:iam::000000000000:policy/b".into()),
        trust: DocumentDigest::of_aws("{}"),
        tags: BTreeMap::from([("k".to_string(), "v".to_string())]),
    };
    let inline = RoleFacts::inline([]);
    let facts = RoleFacts::of_role(&role, inline, true);
    assert_eq!(facts.place, RoleFacts::place(&role.arn, &role.path));
    assert_eq!(
        facts.boundary,
        Some(RoleFacts::boundary("arn:aws:iam::000000000000:policy/b"))
    );
    assert_eq!(facts.trust, role.trust);
    assert_eq!((facts.inline, facts.attached), (inline, true));
    assert!(facts.has_tags(&role.tags));
}
