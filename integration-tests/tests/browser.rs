//! docs/oauth.md in a real browser: headless Chromium, driven through WebDriver (chromedriver), opens
//! the authorize URL, signs in, approves, and lands on the redirect URI with a code that the
//! test exchanges for tokens. Skipped with a message when Chromium is missing, except under
//! `CI=true`, where it must run (`.ci/run` installs Debian's `chromium` and `chromium-driver`).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::authorization_code::{PASSWORD, VERIFIER, challenge};
use crate::support::{Backend, TestApp};

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Headless Chromium with a profile of its own, driven through chromedriver; both stop when
/// it is dropped.
pub struct Chromium {
    pub browser: fantoccini::Client,
    _driver: Driver,
    _profile: tempfile::TempDir,
}

impl Chromium {
    /// Whether the browser is installed; if not, the caller skips (or, under `CI=true`, fails).
    pub fn available() -> bool {
        if !installed("chromedriver") || !installed("chromium") {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but chromium or chromedriver is not installed"
            );
            eprintln!("skipped: install Debian's chromium and chromium-driver to run the browser test");
            return false;
        }
        true
    }

    pub async fn start() -> Chromium {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = Driver(
            Command::new("chromedriver")
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let profile = tempfile::tempdir().unwrap();
        let capabilities: serde_json::Map<String, Value> = serde_json::from_value(json!({
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                    "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        }))
        .unwrap();
        let started = Instant::now();
        let browser = loop {
            match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(browser) => break browser,
                Err(err) if started.elapsed() < Duration::from_secs(20) => {
                    let _ = err;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(err) => panic!("chromedriver did not start a browser: {err}"),
            }
        };
        Chromium { browser, _driver: driver, _profile: profile }
    }

    /// Waits up to ten seconds for the page's URL to start with `prefix`; the URL it ended on.
    pub async fn wait_for_url(&self, prefix: &str) -> Result<url::Url, fantoccini::error::CmdError> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let current = self.browser.current_url().await?;
            if current.as_str().starts_with(prefix) || Instant::now() > deadline {
                return Ok(current);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        let browser = self.browser.clone();
        // Closing ends the WebDriver session; the driver process is killed right after.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
            if let Ok(runtime) = runtime {
                let _ = runtime.block_on(browser.close());
            }
        })
        .join();
    }
}

fn installed(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_signs_in_and_approves_in_a_real_browser() {
    if !Chromium::available() {
        return;
    }
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    app.call("POST", "/api/v1/users", &app.tenant_key, json!({"email": "browser@example.com", "password": PASSWORD}))
        .await
        .expect(201);
    // The redirect URI is this server's own /healthz: a loopback page the browser can load.
    let redirect = format!("{}/healthz", app.base_url);
    let client = app
        .create_client(json!({
            "name": "Browser App", "confidential": false, "grant_types": ["authorization_code"],
            "redirect_uris": [redirect], "scopes": ["openid", "profile", "email"],
        }))
        .await;
    let client_id = client["id"].as_str().unwrap();
    let mut authorize = url::Url::parse(&app.url("/oauth/authorize")).unwrap();
    authorize
        .query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", &redirect)
        .append_pair("scope", "openid profile email")
        .append_pair("state", "browser-state")
        .append_pair("code_challenge", &challenge(VERIFIER))
        .append_pair("code_challenge_method", "S256");

    let chromium = Chromium::start().await;
    let browser = &chromium.browser;

    let outcome = async {
        browser.goto(authorize.as_str()).await?;
        browser.find(Locator::Css("input[name=email]")).await?.send_keys("browser@example.com").await?;
        browser.find(Locator::Css("input[name=password]")).await?.send_keys(PASSWORD).await?;
        browser.find(Locator::Css("button[type=submit]")).await?.click().await?;
        let approve = browser.wait().for_element(Locator::Css("button[value=approve]")).await?;
        let consent = browser.source().await?;
        assert!(consent.contains("profile"), "the consent page lists the scope");
        approve.click().await?;
        chromium.wait_for_url(&redirect).await
    }
    .await;
    let landed = outcome.expect("the browser completes the flow");
    assert!(landed.as_str().starts_with(&redirect), "landed on {landed}");
    let params: std::collections::HashMap<String, String> =
        landed.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    assert_eq!(params["state"], "browser-state");

    let response = app
        .http
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", params["code"].as_str()),
            ("redirect_uri", redirect.as_str()),
            ("client_id", client_id),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let tokens: Value = response.json().await.unwrap();
    let access_token = tokens["access_token"].as_str().unwrap();
    let userinfo = app.http.get(app.url("/oauth/userinfo")).bearer_auth(access_token).send().await.unwrap();
    assert_eq!(userinfo.status(), 200);
    let userinfo: Value = userinfo.json().await.unwrap();
    assert_eq!(userinfo["email"], "browser@example.com");
}
