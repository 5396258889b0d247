//! docs/security.md, "Secrets at rest" (finding: signing keys and the generated pepper were
//! plaintext in the database, and the pepper was also the session and CSRF key).

use secrecy::ExposeSecret;
use tollbooth_storage::{server_secrets, signing_keys};

use crate::on_both_databases;
use crate::support::{TEST_ENCRYPTION_KEY, TestApp};

on_both_databases!(stored_secrets_are_sealed, rows_from_before_and_old_keys_are_sealed_again_at_start);

/// Without configured keys, a SQLite database gets a key file of its own, private to its owner,
/// made once and used from then on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_without_keys_makes_a_private_key_file() {
    use std::os::unix::fs::PermissionsExt;
    let app = TestApp::spawn(crate::support::Backend::Sqlite).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut settings = app.settings_with_keys("");
    settings.database.url = format!("sqlite://{}", dir.path().join("fresh.db").display());
    let path = dir.path().join("fresh.db.kek");
    let open = || tollbooth::app::open_database(&settings);
    let db = open().expect("opens with a key file");
    tollbooth::app::secret_hasher(&settings, &db).expect("a pepper is made and sealed");
    let mode = std::fs::metadata(&path).expect("the key file").permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{}", path.display());
    let first = db.sealer().sealing_key_id().unwrap().to_owned();
    assert_ne!(Some(first.as_str()), app.db.sealer().sealing_key_id(), "its own key");
    drop(db);
    let again = open().unwrap();
    assert_eq!(again.sealer().sealing_key_id(), Some(first.as_str()), "the same key next time");
    let pepper = again.run_blocking(server_secrets::all).unwrap();
    assert!(pepper.iter().all(|(_, v)| v.starts_with(&format!("sealed:v1:{first}:"))), "{pepper:?}");
    drop(again);
    std::fs::write(&path, "short").unwrap();
    assert!(open().is_err(), "a key file without a key stops the start");
}

/// Every stored secret as stored.
fn stored(app: &TestApp) -> Vec<(String, String)> {
    app.db
        .run_blocking(|conn| Ok([signing_keys::all_private_keys(conn)?, server_secrets::all(conn)?].concat()))
        .unwrap()
}

async fn stored_secrets_are_sealed(app: TestApp) {
    let rows = stored(&app);
    assert!(rows.len() >= 2, "a signing key and the pepper: {}", rows.len());
    for (name, value) in &rows {
        assert!(value.starts_with("sealed:v1:"), "{name} is sealed");
        assert!(!value.contains("PRIVATE KEY"), "{name}");
    }
    // The server signs with the sealed key: a client-credentials token verifies.
    let (id, secret) = app.confidential_client(&["users:read"]).await;
    let token = app.access_token(&id, &secret, None).await;
    app.call("GET", "/api/v1/users", &token, serde_json::Value::Null).await.expect(200);
}

async fn rows_from_before_and_old_keys_are_sealed_again_at_start(app: TestApp) {
    let hasher_before = tollbooth::app::secret_hasher(&app.settings, &app.db).unwrap();
    let session = tollbooth::app::session_keys(&app.settings, &app.db).unwrap();
    // As a database from before encryption: every secret plaintext.
    let sealer = app.db.sealer();
    let plain: Vec<(String, String)> = stored(&app)
        .into_iter()
        .map(|(name, value)| {
            let context =
                if name == "pepper" { server_secrets::seal_context(&name) } else { signing_keys::seal_context(&name) };
            (name, sealer.open(&value, &context).unwrap().expose_secret().to_owned())
        })
        .collect();
    app.db
        .run_blocking(|conn| {
            for (name, value) in &plain {
                if name == "pepper" {
                    server_secrets::set(conn, name, value)?;
                } else {
                    signing_keys::set_private_key(conn, name, value)?;
                }
            }
            Ok(())
        })
        .unwrap();
    // Start with a new key first and the old one second: everything is sealed with the new.
    let new_key = "a-rotated-key-encryption-key-of-32-chars";
    let reopen = |keys: &str| tollbooth::app::open_database(&app.settings_with_keys(keys));
    let db = reopen(TEST_ENCRYPTION_KEY).unwrap();
    let old_id = db.sealer().sealing_key_id().unwrap().to_owned();
    assert!(stored(&app).iter().all(|(_, v)| v.starts_with(&format!("sealed:v1:{old_id}:"))), "plaintext rows sealed");
    drop(db);
    let db = reopen(&format!("{new_key},{TEST_ENCRYPTION_KEY}")).unwrap();
    let new_id = db.sealer().sealing_key_id().unwrap().to_owned();
    assert_ne!(new_id, old_id);
    assert!(stored(&app).iter().all(|(_, v)| v.starts_with(&format!("sealed:v1:{new_id}:"))), "resealed with the new");
    drop(db);
    // The old key can go; without the new one nothing opens.
    let db = reopen(new_key).unwrap();
    let hasher_after = tollbooth::app::secret_hasher(&app.settings_with_keys(new_key), &db).unwrap();
    assert_eq!(hasher_after.hash("x"), hasher_before.hash("x"), "the same pepper throughout");
    let refused =
        reopen("a-key-that-never-sealed-anything-here-0").err().expect("rows sealed with an unknown key do not open");
    assert!(refused.to_string().contains("not among secrets.encryption_keys"), "{refused}");
    // Sessions and CSRF tokens are not keyed with the pepper itself.
    assert_ne!(session.session.hash("x"), hasher_before.hash("x"));
    assert_ne!(session.session.hash("x"), session.csrf.hash("x"));
}
