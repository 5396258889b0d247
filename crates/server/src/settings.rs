//! Settings (docs/configuration.md): the embedded `config/default.toml`, then a `--config` file, then
//! `TOLLBOOTH_*` variables. Loaded once and validated; every bad value stops start-up with one
//! sentence naming the setting.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use figment::providers::{Format, Serialized, Toml};
use figment::value::{Dict, Tag, Value};
use figment::{Figment, Provider};
use serde::Deserialize;
use tollbooth_oauth::OAuthSettings;
use tollbooth_oauth::keys::SigningAlgorithm;
use tollbooth_storage::DatabaseConfig;
use tollbooth_storage::rate_limit::{Plan, Rules, Window};
use tollbooth_storage::values::Issuer;

pub const DEFAULT_TOML: &str = include_str!("../../../config/default.toml");
const ENV_PREFIX: &str = "TOLLBOOTH_";
const SECTIONS: &[&str] = &["database", "token", "secrets", "rate_limit", "log", "tls", "metrics", "audit"];
const MIN_SECRET_CHARS: usize = 32;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    listen: String,
    issuer: String,
    database_url: String,
    redis_url: String,
    require_https: bool,
    trusted_proxies: ListSetting,
    workers: usize,
    shutdown_timeout_seconds: u64,
    tls: RawTls,
    database: RawDatabase,
    token: RawToken,
    secrets: RawSecrets,
    rate_limit: RawRateLimit,
    log: RawLog,
    metrics: RawMetrics,
    audit: RawAudit,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAudit {
    retention_days: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetrics {
    allow: ListSetting,
    bearer_token: String,
}

/// A list in a file, or a comma-separated string in an environment variable.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ListSetting {
    Many(Vec<String>),
    One(String),
}

impl ListSetting {
    fn entries(&self) -> Vec<&str> {
        match self {
            ListSetting::Many(items) => items.iter().map(String::as_str).collect(),
            ListSetting::One(text) => text.split(',').map(str::trim).filter(|s| !s.is_empty()).collect(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTls {
    cert_path: String,
    key_path: String,
}

/// Where the HTTPS listener's certificate chain and key are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsPaths {
    pub cert_path: std::path::PathBuf,
    pub key_path: std::path::PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDatabase {
    max_connections: u32,
    connect_timeout_seconds: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawToken {
    audience: String,
    signing_algorithm: String,
    max_access_token_ttl: i64,
    key_reload_seconds: u64,
    pkce_required: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSecrets {
    pepper: String,
    encryption_keys: ListSetting,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRateLimit {
    plan_default: String,
    enabled: bool,
    redis_timeout_ms: u64,
    redis_cluster: bool,
    plans: BTreeMap<String, RawPlan>,
    rules: RawRules,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlan {
    windows: Vec<RawWindow>,
    #[serde(default)]
    writes: Vec<RawWindow>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRules {
    token_per_client: Vec<RawWindow>,
    token_per_ip: Vec<RawWindow>,
    sign_in: Vec<RawWindow>,
    sign_in_per_ip: Vec<RawWindow>,
    sign_in_per_account: Vec<RawWindow>,
    per_ip: Vec<RawWindow>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWindow {
    window: String,
    limit: u64,
}

/// Parses the windows at `setting`, refusing bad durations, zero limits and repeated windows.
fn windows(setting: &str, raw: &[RawWindow]) -> Result<Vec<Window>, ConfigError> {
    let mut parsed: Vec<Window> = Vec::new();
    for (i, window) in raw.iter().enumerate() {
        let at = format!("{setting}[{i}]");
        let seconds = Window::parse_duration(&window.window).map_err(|problem| bad(&at, problem))?;
        if window.limit == 0 {
            return Err(bad(&at, "the limit must be at least 1"));
        }
        if parsed.iter().any(|w| w.seconds == seconds) {
            return Err(bad(&at, format!("the window {} is given twice", window.window)));
        }
        parsed.push(Window { seconds, limit: window.limit });
    }
    Ok(parsed)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLog {
    level: String,
    format: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Validated settings.
#[derive(Clone)]
pub struct Settings {
    pub server: ServerSettings,
    /// What the authorization server is told: issuer, audience, PKCE.
    pub oauth: OAuthSettings,
    pub token: TokenSettings,
    pub database: DatabaseConfig,
    pub secrets: SecretSettings,
    pub rate_limit: RateLimitSettings,
    pub metrics: MetricsSettings,
    pub audit: AuditSettings,
    pub log: LogSettings,
}

/// The listener and what it believes about the network.
#[derive(Clone)]
pub struct ServerSettings {
    pub listen: SocketAddr,
    pub require_https: bool,
    /// `Some` to serve HTTPS.
    pub tls: Option<TlsPaths>,
    /// Proxies whose forwarding headers are believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub workers: usize,
    /// How long requests in flight get to finish after SIGTERM.
    pub shutdown_timeout: Duration,
}

/// Signing keys and token lifetimes.
#[derive(Clone)]
pub struct TokenSettings {
    pub signing_algorithm: SigningAlgorithm,
    /// The longest `access_token_ttl` a client may have (and so the longest any token lives).
    pub max_access_token_ttl: i64,
    /// How often every instance reloads the signing keys (another may have rotated them).
    pub key_reload_interval: Duration,
}

/// Secrets the server holds.
#[derive(Clone)]
pub struct SecretSettings {
    /// `None`: use the pepper stored in the database.
    pub pepper: Option<secrecy::SecretString>,
    /// Key-encryption keys for the secrets stored readable (signing keys, a generated pepper):
    /// the first seals, all open. Empty: a key file beside a SQLite database.
    pub encryption_keys: Vec<secrecy::SecretString>,
}

/// Rate limiting (docs/rate-limits.md).
#[derive(Clone)]
pub struct RateLimitSettings {
    /// `false` switches rate limiting off (for measuring its cost).
    pub enabled: bool,
    /// `None`: count in memory (one instance). With `redis_cluster`, seed nodes, comma-separated.
    pub redis_url: Option<String>,
    pub redis_cluster: bool,
    pub redis_timeout: Duration,
    /// The plan of new tenants.
    pub plan_default: String,
    pub plans: BTreeMap<String, Plan>,
    pub rules: Rules,
}

/// Who may read `/metrics`.
#[derive(Clone)]
pub struct MetricsSettings {
    /// Client addresses that may read it.
    pub allow: Vec<ipnet::IpNet>,
    /// A bearer token that may read it from anywhere.
    pub bearer_token: Option<secrecy::SecretString>,
}

#[derive(Clone)]
pub struct AuditSettings {
    /// How long audit events are kept; `None`: for ever.
    pub retention: Option<chrono::Duration>,
}

#[derive(Clone)]
pub struct LogSettings {
    pub level: String,
    pub format: LogFormat,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("listen", &self.server.listen)
            .field("issuer", &self.oauth.issuer)
            .field("backend", &self.database.target().map(|(b, _)| b))
            .field("redis", &self.rate_limit.redis_url.is_some())
            .finish_non_exhaustive()
    }
}

/// A setting that cannot be used, in one sentence.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// Addresses and CIDR ranges, as a list in a file or comma-separated in the environment.
fn address_ranges(setting: &str, list: &ListSetting) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    list.entries()
        .into_iter()
        .map(|entry| {
            entry
                .parse::<ipnet::IpNet>()
                .or_else(|_| entry.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| bad(setting, format!("`{entry}` is not an address or CIDR range")))
        })
        .collect()
}

fn bad(setting: &str, problem: impl std::fmt::Display) -> ConfigError {
    let env = format!("{ENV_PREFIX}{}", setting.replace('.', "_").to_ascii_uppercase());
    ConfigError(format!("Invalid setting `{setting}` ({env}): {problem}."))
}

impl Settings {
    /// Loads settings from the defaults, `file` and the `TOLLBOOTH_*` pairs among `env`.
    pub fn load(file: Option<&Path>, env: impl IntoIterator<Item = (String, String)>) -> Result<Settings, ConfigError> {
        if let Some(file) = file.filter(|file| !file.is_file()) {
            return Err(ConfigError(format!("The config file {} does not exist.", file.display())));
        }
        Self::merged(file.map(Toml::file), env)
    }

    /// Like [`Settings::load`], with the config file's text (the fuzz targets' way in).
    pub fn from_toml(text: &str, env: impl IntoIterator<Item = (String, String)>) -> Result<Settings, ConfigError> {
        Self::merged(Some(Toml::string(text)), env)
    }

    fn merged(
        file: Option<figment::providers::Data<Toml>>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, ConfigError> {
        let mut figment = Figment::from(Toml::string(DEFAULT_TOML));
        if let Some(file) = file {
            figment = figment.merge(file);
        }
        figment = figment.merge(Serialized::globals(env_overrides(env)));
        let raw: RawSettings = figment.extract().map_err(|err| {
            let setting = err.path.join(".");
            if setting.is_empty() { ConfigError(format!("Invalid settings: {err}.")) } else { bad(&setting, &err.kind) }
        })?;
        raw.validate()
    }
}

/// Maps `TOLLBOOTH_RATE_LIMIT_PLAN_DEFAULT` to `rate_limit.plan_default`, and so on. Variables
/// that name no setting (`TOLLBOOTH_TEST_…`) are left alone.
fn env_key(name: &str) -> Option<String> {
    let rest = name.strip_prefix(ENV_PREFIX)?.to_ascii_lowercase();
    if rest.contains("__") {
        return Some(rest.replace("__", "."));
    }
    if rest == "database_url" {
        return Some(rest);
    }
    for section in SECTIONS {
        if let Some(key) = rest.strip_prefix(section).and_then(|k| k.strip_prefix('_')) {
            return Some(format!("{section}.{key}"));
        }
    }
    Some(rest)
}

fn env_overrides(env: impl IntoIterator<Item = (String, String)>) -> Dict {
    let known: Dict = Toml::string(DEFAULT_TOML)
        .data()
        .ok()
        .and_then(|mut profiles| profiles.remove(&figment::Profile::Default))
        .unwrap_or_default();
    let mut overrides = Dict::new();
    for (name, value) in env {
        let Some(key) = env_key(&name) else { continue };
        let parts: Vec<&str> = key.split('.').collect();
        if !is_known(&known, &parts) {
            continue;
        }
        insert(&mut overrides, &parts, value.parse::<Value>().unwrap_or_else(|never| match never {}));
    }
    overrides
}

fn is_known(known: &Dict, parts: &[&str]) -> bool {
    match parts {
        [] => false,
        [last] => known.contains_key(*last),
        [first, rest @ ..] => {
            matches!(known.get(*first), Some(Value::Dict(_, inner)) if is_known(inner, rest))
        }
    }
}

fn insert(dict: &mut Dict, parts: &[&str], value: Value) {
    match parts {
        [] => {}
        [last] => {
            dict.insert((*last).to_owned(), value);
        }
        [first, rest @ ..] => {
            let entry = dict.entry((*first).to_owned()).or_insert_with(|| Value::Dict(Tag::Default, BTreeMap::new()));
            if let Value::Dict(_, inner) = entry {
                insert(inner, rest, value);
            }
        }
    }
}

impl RawSettings {
    fn validate(self) -> Result<Settings, ConfigError> {
        let listen: SocketAddr = self
            .listen
            .parse()
            .map_err(|_| bad("listen", format!("`{}` is not an address and port like 127.0.0.1:8080", self.listen)))?;
        let issuer = if self.issuer.is_empty() { format!("http://{listen}") } else { self.issuer.clone() };
        let issuer = Issuer::parse(&issuer).map_err(|rule| bad("issuer", format!("`{issuer}` {rule}")))?;
        let database = DatabaseConfig {
            url: self.database_url.clone(),
            max_connections: self.database.max_connections,
            connect_timeout: Duration::from_secs(self.database.connect_timeout_seconds),
            min_idle: 1,
        };
        database.target().map_err(|problem| bad("database_url", problem.trim_end_matches('.')))?;
        if database.max_connections == 0 {
            return Err(bad("database.max_connections", "it must be at least 1"));
        }
        if self.database.connect_timeout_seconds == 0 {
            return Err(bad("database.connect_timeout_seconds", "it must be at least 1"));
        }
        if self.rate_limit.redis_cluster && self.redis_url.is_empty() {
            return Err(bad("rate_limit.redis_cluster", "it needs redis_url to name the cluster's nodes"));
        }
        let redis_url = match self.redis_url.as_str() {
            "" => None,
            urls if urls.split(',').all(|url| url.trim().starts_with("redis://"))
                && (self.rate_limit.redis_cluster || !urls.contains(',')) =>
            {
                Some(urls.to_owned())
            }
            _ => {
                return Err(bad(
                    "redis_url",
                    "it must start with redis:// (several, comma-separated, only with rate_limit.redis_cluster); \
                     TLS to Redis (rediss://) is not supported: keep Redis on a private network",
                ));
            }
        };
        let audience =
            if self.token.audience.is_empty() { format!("{issuer}/api") } else { self.token.audience.clone() };
        let signing_algorithm = SigningAlgorithm::parse(&self.token.signing_algorithm).ok_or_else(|| {
            bad(
                "token.signing_algorithm",
                format!("`{}` is not one of ES256, RS256, EdDSA", self.token.signing_algorithm),
            )
        })?;
        if !(60..=30 * 86400).contains(&self.token.max_access_token_ttl) {
            return Err(bad("token.max_access_token_ttl", "it must be from 60 seconds to 30 days"));
        }
        if self.token.key_reload_seconds == 0 {
            return Err(bad("token.key_reload_seconds", "it must be at least 1"));
        }
        let pepper = match self.secrets.pepper.as_str() {
            "" => None,
            short if short.chars().count() < MIN_SECRET_CHARS => {
                return Err(bad("secrets.pepper", format!("it must have at least {MIN_SECRET_CHARS} characters")));
            }
            pepper => Some(secrecy::SecretString::from(pepper.to_owned())),
        };
        if self.audit.retention_days > 36_500 {
            return Err(bad(
                "audit.retention_days",
                "it must be at most 36500 (a century), or 0 to keep events for ever",
            ));
        }
        let mut encryption_keys = Vec::new();
        for key in self.secrets.encryption_keys.entries() {
            if key.chars().count() < MIN_SECRET_CHARS {
                let problem = format!("each key must have at least {MIN_SECRET_CHARS} characters");
                return Err(bad("secrets.encryption_keys", problem));
            }
            encryption_keys.push(secrecy::SecretString::from(key.to_owned()));
        }
        // Instances on a shared database must share the key that seals its secrets; only a
        // SQLite database (one instance) may keep its key in a file of its own.
        if encryption_keys.is_empty() && matches!(database.target(), Ok((tollbooth_storage::Backend::Postgres, _))) {
            let problem = "PostgreSQL needs it: every instance on a shared database seals with the same key";
            return Err(bad("secrets.encryption_keys", problem));
        }
        let mut plans = BTreeMap::new();
        for (name, raw) in &self.rate_limit.plans {
            let setting = format!("rate_limit.plans.{name}");
            let plan = Plan {
                windows: windows(&format!("{setting}.windows"), &raw.windows)?,
                writes: windows(&format!("{setting}.writes"), &raw.writes)?,
            };
            if plan.windows.is_empty() {
                return Err(bad(&format!("{setting}.windows"), "a plan needs at least one window"));
            }
            plans.insert(name.clone(), plan);
        }
        let rules = &self.rate_limit.rules;
        let rules = Rules {
            token_per_client: windows("rate_limit.rules.token_per_client", &rules.token_per_client)?,
            token_per_ip: windows("rate_limit.rules.token_per_ip", &rules.token_per_ip)?,
            sign_in: windows("rate_limit.rules.sign_in", &rules.sign_in)?,
            sign_in_per_ip: windows("rate_limit.rules.sign_in_per_ip", &rules.sign_in_per_ip)?,
            sign_in_per_account: windows("rate_limit.rules.sign_in_per_account", &rules.sign_in_per_account)?,
            per_ip: windows("rate_limit.rules.per_ip", &rules.per_ip)?,
        };
        if !plans.contains_key(&self.rate_limit.plan_default) {
            let names: Vec<&str> = plans.keys().map(String::as_str).collect();
            return Err(bad(
                "rate_limit.plan_default",
                format!("`{}` is not a plan; plans are {}", self.rate_limit.plan_default, names.join(", ")),
            ));
        }
        if !(1..=10_000).contains(&self.rate_limit.redis_timeout_ms) {
            return Err(bad("rate_limit.redis_timeout_ms", "it must be from 1 to 10000"));
        }
        let tls = match (self.tls.cert_path.as_str(), self.tls.key_path.as_str()) {
            ("", "") => None,
            ("", _) | (_, "") => {
                return Err(bad("tls.cert_path", "set both tls.cert_path and tls.key_path, or neither"));
            }
            (cert, key) => {
                for (setting, path) in [("tls.cert_path", cert), ("tls.key_path", key)] {
                    if !Path::new(path).is_file() {
                        return Err(bad(setting, format!("{path} is not a readable file")));
                    }
                }
                Some(TlsPaths { cert_path: cert.into(), key_path: key.into() })
            }
        };
        let trusted_proxies = address_ranges("trusted_proxies", &self.trusted_proxies)?;
        let metrics_allow = address_ranges("metrics.allow", &self.metrics.allow)?;
        let metrics_token = match self.metrics.bearer_token.as_str() {
            "" => None,
            token if token.chars().count() < MIN_SECRET_CHARS => {
                let problem = format!("it must have at least {MIN_SECRET_CHARS} characters, or be empty");
                return Err(bad("metrics.bearer_token", problem));
            }
            token => Some(secrecy::SecretString::from(token.to_owned())),
        };
        let log_format = match self.log.format.as_str() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(bad("log.format", format!("`{other}` is neither text nor json")));
            }
        };
        tracing_subscriber::EnvFilter::try_new(&self.log.level)
            .map_err(|e| bad("log.level", format!("`{}` is not a log filter: {e}", self.log.level)))?;
        Ok(Settings {
            server: ServerSettings {
                listen,
                require_https: self.require_https,
                tls,
                trusted_proxies,
                workers: self.workers,
                shutdown_timeout: Duration::from_secs(self.shutdown_timeout_seconds),
            },
            oauth: OAuthSettings { issuer, audience, pkce_required: self.token.pkce_required },
            token: TokenSettings {
                signing_algorithm,
                max_access_token_ttl: self.token.max_access_token_ttl,
                key_reload_interval: Duration::from_secs(self.token.key_reload_seconds),
            },
            database,
            secrets: SecretSettings { pepper, encryption_keys },
            rate_limit: RateLimitSettings {
                enabled: self.rate_limit.enabled,
                redis_url,
                redis_cluster: self.rate_limit.redis_cluster,
                redis_timeout: Duration::from_millis(self.rate_limit.redis_timeout_ms),
                plan_default: self.rate_limit.plan_default,
                plans,
                rules,
            },
            metrics: MetricsSettings { allow: metrics_allow, bearer_token: metrics_token },
            audit: AuditSettings {
                retention: (self.audit.retention_days > 0)
                    .then(|| chrono::Duration::days(i64::from(self.audit.retention_days))),
            },
            log: LogSettings { level: self.log.level, format: log_format },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(env: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        Settings::load(None, env.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn defaults_run_on_sqlite_with_derived_issuer_and_audience() {
        let settings = load(&[]).unwrap();
        assert_eq!(settings.server.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(settings.oauth.issuer.as_str(), "http://127.0.0.1:8080");
        assert_eq!(settings.oauth.audience, "http://127.0.0.1:8080/api");
        assert_eq!(settings.database.url, "sqlite://data/tollbooth.db");
        assert!(settings.rate_limit.redis_url.is_none());
    }

    #[test]
    fn environment_overrides_top_level_and_section_keys() {
        let settings = load(&[
            ("TOLLBOOTH_LISTEN", "0.0.0.0:9000"),
            ("TOLLBOOTH_RATE_LIMIT_PLAN_DEFAULT", "pro"),
            ("TOLLBOOTH_REQUIRE_HTTPS", "true"),
            ("TOLLBOOTH_TOKEN__AUDIENCE", "https://api.example.com"),
            ("TOLLBOOTH_TEST_DATABASE_URL", "ignored"),
        ])
        .unwrap();
        assert_eq!(settings.server.listen.port(), 9000);
        assert_eq!(settings.rate_limit.plan_default, "pro");
        assert!(settings.server.require_https);
        assert_eq!(settings.oauth.audience, "https://api.example.com");
    }

    #[test]
    fn each_bad_value_names_its_setting() {
        let cases = [
            ("TOLLBOOTH_LISTEN", "localhost", "`listen` (TOLLBOOTH_LISTEN)"),
            ("TOLLBOOTH_DATABASE_URL", "mysql://x", "`database_url`"),
            ("TOLLBOOTH_REDIS_URL", "http://x", "`redis_url`"),
            ("TOLLBOOTH_REDIS_URL", "redis://a:6379/,redis://b:6379/", "`redis_url`"),
            ("TOLLBOOTH_REDIS_URL", "rediss://:hunter2@r:6380/", "TLS to Redis (rediss://) is not supported"),
            ("TOLLBOOTH_RATE_LIMIT_REDIS_CLUSTER", "true", "`rate_limit.redis_cluster`"),
            ("TOLLBOOTH_REQUIRE_HTTPS", "maybe", "`require_https`"),
            ("TOLLBOOTH_RATE_LIMIT_PLAN_DEFAULT", "gold", "`rate_limit.plan_default`"),
            ("TOLLBOOTH_ISSUER", "not a url", "`issuer`"),
            ("TOLLBOOTH_SECRETS_PEPPER", "short", "`secrets.pepper`"),
            ("TOLLBOOTH_TOKEN_SIGNING_ALGORITHM", "HS256", "`token.signing_algorithm`"),
        ];
        for (name, value, expected) in cases {
            let err = load(&[(name, value)]).expect_err(name).to_string();
            assert!(err.contains(expected), "{name}={value}: {err}");
            assert!(!err.contains("hunter2"), "never the password: {err}");
            assert_eq!(err.lines().count(), 1, "{err}");
        }
    }
}
