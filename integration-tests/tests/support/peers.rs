//! What the tests of real peers share (relying parties, proxies): whether a peer is installed,
//! and an upstream app that answers with the headers it was sent.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Whether `program version_arg` runs; if not, the test is skipped with a message naming the
/// Debian `package`, or fails under `CI=true` (`.ci/run` installs every peer).
pub fn installed(program: &str, version_arg: &str, package: &str) -> bool {
    let runs = Command::new(program).arg(version_arg).stdout(Stdio::null()).stderr(Stdio::null()).status();
    if !runs.is_ok_and(|s| s.success()) {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but {package} is not installed");
        eprintln!("skipped: install {package} to run this test");
        return false;
    }
    true
}

/// An upstream app on a free port: it answers every request with one line per request header
/// that `line` keeps (given the header's lower-cased name and its value), and closes.
pub async fn header_echo(line: fn(&str, &str) -> Option<String>) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buffer = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buffer[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head);
                let body: String = head
                    .lines()
                    .skip(1)
                    .filter_map(|header| header.split_once(": "))
                    .filter_map(|(name, value)| line(&name.to_ascii_lowercase(), value))
                    .collect();
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    port
}

/// nginx in the foreground with a configuration of the test's own: the common preamble, then
/// `http(dir, port)` as the body of the `http` block (upstreams and servers, listening on
/// `port`; files it includes are in `dir`), with `files` (name, text) written beside it.
pub fn nginx(files: &[(&str, &str)], http: impl FnOnce(&str, u16) -> String) -> Proxy {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let temp = dir.path().display().to_string();
    let config = format!(
        r#"daemon off;
pid {temp}/nginx.pid;
error_log {temp}/error.log warn;
worker_processes 1;
events {{ worker_connections 512; }}
http {{
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
{}}}
"#,
        http(&temp, port)
    );
    std::fs::write(dir.path().join("nginx.conf"), config).unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let process = Command::new("nginx")
        .arg("-p")
        .arg(dir.path())
        .arg("-c")
        .arg(dir.path().join("nginx.conf"))
        .arg("-e")
        .arg(dir.path().join("error.log"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Proxy { process, port, dir }
}

/// A port nothing listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A proxy process in the foreground with its own configuration; stopped when dropped.
pub struct Proxy {
    pub process: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl Proxy {
    /// Starts `command`, a proxy that will listen on `port` with its files in `dir`, with its
    /// standard error in the `error.log` that [`Proxy::log`] reads.
    pub fn spawn(mut command: Command, dir: tempfile::TempDir, port: u16) -> Proxy {
        let log = std::fs::File::create(dir.path().join("error.log")).unwrap();
        let process = command.stdout(Stdio::null()).stderr(log).spawn().unwrap();
        Proxy { process, port, dir }
    }

    /// Waits until the proxy answers on its port.
    pub async fn ready(self) -> Proxy {
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "the proxy did not start: {}", self.log());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self
    }

    /// Waits until the proxy has its routes: until then some proxies answer 404 on `path` (or,
    /// just started, drop the connection).
    pub async fn serving(self, path: &str) -> Proxy {
        let deadline = Instant::now() + Duration::from_secs(15);
        while reqwest::get(self.url(path)).await.map_or(true, |answer| answer.status() == 404) {
            assert!(Instant::now() < deadline, "the proxy did not load its routes: {}", self.log());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

/// A Redis server of the test's own, on `port`, that the test can stop and restart; stopped
/// when dropped.
pub struct PrivateRedis {
    pub port: u16,
}

impl PrivateRedis {
    /// A server on a free port, or `None` after [`crate::support::skip`].
    pub fn on_free_port() -> Option<PrivateRedis> {
        let port = free_port();
        if !Self::start(port) {
            crate::support::skip("redis-server could not be started (Debian's redis-server)");
            return None;
        }
        Some(PrivateRedis { port })
    }

    /// Starts (or restarts) the server on `port`; whether it started and listens (it forks
    /// into the background before it does).
    pub fn start(port: u16) -> bool {
        let forked = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--daemonize", "yes"])
            .status()
            .is_ok_and(|s| s.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        while forked && std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        forked
    }

    pub fn stop(&self) {
        let _ = Command::new("redis-cli").args(["-p", &self.port.to_string(), "shutdown", "nosave"]).status();
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}
