//! docs/oidc.md with the relying parties our users run, started by the tests on free ports:
//! `openid-client` (npm, a certified OpenID Connect library) from a Node script, and Apache
//! httpd with mod_auth_openidc protecting a page that headless Chromium opens. Each is skipped
//! with a message when its package is missing, except under `CI=true`, where `.ci/run` installs
//! them and they must run.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::authorization_code::PASSWORD;
use crate::support::{Backend, TestApp, peers};

fn relying_parties_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("node")
}

/// A user and a confidential client for a relying party at `redirect_uri`: (client, email).
async fn relying_party(app: &TestApp, redirect_uri: &str, post_logout_redirect_uri: &str) -> (Value, String) {
    let email = "grace@example.com".to_owned();
    let user = json!({"email": email, "password": PASSWORD, "name": "Grace Hopper", "email_verified": true});
    app.call("POST", "/api/v1/users", &app.tenant_key, user).await.expect(201);
    let client = app
        .create_client(json!({
            "name": "Relying party", "confidential": true,
            "grant_types": ["authorization_code", "refresh_token"],
            "redirect_uris": [redirect_uri], "post_logout_redirect_uris": [post_logout_redirect_uri],
            "scopes": ["openid", "profile", "email"], "skip_consent": true,
        }))
        .await;
    (client, email)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openid_client_signs_in_refreshes_and_logs_out() {
    let library = relying_parties_dir().join("node_modules/openid-client");
    if !peers::installed("node", "--version", "Node.js") {
        return;
    }
    if !library.exists() {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but openid-client is not installed");
        eprintln!("skipped: run `npm ci` in integration-tests/node to run the openid-client test");
        return;
    }
    let app = TestApp::spawn_at_own_address(Backend::Sqlite).await.unwrap();
    let (redirect_uri, signed_out) = ("https://rp.example.com/callback", "https://rp.example.com/signed-out");
    let (client, email) = relying_party(&app, redirect_uri, signed_out).await;
    let user_id =
        app.call("GET", "/api/v1/users?limit=10", &app.tenant_key, Value::Null).await.expect(200).body["data"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();

    let output = tokio::process::Command::new("node")
        .arg(relying_parties_dir().join("openid_client.mjs"))
        .env("ISSUER", &app.base_url)
        .env("CLIENT_ID", client["id"].as_str().unwrap())
        .env("CLIENT_SECRET", client["client_secret"].as_str().unwrap())
        .env("REDIRECT_URI", redirect_uri)
        .env("POST_LOGOUT_REDIRECT_URI", signed_out)
        .env("EMAIL", &email)
        .env("PASSWORD", PASSWORD)
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "openid-client failed: {stderr}");
    let seen: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|_| panic!("{stderr}"));
    assert_eq!(seen["id_token_alg"], "RS256");
    assert_eq!(seen["sub"], user_id.as_str());
    assert_eq!((seen["email"].as_str(), seen["name"].as_str()), (Some(email.as_str()), Some("Grace Hopper")));
    assert_eq!(
        seen["userinfo"],
        json!({"sub": user_id, "email": email, "email_verified": true, "name": "Grace Hopper"})
    );
    assert_eq!(seen["refreshed_sub"], user_id.as_str());
    assert_eq!(seen["refreshed_auth_time"], seen["auth_time"]);
    assert_eq!(seen["logout_status"], 302);
    assert_eq!(seen["logout_location"], format!("{signed_out}?state=signed-out-state"));
    assert_eq!(seen["signed_in_after_logout"], false, "logout ended the session");
}

/// A stand-in for the app behind the proxy: it answers every request with the
/// `OIDC_CLAIM_*` headers mod_auth_openidc added, one `name=value` line each.
async fn claims_echo() -> u16 {
    peers::header_echo(|name, value| Some(format!("{}={value}\n", name.strip_prefix("oidc_claim_")?))).await
}

/// Apache httpd in the foreground with its own configuration; stopped when dropped.
struct Apache {
    process: std::process::Child,
    dir: tempfile::TempDir,
}

impl Drop for Apache {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl Apache {
    fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }
}

const APACHE: &str = "/usr/sbin/apache2";
const APACHE_MODULES: &str = "/usr/lib/apache2/modules";

/// Starts Apache on `port` with mod_auth_openidc protecting `/protected`, proxied to the echo
/// app, for the client `client` of `issuer`.
fn start_apache(port: u16, issuer: &str, client: &Value, echo_port: u16) -> Apache {
    let dir = tempfile::tempdir().unwrap();
    // The workers run as www-data when started by root; they open the runtime files here.
    std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let runs_as_root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let user = if runs_as_root { "User www-data\nGroup www-data\n" } else { "" };
    let passphrase = ulid::Ulid::new().to_string();
    let config = format!(
        r#"ServerRoot "{dir}"
{user}Listen 127.0.0.1:{port}
ServerName 127.0.0.1:{port}
PidFile "{dir}/httpd.pid"
DefaultRuntimeDir "{dir}"
ErrorLog "{dir}/error.log"
LogLevel warn auth_openidc:info
LoadModule mpm_event_module {modules}/mod_mpm_event.so
LoadModule authz_core_module {modules}/mod_authz_core.so
LoadModule authz_user_module {modules}/mod_authz_user.so
LoadModule authn_core_module {modules}/mod_authn_core.so
LoadModule proxy_module {modules}/mod_proxy.so
LoadModule proxy_http_module {modules}/mod_proxy_http.so
LoadModule auth_openidc_module {modules}/mod_auth_openidc.so
OIDCProviderMetadataURL {issuer}/.well-known/openid-configuration
OIDCClientID {client_id}
OIDCClientSecret {client_secret}
OIDCRedirectURI http://127.0.0.1:{port}/protected/redirect_uri
OIDCCryptoPassphrase {passphrase}
OIDCScope "openid email profile"
OIDCPKCEMethod S256
OIDCPassClaimsAs headers
<Location /protected>
    AuthType openid-connect
    Require valid-user
    ProxyPass http://127.0.0.1:{echo_port}/
</Location>
"#,
        dir = dir.path().display(),
        modules = APACHE_MODULES,
        client_id = client["id"].as_str().unwrap(),
        client_secret = client["client_secret"].as_str().unwrap(),
    );
    let config_path = dir.path().join("httpd.conf");
    std::fs::write(&config_path, config).unwrap();
    let process = Command::new(APACHE)
        .arg("-f")
        .arg(&config_path)
        .arg("-DFOREGROUND")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    Apache { process, dir }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mod_auth_openidc_signs_a_browser_in_and_out() {
    let module = Path::new(APACHE_MODULES).join("mod_auth_openidc.so");
    if !Path::new(APACHE).exists() || !module.exists() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but apache2 or libapache2-mod-auth-openidc is not installed"
        );
        eprintln!("skipped: install Debian's apache2 and libapache2-mod-auth-openidc to run this test");
        return;
    }
    if !crate::browser::Chromium::available() {
        return;
    }
    let app = TestApp::spawn_at_own_address(Backend::Sqlite).await.unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let site = format!("http://127.0.0.1:{port}");
    let (client, email) =
        relying_party(&app, &format!("{site}/protected/redirect_uri"), &format!("{site}/signed-out")).await;
    let echo_port = claims_echo().await;
    let apache = start_apache(port, &app.base_url, &client, echo_port);
    // Up when it answers (401/302 for the protected page; anything but a refused connection).
    let started = std::time::Instant::now();
    while app.http.get(format!("{site}/protected/")).send().await.is_err() {
        assert!(started.elapsed() < std::time::Duration::from_secs(15), "Apache did not start: {}", apache.error_log());
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    let chromium = crate::browser::Chromium::start().await;
    let browser = &chromium.browser;
    let outcome = async {
        // The protected page sends the browser to Tollbooth's sign-in, then back, signed in.
        browser.goto(&format!("{site}/protected/")).await?;
        let email_field = browser.wait().for_element(fantoccini::Locator::Css("input[name=email]")).await?;
        let sign_in_url = browser.current_url().await?;
        email_field.send_keys(&email).await?;
        browser.find(fantoccini::Locator::Css("input[name=password]")).await?.send_keys(PASSWORD).await?;
        browser.find(fantoccini::Locator::Css("button[type=submit]")).await?.click().await?;
        chromium.wait_for_url(&format!("{site}/protected/")).await?;
        let page = browser.find(fantoccini::Locator::Css("body")).await?.text().await?;
        // Logout: mod_auth_openidc ends its session and sends the browser to Tollbooth's
        // end_session_endpoint, which ends ours and returns to the registered page.
        let logout = format!("{site}/protected/redirect_uri?logout={}", urlencoding(&format!("{site}/signed-out")));
        browser.goto(&logout).await?;
        let after_logout = chromium.wait_for_url(&format!("{site}/signed-out")).await?;
        // Signed out of both: the protected page asks for a sign-in again.
        browser.goto(&format!("{site}/protected/")).await?;
        browser.wait().for_element(fantoccini::Locator::Css("input[name=password]")).await?;
        Ok::<_, fantoccini::error::CmdError>((sign_in_url, page, after_logout))
    }
    .await;
    let (sign_in_url, page, after_logout) =
        outcome.unwrap_or_else(|err| panic!("the browser flow failed: {err}\n{}", apache.error_log()));
    assert!(sign_in_url.as_str().starts_with(&format!("{}/oauth/authorize", app.base_url)), "{sign_in_url}");
    assert!(page.contains(&format!("email={email}")), "the app sees the user's claims: {page}");
    assert!(page.contains("name=Grace Hopper") && page.contains("email_verified="), "{page}");
    assert!(after_logout.as_str().starts_with(&format!("{site}/signed-out")), "{after_logout}");
}

fn urlencoding(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
