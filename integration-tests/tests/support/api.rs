//! Small helpers for calling the management API in tests.

use serde_json::Value;

use super::TestApp;

/// An answer: status and JSON body (`Null` when there is none).
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    pub fn id(&self) -> String {
        self.body["id"].as_str().unwrap_or_else(|| panic!("no id in {}", self.body)).to_owned()
    }

    pub fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or_default()
    }

    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(self.status, status, "{}", self.body);
        self
    }
}

impl TestApp {
    /// Sends `method path` with `key` as bearer and `body` as JSON (unless `Null`).
    pub async fn call(&self, method: &str, path: &str, key: &str, body: Value) -> Answer {
        let method_name = method;
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.http.request(method, self.url(path)).bearer_auth(key);
        if !body.is_null() {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let content_type = response.headers().get("content-type").map(|v| v.to_str().unwrap_or_default().to_owned());
        let text = response.text().await.unwrap();
        if !text.is_empty() {
            // docs/api.md: every answer with a body, success or error, is JSON.
            assert_eq!(content_type.as_deref(), Some("application/json"), "{method_name} {path}: {text}");
        }
        let body =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        Answer { status, body }
    }

    /// PATCHes `path` with `first` and `second` at the same time, `rounds` times over, each
    /// round with new values from `values(round)`: both must answer 200 and both changes must
    /// be in the stored object (compare-and-set retries, no lost update, no spurious 409).
    pub async fn concurrent_patches_both_land(
        &self,
        path: &str,
        key: &str,
        rounds: usize,
        values: impl Fn(usize) -> (Value, Value),
    ) {
        for round in 0..rounds {
            let (first, second) = values(round);
            let (a, b) = tokio::join!(
                self.call("PATCH", path, key, first.clone()),
                self.call("PATCH", path, key, second.clone())
            );
            a.expect(200);
            b.expect(200);
            let stored = self.call("GET", path, key, Value::Null).await.expect(200);
            for change in [&first, &second] {
                for (field, value) in change.as_object().expect("a PATCH body is an object") {
                    assert_eq!(&stored.body[field], value, "round {round}: {field} was lost");
                }
            }
        }
    }
}
