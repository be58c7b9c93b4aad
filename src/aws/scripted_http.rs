//! A scripted HTTP connection for tests of the layer with the real SDK clients: answers
//! requests in order, as AWS would (status and body), and keeps what was sent.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_iam::config::{Credentials, SharedCredentialsProvider};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;

use super::{Calls, SdkAws};

/// Answers requests in order from a script and keeps each request's body.
#[derive(Clone, Debug, Default)]
pub struct Script {
    answers: Arc<Mutex<VecDeque<(u16, String)>>>,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Script {
    pub fn new(answers: &[(u16, &str)]) -> Self {
        let script = Self::default();
        script
            .answers
            .lock()
            .unwrap()
            .extend(answers.iter().map(|(s, b)| (*s, b.to_string())));
        script
    }

    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }

    /// An SdkConfig whose every client talks to this script.
    pub fn sdk_config(&self) -> SdkConfig {
        SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "AKID", "secret", None, None, "script",
            )))
            .http_client(SharedHttpClient::new(self.clone()))
            .build()
    }

    /// The layer without a budget over this script, and its call counter.
    pub fn sdk_aws(&self) -> (SdkAws, Calls) {
        let calls = Calls::new();
        (SdkAws::new(&self.sdk_config(), calls.clone()), calls)
    }
}

impl HttpConnector for Script {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let body = request.body().bytes().unwrap_or_default();
        self.requests
            .lock()
            .unwrap()
            .push(String::from_utf8_lossy(body).into_owned());
        let (status, body) = self
            .answers
            .lock()
            .unwrap()
            .pop_front()
            .expect("a scripted answer for every request");
        let response = HttpResponse::new(status.try_into().unwrap(), SdkBody::from(body));
        HttpConnectorFuture::ready(Ok(response))
    }
}

impl HttpClient for Script {
    fn http_connector(
        &self,
        _settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}
