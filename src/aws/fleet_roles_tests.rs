use crate::plan::policy::DocumentDigest;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::*;

fn role(name: &str) -> RoleDetail {
    RoleDetail {
        role: ObservedRole {
            arn: format!("arn:aws:iam::000000000000:role/liveness-operator/c/{name}"),
            path: "/liveness-operator/c/".into(),
            boundary: None,
            trust: DocumentDigest::of_aws(""),
            tags: BTreeMap::new(),
        },
        boundary_reported: false,
        inline: Box::default(),
        attached: Vec::new(),
    }
}

/// A bulk read holding `names`, counting how often it runs.
fn reader<'a>(
    reads: &'a AtomicUsize,
    names: &'a [&'a str],
) -> impl FnOnce() -> std::future::Ready<Result<HashMap<String, RoleDetail>, String>> + 'a {
    move || {
        reads.fetch_add(1, Ordering::SeqCst);
        std::future::ready(Ok(names.iter().map(|n| (n.to_string(), role(n))).collect()))
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
        matches!(fleet.seen("a", reader(&reads, &names)).await, Seen::Present(d) if d.role.arn.ends_with("/a"))
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
                std::future::ready(Err::<HashMap<String, RoleDetail>, _>("AccessDenied"))
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
                    Ok::<_, String>(HashMap::from([("a".to_string(), role("a"))]))
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
