//! IAM policy documents as typed structs, and the semantic comparison against what AWS
//! returns.
//!
//! We write policies from these structs (stable field order, `BTreeMap`s, lists always as
//! lists) so the JSON we send is deterministic. AWS hands documents back URL-encoded and
//! may reshape them (a one-element list becomes a string, statements keep or lose
//! whitespace), so drift is decided on a canonical form, never on text.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The only policy language version AWS documents for current features.
pub const POLICY_VERSION: &str = "2012-10-17";

/// An IAM policy document (identity policy or trust policy).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct PolicyDocument {
    /// Policy language version, always [`POLICY_VERSION`].
    #[serde(rename = "Version")]
    pub version: String,
    /// The statements, in the order written.
    #[serde(rename = "Statement")]
    pub statement: Vec<Statement>,
}

/// `Condition` block: operator → context key → values.
pub type Conditions = BTreeMap<String, BTreeMap<String, Vec<String>>>;

/// One policy statement.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    /// Statement id, shown in reviews and AWS's policy simulator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Allow or Deny.
    pub effect: Effect,
    /// Principal type (`Federated`, `Service`, `AWS`) → principals; trust policies only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<BTreeMap<String, Vec<String>>>,
    /// Actions, e.g. `rekognition:StartFaceLivenessSession`.
    pub action: Vec<String>,
    /// Resources; absent in trust policies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<Vec<String>>,
    /// Conditions; omitted when empty.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub condition: Conditions,
}

/// Statement effect.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Grants.
    Allow,
    /// Denies, overriding any Allow.
    Deny,
}

impl PolicyDocument {
    /// A document of the current version.
    pub fn new(statement: Vec<Statement>) -> Self {
        Self {
            version: POLICY_VERSION.into(),
            statement,
        }
    }

    /// Compact JSON, exactly what is sent to AWS.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a policy document serializes")
    }

    /// Indented JSON for humans (plans, events).
    pub fn to_pretty_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a policy document serializes")
    }

    /// Whether `aws_text` (as returned by IAM, URL-encoded or not) means the same policy.
    /// Unparseable text never matches, so a broken document is rewritten.
    pub fn same_as_aws(&self, aws_text: &str) -> bool {
        self.same_as(DocumentDigest::of_aws(aws_text))
    }

    /// Whether the document `theirs` was taken of means the same policy.
    pub fn same_as(&self, theirs: DocumentDigest) -> bool {
        theirs == self.digest()
    }

    /// The digest of this document, as [`DocumentDigest::of_aws`] takes it of IAM's text.
    pub fn digest(&self) -> DocumentDigest {
        let ours = serde_json::to_value(self).expect("a policy document serializes");
        DocumentDigest(Some(canonical_digest(ours)))
    }
}

/// A policy document as IAM returned it, kept as the SHA-256 of its [`canonical`] form:
/// all that comparing it with ours needs, in 32 bytes instead of the document (the shared
/// role read holds thousands of them). Empty when the text did not parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DocumentDigest(Option<[u8; 32]>);

impl DocumentDigest {
    /// The digest of `aws_text` (URL-encoded or not).
    pub fn of_aws(aws_text: &str) -> Self {
        DocumentDigest(parse_aws_document(aws_text).map(canonical_digest))
    }

    /// The SHA-256, or `None` when the text did not parse.
    pub fn bytes(&self) -> Option<&[u8; 32]> {
        self.0.as_ref()
    }
}

/// serde_json's maps are sorted, so the text of a canonical document is canonical too.
fn canonical_digest(doc: Value) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(canonical(doc).to_string().as_bytes()).into()
}

impl Statement {
    /// An Allow statement on `actions` and `resources`, without conditions.
    pub fn allow(sid: &str, actions: &[&str], resources: Vec<String>) -> Self {
        Self {
            sid: Some(sid.into()),
            effect: Effect::Allow,
            principal: None,
            action: actions.iter().map(|a| a.to_string()).collect(),
            resource: Some(resources),
            condition: Conditions::new(),
        }
    }

    /// A Deny statement on `actions` and `resources`, without conditions. A Deny wins over
    /// any Allow of any other policy the principal carries.
    pub fn deny(sid: &str, actions: &[&str], resources: Vec<String>) -> Self {
        Self {
            effect: Effect::Deny,
            ..Self::allow(sid, actions, resources)
        }
    }

    /// Whether the statement grants (true) or takes away (false).
    pub fn allows(&self) -> bool {
        self.effect == Effect::Allow
    }

    /// Adds `operator: {key: values}` to the conditions.
    pub fn when(mut self, operator: &str, key: &str, values: &[&str]) -> Self {
        self.condition
            .entry(operator.into())
            .or_default()
            .insert(key.into(), values.iter().map(|v| v.to_string()).collect());
        self
    }
}

/// Decodes a document as IAM returns it: RFC 3986 percent-encoded JSON (GetRole,
/// GetRolePolicy) or plain JSON. `None` when it is not JSON.
pub fn parse_aws_document(text: &str) -> Option<Value> {
    if let Ok(value) = serde_json::from_str(text) {
        return Some(value);
    }
    let decoded = percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .ok()?;
    serde_json::from_str(&decoded).ok()
}

/// Canonical form: statements as a sorted list; Action/Resource/principal/condition values
/// as sorted, de-duplicated lists of strings (IAM treats `"a"` and `["a"]` alike and
/// condition values `true` and `"true"` alike).
pub fn canonical(doc: Value) -> Value {
    let Value::Object(mut doc) = doc else {
        return doc;
    };
    if let Some(statements) = doc.remove("Statement") {
        let mut list: Vec<Value> = match statements {
            Value::Array(items) => items.into_iter().map(canonical_statement).collect(),
            single => vec![canonical_statement(single)],
        };
        list.sort_by_cached_key(|s| s.to_string());
        doc.insert("Statement".into(), Value::Array(list));
    }
    Value::Object(doc)
}

fn canonical_statement(statement: Value) -> Value {
    let Value::Object(mut s) = statement else {
        return statement;
    };
    for key in ["Action", "NotAction", "Resource", "NotResource"] {
        if let Some(v) = s.remove(key) {
            s.insert(key.into(), string_set(v));
        }
    }
    for key in ["Principal", "NotPrincipal"] {
        if let Some(Value::Object(principals)) = s.remove(key) {
            let principals = principals
                .into_iter()
                .map(|(kind, v)| (kind, string_set(v)))
                .collect();
            s.insert(key.into(), Value::Object(principals));
        }
    }
    if let Some(Value::Object(operators)) = s.remove("Condition") {
        let operators = operators
            .into_iter()
            .map(|(op, keys)| match keys {
                Value::Object(keys) => (
                    op,
                    Value::Object(keys.into_iter().map(|(k, v)| (k, string_set(v))).collect()),
                ),
                other => (op, other),
            })
            .collect();
        s.insert("Condition".into(), Value::Object(operators));
    }
    Value::Object(s)
}

fn string_set(value: Value) -> Value {
    let items = match value {
        Value::Array(items) => items,
        single => vec![single],
    };
    let mut strings: Vec<String> = items
        .into_iter()
        .map(|v| match v {
            Value::String(s) => s,
            other => other.to_string(),
        })
        .collect();
    strings.sort();
    strings.dedup();
    Value::Array(strings.into_iter().map(Value::String).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start_only() -> PolicyDocument {
        PolicyDocument::new(vec![Statement::allow(
            "StartLiveness",
            &["rekognition:StartFaceLivenessSession"],
            vec!["*".into()],
        )])
    }

    #[test]
    fn serializes_in_a_stable_order() {
        assert_eq!(
            start_only().to_json(),
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"StartLiveness","Effect":"Allow","Action":["rekognition:StartFaceLivenessSession"],"Resource":["*"]}]}"#
        );
    }

    #[test]
    fn url_encoded_reshaped_document_from_iam_is_the_same_policy() {
        // How IAM hands it back: strings instead of one-element lists, other key order,
        // whitespace, percent-encoded.
        let aws = "%7B%22Statement%22%3A%20%7B%22Resource%22%3A%20%22%2A%22%2C%20%22Action%22%3A%20%22rekognition%3AStartFaceLivenessSession%22%2C%20%22Effect%22%3A%20%22Allow%22%2C%20%22Sid%22%3A%20%22StartLiveness%22%7D%2C%20%22Version%22%3A%20%222012-10-17%22%7D";
        assert!(start_only().same_as_aws(aws));
    }

    #[test]
    fn a_kept_digest_compares_as_the_document_did() {
        let one = r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":"a:A","Resource":"*"},{"Sid":"B","Effect":"Allow","Action":"b:B","Resource":"*"}]}"#;
        let reordered = r#"{"Statement":[{"Resource":["*"],"Action":["b:B"],"Effect":"Allow","Sid":"B"},{"Sid":"A","Effect":"Allow","Action":"a:A","Resource":"*"}],"Version":"2012-10-17"}"#;
        let ours = PolicyDocument::new(vec![
            Statement::allow("A", &["a:A"], vec!["*".into()]),
            Statement::allow("B", &["b:B"], vec!["*".into()]),
        ]);
        let kept = DocumentDigest::of_aws(reordered);
        assert_eq!(kept, DocumentDigest::of_aws(one));
        assert!(ours.same_as(kept));
        assert!(!start_only().same_as(kept));
        assert!(!ours.same_as(DocumentDigest::of_aws("{not json")));
    }

    #[test]
    fn an_added_action_or_resource_is_drift() {
        let wider = r#"{"Version":"2012-10-17","Statement":[{"Sid":"StartLiveness","Effect":"Allow","Action":["rekognition:StartFaceLivenessSession","rekognition:CreateFaceLivenessSession"],"Resource":"*"}]}"#;
        assert!(!start_only().same_as_aws(wider));
        assert!(!start_only().same_as_aws("not json"));
    }

    #[test]
    fn deny_statements_serialize_with_their_effect_and_conditions() {
        let deny = Statement::deny(
            "NoOtherBoundary",
            &["iam:PutRolePermissionsBoundary"],
            vec!["*".into()],
        )
        .when(
            "StringNotEquals",
            "iam:PermissionsBoundary",
            &["arn:aws:iam::1:policy/b"],
        );
        assert!(!deny.allows());
        assert_eq!(
            serde_json::to_value(&deny).unwrap(),
            serde_json::json!({
                "Sid": "NoOtherBoundary",
                "Effect": "Deny",
                "Action": ["iam:PutRolePermissionsBoundary"],
                "Resource": ["*"],
                "Condition": {"StringNotEquals": {"iam:PermissionsBoundary": ["arn:aws:iam::1:policy/b"]}}
            })
        );
    }

    #[test]
    fn condition_values_compare_as_sets_of_strings() {
        let ours = PolicyDocument::new(vec![
            Statement::allow("A", &["s3:PutObject"], vec!["arn:aws:s3:::b/*".into()])
                .when("Bool", "aws:SecureTransport", &["true"])
                .when("StringLike", "k", &["b", "a"]),
        ]);
        let theirs = r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringLike":{"k":["a","b"]},"Bool":{"aws:SecureTransport":true}}}]}"#;
        assert!(ours.same_as_aws(theirs));
    }
}
