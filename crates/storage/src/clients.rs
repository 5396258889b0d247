use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::clients;
use crate::secrets::SecretHasher;
use crate::{DbConnection, Json, StorageError};

/// An OAuth client (docs/api.md client fields). Its id is the OAuth `client_id`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = clients, treat_none_as_null = true)]
pub struct Client {
    pub id: String,
    pub tenant_id: String,
    pub organization_id: Option<String>,
    pub name: String,
    pub confidential: bool,
    /// Keyed hash of the current secret; `None` for public clients.
    pub secret_hash: Option<String>,
    pub secret_redacted: Option<String>,
    /// The secret replaced by the last rotation, accepted until `previous_secret_expires_at`.
    pub previous_secret_hash: Option<String>,
    pub previous_secret_expires_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub redirect_uris: Json<Vec<String>>,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub grant_types: Json<Vec<String>>,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub scopes: Json<Vec<String>>,
    pub skip_consent: bool,
    pub access_token_ttl: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Where RP-initiated logout may send the user back to (docs/oidc.md); matched exactly.
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub post_logout_redirect_uris: Json<Vec<String>>,
    /// `RS256` (the default) or `ES256`: what this client's ID tokens are signed with.
    pub id_token_signed_response_alg: String,
}

impl Client {
    /// Whether `secret` is this client's current secret, or its previous one within the grace period.
    pub fn accepts_secret(&self, hasher: &SecretHasher, secret: &str, now: NaiveDateTime) -> bool {
        let current = self.secret_hash.as_deref().is_some_and(|h| hasher.verify(secret, h));
        let previous = || {
            self.previous_secret_expires_at.is_some_and(|until| until > now)
                && self.previous_secret_hash.as_deref().is_some_and(|h| hasher.verify(secret, h))
        };
        current || previous()
    }

    pub fn allows_grant(&self, grant_type: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant_type)
    }
}

/// The client with this OAuth `client_id`, in any tenant: for the token endpoint.
pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<Client>, StorageError> {
    Ok(clients::table.find(id).select(Client::as_select()).first(conn).optional()?)
}

crate::reach::reach_repository!(clients, Client, clients::organization_id);
