//! Tests of the leader election: the expiry decision on synthetic instants, the error
//! classification, and the elector against a small in-process fake of the Lease API.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State as Shared;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing::get, routing::post};
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::ObjectMeta;
use tokio::time::Instant;

use super::*;

const SECS: i32 = 15;

fn lease(version: &str, holder: Option<&str>, renewed: Timestamp) -> Lease {
    Lease {
        metadata: ObjectMeta {
            name: Some("lease".into()),
            resource_version: Some(version.into()),
            ..Default::default()
        },
        spec: Some(LeaseSpec {
            holder_identity: holder.map(str::to_string),
            renew_time: Some(MicroTime(renewed)),
            lease_duration_seconds: Some(SECS),
            ..Default::default()
        }),
    }
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn hour_ahead() -> Timestamp {
    Timestamp::now() + SignedDuration::from_hours(1)
}

#[test]
fn a_held_lease_seen_for_the_first_time_is_not_free_until_a_full_duration_passed() {
    let t0 = Instant::now();
    let held = lease("1", Some("other"), Timestamp::UNIX_EPOCH);
    let mut observer = LeaseObserver::new(secs(99));
    assert!(!observer.observe(&held, t0), "first sighting");
    assert!(!observer.observe(&held, t0 + secs(15)));
    assert!(observer.observe(&held, t0 + secs(15) + Duration::from_millis(1)));
}

#[test]
fn the_renew_time_is_ignored_however_skewed() {
    let t0 = Instant::now();
    for renewed in [hour_ahead(), Timestamp::UNIX_EPOCH, Timestamp::now()] {
        let held = lease("7", Some("other"), renewed);
        let mut observer = LeaseObserver::new(secs(99));
        assert!(!observer.observe(&held, t0), "{renewed}: first sighting");
        assert!(!observer.observe(&held, t0 + secs(14)), "{renewed}");
        assert!(
            observer.observe(&held, t0 + secs(16)),
            "{renewed}: unchanged"
        );
    }
}

#[test]
fn a_lease_that_keeps_changing_stays_held() {
    let t0 = Instant::now();
    let mut observer = LeaseObserver::new(secs(99));
    for (step, version) in ["1", "2", "3", "4"].into_iter().enumerate() {
        let at = t0 + secs(10 * step as u64);
        let renewed = Timestamp::UNIX_EPOCH;
        assert!(!observer.observe(&lease(version, Some("other"), renewed), at));
    }
    let last = lease("4", Some("other"), Timestamp::UNIX_EPOCH);
    assert!(!observer.observe(&last, t0 + secs(30 + 15)));
    assert!(observer.observe(&last, t0 + secs(30 + 16)));
}

#[test]
fn a_spec_change_alone_or_a_version_change_alone_counts_as_a_change() {
    let t0 = Instant::now();
    let mut observer = LeaseObserver::new(secs(99));
    let first = lease("1", Some("other"), Timestamp::UNIX_EPOCH);
    assert!(!observer.observe(&first, t0));
    let renewed = lease("1", Some("other"), Timestamp::now());
    assert!(!observer.observe(&renewed, t0 + secs(14)));
    let annotated = lease("2", Some("other"), Timestamp::now());
    assert!(!observer.observe(&annotated, t0 + secs(28)));
    assert!(!observer.observe(&annotated, t0 + secs(28 + 15)));
    assert!(observer.observe(&annotated, t0 + secs(28 + 16)));
}

#[test]
fn an_unheld_lease_is_free_at_once() {
    let t0 = Instant::now();
    for holder in [None, Some("")] {
        let mut observer = LeaseObserver::new(secs(99));
        assert!(observer.observe(&lease("1", holder, hour_ahead()), t0));
    }
    let mut observer = LeaseObserver::new(secs(99));
    assert!(observer.observe(&Lease::default(), t0));
    // A holder releasing restarts nothing: the released lease is free at once.
    assert!(!observer.observe(&lease("2", Some("other"), hour_ahead()), t0));
    assert!(observer.observe(&lease("3", None, hour_ahead()), t0 + secs(1)));
}

#[test]
fn without_a_stated_duration_the_configured_one_applies() {
    let t0 = Instant::now();
    let mut held = lease("1", Some("other"), Timestamp::now());
    held.spec.as_mut().unwrap().lease_duration_seconds = None;
    let mut observer = LeaseObserver::new(secs(5));
    assert!(!observer.observe(&held, t0));
    assert!(!observer.observe(&held, t0 + secs(5)));
    assert!(observer.observe(&held, t0 + secs(6)));
}

fn api_error(code: u16) -> kube::Error {
    kube::Error::Api(
        kube::core::Status::failure("injected", "Injected")
            .with_code(code)
            .boxed(),
    )
}

#[test]
fn only_errors_retrying_cannot_fix_are_permanent() {
    for code in [500, 502, 503, 504, 429, 408] {
        assert!(is_transient(&api_error(code)), "{code}");
    }
    for code in [400, 401, 403, 404, 405, 422] {
        assert!(!is_transient(&api_error(code)), "{code}");
    }
    let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
    assert!(is_transient(&kube::Error::Service(Box::new(reset))));
    assert!(!is_transient(&kube::Error::TlsRequired));
}

/// A fake of the Lease API of one namespace, with injectable failures.
#[derive(Default)]
struct Fake {
    lease: Option<Lease>,
    version: u64,
    /// Answers for the next requests of a method, taking precedence over the real answer.
    fail: VecDeque<(Method, u16)>,
    /// Answer every request with this code.
    always: Option<u16>,
    /// Bump the resourceVersion on each GET, as if the holder renewed in between.
    holder_renews: bool,
    writes: usize,
}

type FakeApi = Arc<Mutex<Fake>>;

fn status(code: u16) -> Response {
    // kube reads `reason` before `code` (e.g. `get_opt` needs "NotFound").
    let reason = match code {
        403 => "Forbidden",
        404 => "NotFound",
        409 => "Conflict",
        429 => "TooManyRequests",
        _ => "InternalError",
    };
    let body = serde_json::json!({
        "kind": "Status", "apiVersion": "v1", "status": "Failure",
        "code": code, "reason": reason, "message": "answered by the fake apiserver",
    });
    (StatusCode::from_u16(code).unwrap(), Json(body)).into_response()
}

fn injected(fake: &mut Fake, method: Method) -> Option<Response> {
    if let Some(code) = fake.always {
        return Some(status(code));
    }
    if fake.fail.front().is_some_and(|(m, _)| *m == method) {
        return fake.fail.pop_front().map(|(_, code)| status(code));
    }
    None
}

fn store(fake: &mut Fake, mut lease: Lease) -> Json<Lease> {
    fake.version += 1;
    fake.writes += 1;
    lease.metadata.resource_version = Some(fake.version.to_string());
    fake.lease = Some(lease.clone());
    Json(lease)
}

async fn get_lease(Shared(fake): Shared<FakeApi>) -> Response {
    let mut fake = fake.lock().unwrap();
    if let Some(failure) = injected(&mut fake, Method::GET) {
        return failure;
    }
    if fake.holder_renews {
        fake.version += 1;
        let version = fake.version.to_string();
        fake.lease.as_mut().unwrap().metadata.resource_version = Some(version);
    }
    match fake.lease.clone() {
        Some(lease) => Json(lease).into_response(),
        None => status(404),
    }
}

async fn create_lease(Shared(fake): Shared<FakeApi>, Json(lease): Json<Lease>) -> Response {
    let mut fake = fake.lock().unwrap();
    if let Some(failure) = injected(&mut fake, Method::POST) {
        return failure;
    }
    if fake.lease.is_some() {
        return status(409);
    }
    (StatusCode::CREATED, store(&mut fake, lease)).into_response()
}

async fn replace_lease(Shared(fake): Shared<FakeApi>, Json(lease): Json<Lease>) -> Response {
    let mut fake = fake.lock().unwrap();
    if let Some(failure) = injected(&mut fake, Method::PUT) {
        return failure;
    }
    let Some(current) = &fake.lease else {
        return status(404);
    };
    if current.metadata.resource_version != lease.metadata.resource_version {
        return status(409);
    }
    store(&mut fake, lease).into_response()
}

/// Serves a fake; returns it and an elector of `holder` talking to it.
async fn fake_apiserver(fake: Fake) -> (FakeApi, impl Fn(&str, Duration) -> LeaderElector) {
    let fake = Arc::new(Mutex::new(fake));
    let base = "/apis/coordination.k8s.io/v1/namespaces/ns/leases";
    let app = Router::new()
        .route(base, post(create_lease))
        .route(&format!("{base}/lease"), get(get_lease).put(replace_lease))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let elector = move |holder: &str, duration: Duration| {
        let config = kube::Config::new(url.parse().unwrap());
        LeaderElector::new(
            Client::try_from(config).unwrap(),
            LeaseConfig {
                namespace: "ns".into(),
                name: "lease".into(),
                holder: holder.into(),
                duration,
                retry: duration / 3,
            },
        )
    };
    (fake, elector)
}

fn holder(fake: &FakeApi) -> Option<String> {
    let fake = fake.lock().unwrap();
    fake.lease.as_ref()?.spec.as_ref()?.holder_identity.clone()
}

#[tokio::test]
async fn acquire_retries_transient_errors() {
    let fail = [(Method::GET, 503), (Method::GET, 429), (Method::POST, 500)];
    let (fake, elector) = fake_apiserver(Fake {
        fail: fail.into(),
        ..Default::default()
    })
    .await;
    let me = elector("me", Duration::from_millis(150));
    tokio::time::timeout(secs(5), me.acquire())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(holder(&fake).as_deref(), Some("me"));
    assert!(fake.lock().unwrap().fail.is_empty());
}

#[tokio::test]
async fn acquire_keeps_retrying_while_the_apiserver_is_unreachable() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let client = Client::try_from(kube::Config::new(url.parse().unwrap())).unwrap();
    let me = LeaderElector::new(
        client,
        LeaseConfig {
            namespace: "ns".into(),
            name: "lease".into(),
            holder: "me".into(),
            duration: Duration::from_millis(150),
            retry: Duration::from_millis(50),
        },
    );
    let outcome = tokio::time::timeout(Duration::from_millis(500), me.acquire()).await;
    assert!(outcome.is_err(), "acquire gave up: {outcome:?}");
}

#[tokio::test]
async fn acquire_reports_forbidden() {
    let (_, elector) = fake_apiserver(Fake {
        always: Some(403),
        ..Default::default()
    })
    .await;
    let me = elector("me", secs(1));
    let error = tokio::time::timeout(secs(5), me.acquire()).await.unwrap();
    assert!(matches!(error, Err(kube::Error::Api(s)) if s.code == 403));
}

#[tokio::test]
async fn a_standby_waits_a_full_duration_however_skewed_the_renew_time() {
    for renewed in [hour_ahead(), Timestamp::UNIX_EPOCH] {
        let mut held = lease("1", Some("other"), renewed);
        held.spec.as_mut().unwrap().lease_duration_seconds = Some(1);
        let (fake, elector) = fake_apiserver(Fake {
            lease: Some(held),
            version: 1,
            ..Default::default()
        })
        .await;
        let me = elector("me", Duration::from_millis(300));
        let start = Instant::now();
        tokio::time::timeout(secs(5), me.acquire())
            .await
            .unwrap()
            .unwrap();
        assert!(start.elapsed() > secs(1), "{renewed}: took over early");
        assert_eq!(holder(&fake).as_deref(), Some("me"));
        let fake = fake.lock().unwrap();
        let spec = fake.lease.as_ref().unwrap().spec.as_ref().unwrap();
        assert_eq!(spec.lease_transitions, Some(1));
    }
}

#[tokio::test]
async fn a_standby_leaves_a_renewed_lease_alone() {
    let mut held = lease("1", Some("other"), Timestamp::UNIX_EPOCH);
    held.spec.as_mut().unwrap().lease_duration_seconds = Some(1);
    let (fake, elector) = fake_apiserver(Fake {
        lease: Some(held),
        holder_renews: true,
        ..Default::default()
    })
    .await;
    let me = elector("me", Duration::from_millis(300));
    assert!(tokio::time::timeout(secs(2), me.acquire()).await.is_err());
    assert_eq!(holder(&fake).as_deref(), Some("other"));
}

#[tokio::test]
async fn of_two_racing_writes_the_second_loses() {
    let (fake, elector) = fake_apiserver(Fake::default()).await;
    let me = elector("me", secs(1));
    fake.lock().unwrap().fail.push_back((Method::POST, 409));
    assert!(!me.try_acquire_or_renew().await.unwrap());
    assert!(me.try_acquire_or_renew().await.unwrap());
    fake.lock().unwrap().fail.push_back((Method::PUT, 409));
    assert!(!me.try_acquire_or_renew().await.unwrap(), "renewal raced");
}

#[tokio::test]
async fn the_leader_renews_and_gives_up_before_the_lease_could_expire() {
    let (fake, elector) = fake_apiserver(Fake::default()).await;
    let me = elector("me", Duration::from_millis(900));
    me.acquire().await.unwrap();
    let renewing = tokio::time::timeout(Duration::from_millis(1500), me.keep_renewing()).await;
    assert!(renewing.is_err(), "stopped renewing a healthy lease");
    assert!(fake.lock().unwrap().writes >= 4);

    fake.lock().unwrap().always = Some(503);
    let failing = Instant::now();
    tokio::time::timeout(secs(5), me.keep_renewing())
        .await
        .unwrap();
    // The last success was at most one period (300 ms) before `failing`; the deadline is
    // 600 ms after it, and the lease itself would last 900 ms.
    assert!(failing.elapsed() < Duration::from_millis(900));
}

#[tokio::test]
async fn the_leader_stops_when_another_replica_took_the_lease() {
    let (fake, elector) = fake_apiserver(Fake::default()).await;
    let me = elector("me", Duration::from_millis(900));
    me.acquire().await.unwrap();
    let taken = lease("99", Some("other"), Timestamp::now());
    fake.lock().unwrap().lease = Some(taken);
    tokio::time::timeout(secs(5), me.keep_renewing())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_released_lease_is_taken_at_once() {
    let (fake, elector) = fake_apiserver(Fake::default()).await;
    let (me, other) = (elector("me", secs(15)), elector("other", secs(15)));
    me.acquire().await.unwrap();
    assert!(!other.try_acquire_or_renew().await.unwrap());
    me.release().await;
    assert_eq!(holder(&fake), None);
    assert!(other.try_acquire_or_renew().await.unwrap());
    assert_eq!(holder(&fake).as_deref(), Some("other"));
}
