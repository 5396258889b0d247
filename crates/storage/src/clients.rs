use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::pagination::{Page, PageRequest};
use crate::schema::clients;
use crate::secrets::SecretHasher;
use crate::{DbConnection, Json, Reach, StorageError};

/// An OAuth client (SPEC §4 client fields). Its id is the OAuth `client_id`.
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
}

impl Client {
    /// Whether `secret` is this client's current secret, or its previous one within the grace period.
    pub fn accepts_secret(&self, hasher: &SecretHasher, secret: &str, now: NaiveDateTime) -> bool {
        let current = self
            .secret_hash
            .as_deref()
            .is_some_and(|h| hasher.verify(secret, h));
        let previous = || {
            self.previous_secret_expires_at
                .is_some_and(|until| until > now)
                && self
                    .previous_secret_hash
                    .as_deref()
                    .is_some_and(|h| hasher.verify(secret, h))
        };
        current || previous()
    }

    pub fn allows_grant(&self, grant_type: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant_type)
    }
}

pub fn insert(conn: &mut DbConnection, client: &Client) -> Result<(), StorageError> {
    diesel::insert_into(clients::table)
        .values(client.clone())
        .execute(conn)
        .map_err(StorageError::from_insert)?;
    Ok(())
}

/// Stores every field of `client` if the row is still as it was read (its `updated_at` is
/// `read_at`); `false` means another writer came first and the caller should re-read.
pub fn update(
    conn: &mut DbConnection,
    client: &Client,
    read_at: NaiveDateTime,
) -> Result<bool, StorageError> {
    let changed = diesel::update(
        clients::table
            .find(&client.id)
            .filter(clients::updated_at.eq(read_at)),
    )
    .set(client.clone())
    .execute(conn)?;
    Ok(changed == 1)
}

pub fn delete(conn: &mut DbConnection, id: &str) -> Result<(), StorageError> {
    diesel::delete(clients::table.find(id)).execute(conn)?;
    Ok(())
}

/// The client with this OAuth `client_id`, in any tenant: for the token endpoint.
pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<Client>, StorageError> {
    Ok(clients::table
        .find(id)
        .select(Client::as_select())
        .first(conn)
        .optional()?)
}

/// The client `id` if the caller can reach it.
pub fn get(conn: &mut DbConnection, reach: &Reach, id: &str) -> Result<Client, StorageError> {
    crate::within_reach!(clients, clients::organization_id, reach)
        .filter(clients::id.eq(id.to_owned()))
        .select(Client::as_select())
        .first(conn)
        .optional()?
        .ok_or(StorageError::NotFound)
}

pub fn list(
    conn: &mut DbConnection,
    reach: &Reach,
    page: &PageRequest,
) -> Result<Page<Client>, StorageError> {
    let query =
        crate::within_reach!(clients, clients::organization_id, reach).select(Client::as_select());
    crate::keyset_page!(conn, query, clients::id, page, Client)
}
