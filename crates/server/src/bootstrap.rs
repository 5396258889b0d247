//! `tollbooth bootstrap`: the operator key, a first tenant, its admin key and its first admin
//! user (who signs in to the console with a generated password), in one transaction, printed
//! once (docs/configuration.md, docs/console.md "First run").

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use tollbooth_storage::api_keys::{self, NewApiKey};
use tollbooth_storage::audit::{self, AuditEvent};
use tollbooth_storage::secrets::SecretHasher;
use tollbooth_storage::tenants::{self, Tenant};
use tollbooth_storage::users::{self, ROLE_ADMIN, User};
use tollbooth_storage::values::Email;
use tollbooth_storage::{Database, StorageError, ids, passwords, secrets};

/// The secrets a bootstrap creates; they exist nowhere else.
pub struct BootstrapKeys {
    pub operator_key: SecretString,
    pub tenant_id: String,
    pub tenant_key: SecretString,
    pub admin_email: String,
    pub admin_password: SecretString,
    /// Where the admin signs in: the issuer's `/console/{tenant_id}/`.
    pub console_url: String,
}

impl BootstrapKeys {
    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        struct Printed<'a> {
            operator_key: &'a str,
            tenant_id: &'a str,
            tenant_key: &'a str,
            admin_email: &'a str,
            admin_password: &'a str,
            console_url: &'a str,
        }
        serde_json::to_string(&Printed {
            operator_key: self.operator_key.expose_secret(),
            tenant_id: &self.tenant_id,
            tenant_key: self.tenant_key.expose_secret(),
            admin_email: &self.admin_email,
            admin_password: self.admin_password.expose_secret(),
            console_url: &self.console_url,
        })
        .expect("strings serialize")
    }

    pub fn to_text(&self) -> String {
        format!(
            "Tollbooth is bootstrapped. These secrets are shown only now; store them safely.\n\
             \n  operator key: {}\n  tenant id:    {}\n  tenant key:   {}\n\n\
             The operator key manages tenants; the tenant key (scope admin) manages everything in its tenant.\n\
             \nSign in to the console at {}\n  email:    {}\n  password: {}\n\
             Change the password under Users once signed in.\n",
            self.operator_key.expose_secret(),
            self.tenant_id,
            self.tenant_key.expose_secret(),
            self.console_url,
            self.admin_email,
            self.admin_password.expose_secret(),
        )
    }
}

/// A new operator key (no tenant, scope `operator`) and its secret.
fn new_operator_key(hasher: &SecretHasher) -> (api_keys::ApiKey, SecretString) {
    api_keys::new_key(
        hasher,
        NewApiKey {
            tenant_id: None,
            organization_id: None,
            name: "Operator key",
            scopes: vec!["operator".to_owned()],
            environment: "live",
            expires_at: None,
            rate_limit: None,
        },
    )
}

/// `tollbooth keys rotate-operator`: replaces the operator key with a new one, in one
/// transaction; the old one stops authenticating (running servers drop it from their key cache
/// within a second). The operator key cannot act on itself through the API, as it reaches no
/// tenant (docs/security.md), so whoever runs the server rotates it.
pub fn rotate_operator_key(db: &Database, hasher: &SecretHasher) -> Result<SecretString, StorageError> {
    db.run_blocking(|conn| {
        tollbooth_storage::in_transaction(conn, |conn| {
            api_keys::delete_operator_keys(conn)?;
            let (operator, secret) = new_operator_key(hasher);
            api_keys::insert(conn, &operator)?;
            Ok(secret)
        })
    })
}

/// What a bootstrap creates besides the keys.
pub struct FirstTenant<'a> {
    pub name: &'a str,
    pub plan: &'a str,
    /// The first admin user's email.
    pub admin_email: &'a str,
    /// The issuer, for the console's address.
    pub issuer: &'a str,
}

/// Creates the first keys, tenant and admin user, or returns `None` if the deployment already
/// has an operator key.
pub fn bootstrap(
    db: &Database,
    hasher: &SecretHasher,
    first: FirstTenant<'_>,
) -> Result<Option<BootstrapKeys>, String> {
    let admin_email =
        Email::parse(first.admin_email).ok_or_else(|| format!("`{}` is not an email address", first.admin_email))?;
    // `serve --bootstrap` asks on every start: answer a bootstrapped database before hashing.
    if db.run_blocking(api_keys::operator_key_exists).map_err(|err| err.to_string())? {
        return Ok(None);
    }
    let admin_password = secrets::generate_password();
    // Hashed before the transaction (which checks again): Argon2 takes a while, and needs no lock.
    let password_hash = passwords::hash(admin_password.expose_secret())?;
    let (tenant_name, plan) = (first.name, first.plan);
    db.run_blocking(|conn| {
        tollbooth_storage::in_transaction(conn, |conn| {
            if api_keys::operator_key_exists(conn)? {
                return Ok(None);
            }
            let (operator, operator_key) = new_operator_key(hasher);
            api_keys::insert(conn, &operator)?;
            let now = tollbooth_storage::now();
            let tenant = Tenant {
                id: ids::new_id(ids::TENANT),
                name: tenant_name.to_owned(),
                plan: plan.to_owned(),
                environment: "live".to_owned(),
                created_at: now,
                updated_at: now,
            };
            tenants::insert(conn, &tenant)?;
            let (admin, tenant_key) = api_keys::new_key(
                hasher,
                NewApiKey {
                    tenant_id: Some(&tenant.id),
                    organization_id: None,
                    name: "Admin key",
                    scopes: vec!["admin".to_owned()],
                    environment: &tenant.environment,
                    expires_at: None,
                    rate_limit: None,
                },
            );
            api_keys::insert(conn, &admin)?;
            let user = User {
                id: ids::new_id(ids::USER),
                tenant_id: tenant.id.clone(),
                organization_id: None,
                email: admin_email.as_str().to_owned(),
                name: "Admin".to_owned(),
                password_hash: Some(password_hash.clone()),
                email_verified: false,
                created_at: now,
                updated_at: now,
                role: ROLE_ADMIN.to_owned(),
            };
            users::insert(conn, &user)?;
            // Every object has its creation's event (docs/api.md, "Audit logs"); the installer
            // that bootstraps is no principal, so the events name no actor.
            for (tenant, action, target) in [
                (None, "api_key.created", &operator.id),
                (Some(&tenant.id), "tenant.created", &tenant.id),
                (Some(&tenant.id), "api_key.created", &admin.id),
                (Some(&tenant.id), "user.created", &user.id),
            ] {
                let event =
                    AuditEvent::new(tenant.map(String::as_str), None, action, Some(target), None, Default::default());
                audit::record(conn, &event)?;
            }
            let console_url = format!("{}/console/{}/", first.issuer.trim_end_matches('/'), tenant.id);
            Ok(Some(BootstrapKeys {
                operator_key,
                tenant_id: tenant.id,
                tenant_key,
                admin_email: user.email,
                admin_password: admin_password.clone(),
                console_url,
            }))
        })
    })
    .map_err(|err: StorageError| err.to_string())
}
