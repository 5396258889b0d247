//! docs/configuration.md settings: a bad value stops start-up with one sentence naming the setting.

use std::io::Write;

use tollbooth::Settings;

fn load_file(contents: &str) -> Result<Settings, String> {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(contents.as_bytes()).unwrap();
    Settings::load(Some(file.path()), Vec::new()).map_err(|e| e.to_string())
}

#[test]
fn config_file_overrides_defaults_and_env_overrides_the_file() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(file, "listen = \"127.0.0.1:9999\"\n[token]\naudience = \"https://api.example.com\"").unwrap();
    let settings = Settings::load(Some(file.path()), Vec::new()).unwrap();
    assert_eq!(settings.server.listen.port(), 9999);
    assert_eq!(settings.oauth.audience, "https://api.example.com");
    let settings =
        Settings::load(Some(file.path()), vec![("TOLLBOOTH_LISTEN".into(), "127.0.0.1:7777".into())]).unwrap();
    assert_eq!(settings.server.listen.port(), 7777);
}

#[test]
fn bad_config_file_values_name_the_setting() {
    let cases = [
        ("listen = 8080", "`listen`"),
        ("workers = -1", "`workers`"),
        ("database_url = \"sqlite://\"", "`database_url`"),
        ("[token]\nmax_access_token_ttl = 5", "`token.max_access_token_ttl`"),
        ("[log]\nformat = \"xml\"", "`log.format`"),
        ("trusted_proxies = [\"10.0.0.0/33\"]", "`trusted_proxies`"),
        ("unknown_setting = 1", "unknown_setting"),
        ("database_url = \"postgres://db.internal/tb\"", "`secrets.encryption_keys`"),
        ("[secrets]\nencryption_keys = [\"short\"]", "`secrets.encryption_keys`"),
        ("[metrics]\nbearer_token = \"short\"", "`metrics.bearer_token`"),
        ("[metrics]\nallow = [\"nowhere\"]", "`metrics.allow`"),
        ("[audit]\nretention_days = 100000", "`audit.retention_days`"),
    ];
    for (contents, expected) in cases {
        let err = load_file(contents).expect_err(contents);
        assert!(err.contains(expected), "{contents}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    let missing = Settings::load(Some(std::path::Path::new("/nonexistent/tollbooth.toml")), Vec::new());
    assert!(missing.err().unwrap().to_string().contains("does not exist"));
}

#[test]
fn bad_rate_limit_rules_stop_start_up() {
    let cases = [
        ("[rate_limit.plans.free]\nwindows = [{ window = \"5x\", limit = 1 }]", "`rate_limit.plans.free.windows[0]`"),
        ("[rate_limit.plans.free]\nwindows = [{ window = \"10s\", limit = 0 }]", "at least 1"),
        ("[rate_limit.plans.gold]\nwindows = []", "`rate_limit.plans.gold.windows`"),
        (
            "[rate_limit.plans.free]\nwindows = [{ window = \"1m\", limit = 1 }, { window = \"60s\", limit = 2 }]",
            "twice",
        ),
        ("[rate_limit.rules]\nper_ip = [{ window = \"soon\", limit = 1 }]", "`rate_limit.rules.per_ip[0]`"),
        ("[rate_limit]\nplan_default = \"gold\"", "`rate_limit.plan_default`"),
        ("[rate_limit.plans.free]\nwindows = [{ window = \"1m\", limit = 1, burst = 2 }]", "burst"),
    ];
    for (contents, expected) in cases {
        let err = load_file(contents).expect_err(contents);
        assert!(err.contains(expected), "{contents}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    let custom = load_file(
        "[rate_limit]\nplan_default = \"gold\"\n[rate_limit.plans.gold]\nwindows = [{ window = \"1d\", limit = 5 }]",
    )
    .unwrap();
    assert_eq!(custom.rate_limit.plans["gold"].windows[0].seconds, 86_400);
    assert_eq!(custom.rate_limit.plans.len(), 5, "the default plans stay");
}

#[test]
fn unreachable_database_fails_with_a_clear_message_and_no_password() {
    let settings = Settings::load(
        None,
        vec![
            ("TOLLBOOTH_DATABASE_URL".into(), "postgres://tollbooth:hunter2@127.0.0.1:1/none".into()),
            ("TOLLBOOTH_DATABASE_CONNECT_TIMEOUT_SECONDS".into(), "1".into()),
            ("TOLLBOOTH_SECRETS_ENCRYPTION_KEYS".into(), crate::support::TEST_ENCRYPTION_KEY.into()),
        ],
    )
    .unwrap();
    let err = tollbooth::app::open_database(&settings).err().expect("no database there").to_string();
    assert!(err.contains("cannot connect to PostgreSQL"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn the_production_example_is_valid() {
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/production.example.toml");
    // Its secrets come from the environment, as the file says.
    let env = vec![("TOLLBOOTH_SECRETS_ENCRYPTION_KEYS".into(), crate::support::TEST_ENCRYPTION_KEY.into())];
    let settings = Settings::load(Some(&example), env).expect("config/production.example.toml loads");
    assert_eq!(settings.oauth.issuer.as_str(), "https://auth.example.com");
    assert!(settings.rate_limit.redis_url.is_some());
    assert_eq!(settings.log.format, tollbooth::settings::LogFormat::Json);
}
