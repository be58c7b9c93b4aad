//! Who the operator is in AWS: account, partition and ARN of its credentials, from one
//! STS GetCallerIdentity. The partition (`aws`, `aws-cn`, `aws-us-gov`) is read from the
//! caller's ARN rather than assumed, so every ARN the plan builds is valid outside the
//! commercial partition too.

use crate::aws::error::AwsError;

const OPERATION: &str = "sts:GetCallerIdentity";

/// The identity of the operator's AWS credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallerIdentity {
    /// The 12-digit account id.
    pub account_id: String,
    /// The partition of the account, e.g. `aws`, `aws-cn`, `aws-us-gov`.
    pub partition: String,
    /// The caller's ARN as STS reported it.
    pub arn: String,
}

impl CallerIdentity {
    /// From GetCallerIdentity's `Account` and `Arn`. The ARN must be an STS or IAM ARN
    /// (`arn:<partition>:sts::<account>:…`, `arn:<partition>:iam::<account>:…`) of the
    /// same account; anything else is a NeedsChange error that says what was returned.
    pub fn from_answer(account: Option<&str>, arn: Option<&str>) -> Result<Self, AwsError> {
        let invalid = |why: String| AwsError::needs_change(OPERATION, "*", why);
        let account = account.filter(|a| !a.is_empty()).ok_or_else(|| {
            invalid("STS returned no account for the operator's credentials".into())
        })?;
        let arn = arn
            .filter(|a| !a.is_empty())
            .ok_or_else(|| invalid("STS returned no ARN for the operator's credentials".into()))?;
        let (partition, arn_account) = parse_arn(arn).ok_or_else(|| {
            invalid(format!(
                "STS returned a caller ARN that is not arn:<partition>:sts::<account>:… or \
                 arn:<partition>:iam::<account>:…: '{arn}'"
            ))
        })?;
        if arn_account != account {
            return Err(invalid(format!(
                "STS returned account {account} but caller ARN '{arn}' is in account {arn_account}"
            )));
        }
        Ok(Self {
            account_id: account.to_string(),
            partition: partition.to_string(),
            arn: arn.to_string(),
        })
    }
}

/// `(partition, account)` of an STS or IAM ARN, `None` if it is not one.
fn parse_arn(arn: &str) -> Option<(&str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (prefix, partition, service, region, account, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    let partition_ok = partition.starts_with("aws")
        && partition
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    let account_ok = account.len() == 12 && account.chars().all(|c| c.is_ascii_digit());
    (prefix == "arn"
        && partition_ok
        && matches!(service, "sts" | "iam")
        && region.is_empty()
        && account_ok
        && !resource.is_empty())
    .then_some((partition, account))
}

/// Asks STS who the credentials of `client` are.
pub(crate) async fn caller_identity(
    client: &aws_sdk_sts::Client,
) -> Result<CallerIdentity, AwsError> {
    let out = client
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| AwsError::from_sdk(OPERATION, "*", e))?;
    CallerIdentity::from_answer(out.account(), out.arn())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::Category;

    #[test]
    fn the_partition_comes_from_the_caller_arn() {
        for (arn, partition) in [
            (
                "arn:aws:sts::123456789012:assumed-role/liveness-operator/botocore-session-1",
                "aws",
            ),
            (
                "arn:aws-cn:sts::123456789012:assumed-role/liveness-operator/s",
                "aws-cn",
            ),
            (
                "arn:aws-us-gov:iam::123456789012:user/ops/alice",
                "aws-us-gov",
            ),
            ("arn:aws:iam::123456789012:root", "aws"),
        ] {
            let id = CallerIdentity::from_answer(Some("123456789012"), Some(arn)).unwrap();
            assert_eq!(
                id,
                CallerIdentity {
                    account_id: "123456789012".into(),
                    partition: partition.into(),
                    arn: arn.into(),
                },
                "{arn}"
            );
        }
    }

    #[test]
    fn a_missing_or_unparsable_answer_needs_a_change() {
        let good = "arn:aws:sts::123456789012:assumed-role/r/s";
        for (account, arn, says) in [
            (None, Some(good), "no account"),
            (Some(""), Some(good), "no account"),
            (Some("123456789012"), None, "no ARN"),
            (Some("123456789012"), Some(""), "no ARN"),
            (Some("123456789012"), Some("garbage"), "'garbage'"),
            (
                Some("123456789012"),
                Some("arn:aws:sts::123456789012"),
                "not arn:",
            ),
            (
                Some("123456789012"),
                Some("arn::sts::123456789012:x"),
                "not arn:",
            ),
            (
                Some("123456789012"),
                Some("arn:aws:s3:::bucket/key"),
                "not arn:",
            ),
            (
                Some("123456789012"),
                Some("arn:aws:sts:us-east-1:123456789012:x"),
                "not arn:",
            ),
            (
                Some("123456789012"),
                Some("arn:aws:iam::12345:root"),
                "not arn:",
            ),
            (
                Some("123456789012"),
                Some("arn:aws:iam::123456789012:"),
                "not arn:",
            ),
            (
                Some("123456789012"),
                Some("urn:aws:iam::123456789012:root"),
                "not arn:",
            ),
            (
                Some("123456789012"),
                Some("arn:aws:iam::210987654321:root"),
                "in account 210987654321",
            ),
        ] {
            let err = CallerIdentity::from_answer(account, arn).unwrap_err();
            assert_eq!(err.category(), Category::NeedsChange, "{arn:?}");
            assert_eq!(err.operation(), "sts:GetCallerIdentity");
            assert!(err.to_string().contains(says), "{arn:?}: {err}");
        }
    }
}
