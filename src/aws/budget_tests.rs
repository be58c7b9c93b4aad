use std::time::{Duration, Instant};

use super::*;
use crate::aws::scripted_http::Script;
use crate::aws::{Calls, LivenessAws};

/// When each of `n` requests made at `at` may go.
fn slots(bucket: &Bucket, at: Instant, n: usize) -> Vec<Duration> {
    (0..n).map(|_| bucket.reserve(at)).collect()
}

#[test]
fn a_burst_gets_one_seconds_worth_at_once_then_one_slot_per_interval() {
    let bucket = Bucket::new("iam", 10);
    let now = Instant::now() + Duration::from_secs(5);
    let waits = slots(&bucket, now, 30);
    assert!(waits[..10].iter().all(Duration::is_zero), "{waits:?}");
    for (i, wait) in waits[10..].iter().enumerate() {
        let expected = Duration::from_millis(100 * (i as u64 + 1));
        let off = wait.abs_diff(expected);
        assert!(off < Duration::from_millis(1), "#{}: {wait:?}", i + 10);
    }
    let reading = bucket.reading();
    assert_eq!(reading.attempts, 30);
    // 0.1 + 0.2 + ... + 2.0 s of waiting.
    assert!((reading.waited_seconds - 21.0).abs() < 0.01, "{reading:?}");
}

#[test]
fn over_any_long_stretch_the_rate_is_the_budget() {
    let bucket = Bucket::new("cognito-identity", 4);
    let start = Instant::now() + Duration::from_secs(5);
    // 1,000 requests, as fast as they come: the last one goes after ~250 s.
    let last = slots(&bucket, start, 1000).pop().unwrap();
    let expected = Duration::from_secs_f64((1000.0 - 4.0) / 4.0);
    assert!(
        last.abs_diff(expected) < Duration::from_millis(5),
        "{last:?}"
    );
}

#[test]
fn a_quiet_bucket_refills_only_up_to_one_second_of_budget() {
    let bucket = Bucket::new("iam", 5);
    let now = Instant::now() + Duration::from_secs(5);
    let _ = slots(&bucket, now, 5);
    // An hour later, the burst is still five requests, not an hour's worth.
    let later = now + Duration::from_secs(3600);
    let waits = slots(&bucket, later, 7);
    assert!(waits[..5].iter().all(Duration::is_zero), "{waits:?}");
    assert!(waits[5] > Duration::from_millis(190), "{waits:?}");
}

#[test]
fn throttling_slows_the_rate_down_to_a_floor_and_success_restores_it() {
    let bucket = Bucket::new("iam", 10);
    bucket.throttled();
    assert!((bucket.reading().rate - 8.0).abs() < 1e-9);
    for _ in 0..20 {
        bucket.throttled();
    }
    assert_eq!(bucket.reading().rate, 0.5, "never below a twentieth");
    assert_eq!(bucket.reading().throttled, 21);
    for _ in 0..4 {
        bucket.succeeded();
    }
    assert!(
        (bucket.reading().rate - 4.5).abs() < 1e-9,
        "a tenth of the budget each"
    );
    for _ in 0..100 {
        bucket.succeeded();
    }
    assert_eq!(bucket.reading().rate, 10.0, "never above the budget");
}

#[test]
fn a_slower_rate_spaces_requests_further() {
    let bucket = Bucket::new("iam", 10);
    let now = Instant::now() + Duration::from_secs(5);
    let _ = slots(&bucket, now, 10);
    for _ in 0..6 {
        bucket.throttled();
    }
    bucket.succeeded();
    // 10 × 0.8⁶ + 1 = 3.62: about 276 ms apart.
    let waits = slots(&bucket, now, 3);
    let gaps: Vec<Duration> = waits.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        gaps.iter()
            .all(|g| g.abs_diff(Duration::from_secs_f64(1.0 / 3.62144)) < Duration::from_millis(1)),
        "{gaps:?}"
    );
}

#[test]
fn one_bucket_per_service_shared_by_every_client() {
    let budget = Budget::new(3);
    let a = budget.bucket("iam");
    let b = budget.bucket("iam");
    assert!(Arc::ptr_eq(&a, &b));
    let other = budget.bucket("sts");
    assert!(!Arc::ptr_eq(&a, &other));
    let _ = a.reserve(Instant::now());
    let readings = budget.readings();
    let iam = readings.iter().find(|r| r.service == "iam").unwrap();
    assert_eq!((iam.attempts, iam.rate), (1, 3.0));
}

const THROTTLED: (u16, &str) = (
    400,
    r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>1</RequestId></ErrorResponse>"#,
);
const FAILED: (u16, &str) = (
    500,
    r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Receiver</Type><Code>InternalFailure</Code><Message>oops</Message></Error><RequestId>2</RequestId></ErrorResponse>"#,
);
const WHO: (u16, &str) = (
    200,
    r#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:sts::123456789012:assumed-role/o/s</Arn><UserId>AROA:s</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>"#,
);

/// The layer as the operator builds it (`SdkAws::budgeted`), over `script`; the STS
/// bucket it uses.
fn budgeted(script: &[(u16, &str)]) -> (crate::aws::SdkAws, Arc<Bucket>) {
    let budget = Budget::new(10);
    let script = Script::new(script);
    let aws = crate::aws::SdkAws::budgeted(&script.sdk_config(), Calls::new(), budget.clone());
    (aws, budget.bucket("sts"))
}

#[tokio::test]
async fn throttling_answers_slow_the_bucket_and_the_call_still_succeeds() {
    let (aws, bucket) = budgeted(&[THROTTLED, THROTTLED, WHO]);
    aws.caller_identity()
        .await
        .expect("retried through the throttling");
    let reading = bucket.reading();
    assert_eq!((reading.attempts, reading.throttled), (3, 2), "{reading:?}");
    // 10 → 8 → 6.4 on the throttling, + 1 for the success.
    assert!((reading.rate - 7.4).abs() < 1e-9, "{reading:?}");
}

#[tokio::test]
async fn a_server_error_is_retried_without_slowing_the_bucket() {
    let (aws, bucket) = budgeted(&[FAILED, WHO]);
    aws.caller_identity()
        .await
        .expect("retried through the 5xx");
    let reading = bucket.reading();
    assert_eq!((reading.attempts, reading.throttled), (2, 0), "{reading:?}");
    assert_eq!(reading.rate, 10.0);
}

#[tokio::test]
async fn a_call_throttled_past_its_attempts_fails_as_transient() {
    let (aws, bucket) = budgeted(&[THROTTLED; MAX_ATTEMPTS as usize]);
    let err = aws.caller_identity().await.unwrap_err();
    assert_eq!(err.category(), crate::aws::Category::Transient, "{err}");
    assert_eq!(bucket.reading().attempts, u64::from(MAX_ATTEMPTS));
}
