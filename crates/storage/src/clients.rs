use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::pagination::{Page, PageRequest};
use crate::schema::clients;
use crate::secrets::SecretHasher;
use crate::{DbConnection, Reach, StorageError};

/// An OAuth client as stored: lists are JSON text.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = clients, treat_none_as_null = true)]
struct ClientRow {
    id: String,
    tenant_id: String,
    organization_id: Option<String>,
    name: String,
    confidential: bool,
    secret_hash: Option<String>,
    secret_redacted: Option<String>,
    previous_secret_hash: Option<String>,
    previous_secret_expires_at: Option<NaiveDateTime>,
    redirect_uris: String,
    grant_types: String,
    scopes: String,
    skip_consent: bool,
    access_token_ttl: i32,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// An OAuth client (SPEC §4 client fields). Its id is the OAuth `client_id`.
#[derive(Debug, Clone, PartialEq)]
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
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
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

    fn to_row(&self) -> Result<ClientRow, StorageError> {
        Ok(ClientRow {
            id: self.id.clone(),
            tenant_id: self.tenant_id.clone(),
            organization_id: self.organization_id.clone(),
            name: self.name.clone(),
            confidential: self.confidential,
            secret_hash: self.secret_hash.clone(),
            secret_redacted: self.secret_redacted.clone(),
            previous_secret_hash: self.previous_secret_hash.clone(),
            previous_secret_expires_at: self.previous_secret_expires_at,
            redirect_uris: serde_json::to_string(&self.redirect_uris)?,
            grant_types: serde_json::to_string(&self.grant_types)?,
            scopes: serde_json::to_string(&self.scopes)?,
            skip_consent: self.skip_consent,
            access_token_ttl: self.access_token_ttl,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

impl TryFrom<ClientRow> for Client {
    type Error = StorageError;

    fn try_from(row: ClientRow) -> Result<Self, StorageError> {
        Ok(Client {
            redirect_uris: serde_json::from_str(&row.redirect_uris)?,
            grant_types: serde_json::from_str(&row.grant_types)?,
            scopes: serde_json::from_str(&row.scopes)?,
            id: row.id,
            tenant_id: row.tenant_id,
            organization_id: row.organization_id,
            name: row.name,
            confidential: row.confidential,
            secret_hash: row.secret_hash,
            secret_redacted: row.secret_redacted,
            previous_secret_hash: row.previous_secret_hash,
            previous_secret_expires_at: row.previous_secret_expires_at,
            skip_consent: row.skip_consent,
            access_token_ttl: row.access_token_ttl,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

pub fn insert(conn: &mut DbConnection, client: &Client) -> Result<(), StorageError> {
    diesel::insert_into(clients::table)
        .values(client.to_row()?)
        .execute(conn)
        .map_err(StorageError::from_insert)?;
    Ok(())
}

/// The client with this OAuth `client_id`, in any tenant: for the token endpoint.
pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<Client>, StorageError> {
    let row = clients::table
        .find(id)
        .select(ClientRow::as_select())
        .first(conn)
        .optional()?;
    row.map(Client::try_from).transpose()
}

fn within(
    reach: &Reach,
) -> clients::BoxedQuery<'static, <DbConnection as diesel::Connection>::Backend> {
    let mut query = clients::table
        .filter(clients::tenant_id.eq(reach.tenant_id.clone()))
        .into_boxed();
    if let Some(org) = &reach.organization_id {
        query = query.filter(clients::organization_id.eq(org.clone()));
    }
    query
}

/// The client `id` if the caller can reach it.
pub fn get(conn: &mut DbConnection, reach: &Reach, id: &str) -> Result<Client, StorageError> {
    within(reach)
        .filter(clients::id.eq(id.to_owned()))
        .select(ClientRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(StorageError::NotFound)
        .and_then(Client::try_from)
}

pub fn list(
    conn: &mut DbConnection,
    reach: &Reach,
    page: &PageRequest,
) -> Result<Page<Client>, StorageError> {
    let rows: Page<ClientRow> = crate::keyset_page!(
        conn,
        within(reach).select(ClientRow::as_select()),
        clients::id,
        page,
        ClientRow
    )?;
    let data = rows
        .data
        .into_iter()
        .map(Client::try_from)
        .collect::<Result<_, _>>()?;
    Ok(Page {
        data,
        before: rows.before,
        after: rows.after,
    })
}
