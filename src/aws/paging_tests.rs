//! The layer against a scripted HTTP connection: list operations follow every page
//! through the SDK's paginators (ministack never returns a second page), each page is a
//! counted call, a failed page keeps the IAM action name, and the caller identity (with
//! its partition) is read from STS.

use super::scripted_http::Script;
use super::{CallerIdentity, Category, LivenessAws};

fn iam_page(operation: &str, items: &str, marker: Option<&str>) -> String {
    let more = match marker {
        Some(m) => format!("<IsTruncated>true</IsTruncated><Marker>{m}</Marker>"),
        None => "<IsTruncated>false</IsTruncated>".into(),
    };
    format!(
        "<{operation}Response xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\
         <{operation}Result>{items}{more}</{operation}Result>\
         <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></{operation}Response>"
    )
}

const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/liveness-operator/r";

#[tokio::test]
async fn inline_and_attached_policies_are_read_from_every_page() {
    let names = |n: &[&str]| {
        let members: String = n.iter().map(|n| format!("<member>{n}</member>")).collect();
        format!("<PolicyNames>{members}</PolicyNames>")
    };
    let attached = |arn: &str| {
        format!(
            "<AttachedPolicies><member><PolicyName>p</PolicyName><PolicyArn>{arn}</PolicyArn>\
             </member></AttachedPolicies>"
        )
    };
    let script = Script::new(&[
        (
            200,
            &iam_page("ListRolePolicies", &names(&["a", "b"]), Some("m1")),
        ),
        (200, &iam_page("ListRolePolicies", &names(&["c"]), None)),
        (
            200,
            &iam_page("ListAttachedRolePolicies", &attached("arn:1"), Some("m2")),
        ),
        (
            200,
            &iam_page("ListAttachedRolePolicies", &attached("arn:2"), None),
        ),
    ]);
    let (aws, calls) = script.sdk_aws();
    assert_eq!(
        aws.iam.list_inline("r", ROLE_ARN).await.unwrap(),
        ["a", "b", "c"]
    );
    assert_eq!(
        aws.iam.list_attached("r", ROLE_ARN).await.unwrap(),
        ["arn:1", "arn:2"]
    );
    let requests = script.requests();
    assert!(!requests[0].contains("Marker"), "{}", requests[0]);
    assert!(requests[1].contains("Marker=m1"), "{}", requests[1]);
    assert!(requests[3].contains("Marker=m2"), "{}", requests[3]);
    let counted = calls.snapshot();
    assert_eq!(counted.of("iam:ListRolePolicies"), 2);
    assert_eq!(counted.of("iam:ListAttachedRolePolicies"), 2);
}

#[tokio::test]
async fn a_failed_page_is_an_error_of_the_iam_action() {
    let denied = "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error>\
                  <Type>Sender</Type><Code>AccessDenied</Code><Message>not allowed</Message>\
                  </Error><RequestId>r</RequestId></ErrorResponse>";
    let script = Script::new(&[
        (
            200,
            &iam_page(
                "ListRolePolicies",
                "<PolicyNames><member>a</member></PolicyNames>",
                Some("m1"),
            ),
        ),
        (403, denied),
    ]);
    let (aws, _) = script.sdk_aws();
    let err = aws.iam.list_inline("r", ROLE_ARN).await.unwrap_err();
    assert_eq!(err.category(), Category::NeedsChange);
    assert_eq!(err.operation(), "iam:ListRolePolicies");
    assert_eq!(err.resource(), ROLE_ARN);
    assert_eq!(err.code(), Some("AccessDenied"));
}

#[tokio::test]
async fn pools_are_found_by_name_on_every_page() {
    let pool = |id: &str, name: &str| {
        format!("{{\"IdentityPoolId\":\"{id}\",\"IdentityPoolName\":\"{name}\"}}")
    };
    let page1 = format!(
        "{{\"IdentityPools\":[{},{}],\"NextToken\":\"t1\"}}",
        pool("us-east-1:0000000b-0000-0000-0000-000000000000", "app"),
        pool("us-east-1:0000000c-0000-0000-0000-000000000000", "other"),
    );
    let page2 = format!(
        "{{\"IdentityPools\":[{}]}}",
        pool("us-east-1:0000000a-0000-0000-0000-000000000000", "app"),
    );
    let script = Script::new(&[(200, &page1), (200, &page2)]);
    let (aws, calls) = script.sdk_aws();
    let ids = aws.cognito("us-east-1").pools_named("app").await.unwrap();
    let ids: Vec<_> = ids.iter().map(|id| id.to_string()).collect();
    assert_eq!(
        ids,
        [
            "us-east-1:0000000a-0000-0000-0000-000000000000",
            "us-east-1:0000000b-0000-0000-0000-000000000000",
        ]
    );
    let requests = script.requests();
    assert!(requests[0].contains("\"MaxResults\":60"), "{}", requests[0]);
    assert!(!requests[0].contains("NextToken"), "{}", requests[0]);
    assert!(
        requests[1].contains("\"NextToken\":\"t1\""),
        "{}",
        requests[1]
    );
    assert_eq!(calls.snapshot().of("cognito-identity:ListIdentityPools"), 2);
}

#[tokio::test]
async fn the_caller_identity_carries_the_partition_of_its_arn() {
    let answer = "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
                  <GetCallerIdentityResult>\
                  <Arn>arn:aws-us-gov:sts::123456789012:assumed-role/liveness-operator/s</Arn>\
                  <UserId>AROAEXAMPLE:s</UserId><Account>123456789012</Account>\
                  </GetCallerIdentityResult></GetCallerIdentityResponse>";
    let script = Script::new(&[(200, answer)]);
    let (aws, calls) = script.sdk_aws();
    assert_eq!(
        aws.caller_identity().await.unwrap(),
        CallerIdentity {
            account_id: "123456789012".into(),
            partition: "aws-us-gov".into(),
            arn: "arn:aws-us-gov:sts::123456789012:assumed-role/liveness-operator/s".into(),
        }
    );
    assert_eq!(calls.snapshot().of("sts:GetCallerIdentity"), 1);
}
