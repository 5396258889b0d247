//! Values for the unit tests of grants and the issuer, built without a server: keys, clients,
//! and a migrated in-memory SQLite database.

use std::time::Duration;

use tollbooth_storage::clients::{self, Client};
use tollbooth_storage::resources::Resource;
use tollbooth_storage::secrets::SecretHasher;
use tollbooth_storage::tenants::{self, Tenant};
use tollbooth_storage::users::{self, User};
use tollbooth_storage::{Database, DatabaseConfig, DbConnection, Json, StorageError, ids};

use crate::issue::TokenIssuer;
use crate::keys::{KeySnapshot, SigningAlgorithm, generate_signing_key};

/// Signing keys of their own (ES256 for access tokens, RS256 too for ID tokens) and a hasher.
pub fn issuer_for_tests() -> (KeySnapshot, SecretHasher) {
    let now = tollbooth_storage::now();
    let keys = [SigningAlgorithm::ES256, SigningAlgorithm::RS256]
        .map(|algorithm| generate_signing_key(algorithm, now).expect("a new key"));
    let snapshot = KeySnapshot::from_keys(&keys, SigningAlgorithm::ES256).expect("a snapshot");
    (snapshot, SecretHasher::new(b"pepper of the unit tests"))
}

/// The API of the grants' tests: `https://api.test`, defining `read` and `write`.
pub const TEST_API: &str = "https://api.test";

/// What the grants' tests issue tokens with: a tenant whose one API is [`TEST_API`].
pub fn test_issuer<'a>(keys: &'a KeySnapshot, hasher: &'a SecretHasher) -> TokenIssuer<'a> {
    let now = tollbooth_storage::now();
    let api = Resource {
        id: ids::new_id(ids::RESOURCE),
        tenant_id: ids::new_id(ids::TENANT),
        name: "Test API".into(),
        identifier: TEST_API.into(),
        scopes: Json(vec!["read".into(), "write".into()]),
        created_at: now,
        updated_at: now,
    };
    // Leaked: a few bytes per test, for a slice as long-lived as the keys.
    let resources = Box::leak(Box::new([api]));
    TokenIssuer { issuer: "https://auth.test", audience: "https://auth.test/api", keys, hasher, resources }
}

/// A client of a tenant of its own with these grant types and scopes.
pub fn client(confidential: bool, grant_types: &[&str], scopes: &[&str]) -> Client {
    let owned = |items: &[&str]| Json(items.iter().map(|s| s.to_string()).collect());
    let now = tollbooth_storage::now();
    Client {
        id: ids::new_id(ids::CLIENT),
        tenant_id: ids::new_id(ids::TENANT),
        organization_id: None,
        name: "Test".into(),
        confidential,
        secret_hash: None,
        secret_redacted: None,
        previous_secret_hash: None,
        previous_secret_expires_at: None,
        redirect_uris: owned(&["https://app.test/cb"]),
        grant_types: owned(grant_types),
        scopes: owned(scopes),
        skip_consent: false,
        access_token_ttl: 300,
        created_at: now,
        updated_at: now,
        post_logout_redirect_uris: Json(Vec::new()),
        id_token_signed_response_alg: crate::oidc::DEFAULT_ID_TOKEN_ALGORITHM.into(),
    }
}

/// A migrated in-memory SQLite database on one connection (so every call sees the same data).
pub fn database_for_tests() -> Database {
    let config = DatabaseConfig {
        url: "sqlite://:memory:".into(),
        max_connections: 1,
        connect_timeout: Duration::from_secs(5),
        min_idle: 1,
    };
    let db = Database::connect(&config).expect("in-memory SQLite");
    db.migrate().expect("migrations");
    db
}

/// Stores `client`'s tenant, `client`, and a member user of the tenant; returns the user.
pub fn store_client_and_user(conn: &mut DbConnection, client: &Client) -> Result<User, StorageError> {
    let now = tollbooth_storage::now();
    let tenant = Tenant {
        id: client.tenant_id.clone(),
        name: "Test".into(),
        plan: "free".into(),
        environment: "test".into(),
        created_at: now,
        updated_at: now,
    };
    tenants::insert(conn, &tenant)?;
    clients::insert(conn, client)?;
    let user = User {
        id: ids::new_id(ids::USER),
        tenant_id: client.tenant_id.clone(),
        organization_id: None,
        email: "ada@example.com".into(),
        name: "Ada".into(),
        password_hash: None,
        email_verified: true,
        created_at: now,
        updated_at: now,
        role: users::ROLE_MEMBER.into(),
    };
    users::insert(conn, &user)?;
    Ok(user)
}
