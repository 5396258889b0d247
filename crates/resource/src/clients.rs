//! `/api/v1/clients`: OAuth clients of the caller's tenant (docs/api.md).

use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tollbooth_storage::clients::{self, Client};
use tollbooth_storage::{Json, ids, in_transaction, secrets};
use utoipa::ToSchema;

use tollbooth_oauth::grants::{self, GrantType};
use tollbooth_oauth::oidc::{DEFAULT_ID_TOKEN_ALGORITHM, ID_TOKEN_ALGORITHMS};

use crate::audit::Actor;
use crate::auth::Principal;
use crate::crud;
use crate::error::{ApiError, FieldError};
use crate::extract::{ApiJson, ApiJsonOrDefault};
use crate::organizations::{check_organization_exists, owning_organization};
use crate::{ManagementApi, rfc3339, scopes, validate};

const GRANT_CLIENT_CREDENTIALS: &str = GrantType::ClientCredentials.name();
const GRANT_AUTHORIZATION_CODE: &str = GrantType::AuthorizationCode.name();
const GRANT_REFRESH_TOKEN: &str = GrantType::RefreshToken.name();

pub const DEFAULT_ACCESS_TOKEN_TTL: i64 = 3600;
pub const MIN_ACCESS_TOKEN_TTL: i64 = 60;

/// An OAuth client. `client_secret` appears only in the answers that create or rotate it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientView {
    #[schema(example = "client")]
    pub object: &'static str,
    #[schema(example = "client_01JD6Q2Z7V1K8S3J9M4N5P6R7T")]
    pub id: String,
    pub name: String,
    pub organization_id: Option<String>,
    /// Confidential clients authenticate with a secret; public ones (SPAs, mobile apps) cannot.
    pub confidential: bool,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    /// The scopes this client's tokens may carry.
    pub scopes: Vec<String>,
    pub skip_consent: bool,
    /// Lifetime of its access tokens, in seconds.
    pub access_token_ttl: i32,
    /// Where OpenID Connect logout may send the user back to (docs/oidc.md).
    pub post_logout_redirect_uris: Vec<String>,
    /// `RS256` or `ES256`: what its ID tokens are signed with.
    #[schema(example = "RS256")]
    pub id_token_signed_response_alg: String,
    /// The secret's prefix and last four characters.
    #[schema(example = "cs_…a1b2")]
    pub redacted: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    #[serde(serialize_with = "rfc3339::serialize")]
    pub created_at: chrono::NaiveDateTime,
    #[serde(serialize_with = "rfc3339::serialize")]
    pub updated_at: chrono::NaiveDateTime,
}

impl ClientView {
    fn with_secret(client: Client, secret: Option<SecretString>) -> Self {
        ClientView { client_secret: secret.map(|s| s.expose_secret().to_owned()), ..ClientView::from(client) }
    }
}

impl From<Client> for ClientView {
    fn from(client: Client) -> Self {
        ClientView {
            object: "client",
            id: client.id,
            name: client.name,
            organization_id: client.organization_id,
            confidential: client.confidential,
            redirect_uris: client.redirect_uris.0,
            grant_types: client.grant_types.0,
            scopes: client.scopes.0,
            skip_consent: client.skip_consent,
            access_token_ttl: client.access_token_ttl,
            post_logout_redirect_uris: client.post_logout_redirect_uris.0,
            id_token_signed_response_alg: client.id_token_signed_response_alg,
            redacted: client.secret_redacted,
            client_secret: None,
            created_at: client.created_at,
            updated_at: client.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClient {
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200, pattern = "\\S")]
    pub name: Option<String>,
    /// https URIs, or http on a loopback host; matched exactly. Required for authorization_code.
    #[schema(max_items = 100)]
    pub redirect_uris: Option<Vec<String>>,
    /// Default: `client_credentials` for confidential clients, `authorization_code` and
    /// `refresh_token` for public ones.
    #[schema(min_items = 1)]
    pub grant_types: Option<Vec<String>>,
    #[schema(max_items = 100)]
    pub scopes: Option<Vec<String>>,
    /// Default `true`.
    pub confidential: Option<bool>,
    pub skip_consent: Option<bool>,
    /// Seconds, from 60 to `token.max_access_token_ttl`; default 3600.
    #[schema(minimum = 60)]
    pub access_token_ttl: Option<i64>,
    pub organization_id: Option<String>,
    /// OpenID Connect logout: https URIs, or http on a loopback host; matched exactly.
    #[schema(max_items = 100)]
    pub post_logout_redirect_uris: Option<Vec<String>>,
    /// `RS256` (default) or `ES256`.
    pub id_token_signed_response_alg: Option<String>,
}

/// Fields a `PATCH` may change; absent ones stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateClient {
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    pub name: Option<String>,
    #[schema(max_items = 100)]
    pub redirect_uris: Option<Vec<String>>,
    #[schema(min_items = 1)]
    pub grant_types: Option<Vec<String>>,
    #[schema(max_items = 100)]
    pub scopes: Option<Vec<String>>,
    pub skip_consent: Option<bool>,
    /// Seconds, from 60 to `token.max_access_token_ttl`.
    #[schema(minimum = 60)]
    pub access_token_ttl: Option<i64>,
    #[schema(max_items = 100)]
    pub post_logout_redirect_uris: Option<Vec<String>>,
    /// `RS256` or `ES256`.
    pub id_token_signed_response_alg: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateSecret {
    /// How long the old secret keeps working: 0 revokes it at once; default 86400 (24 h).
    #[schema(minimum = 0, maximum = 2_592_000)]
    pub grace_period_seconds: Option<i64>,
}

/// Checks a client's settings as a whole, as they will be stored.
fn check_client(client: &Client, max_ttl: i64, errors: &mut Vec<FieldError>) {
    if client.name.trim().is_empty() {
        errors.push(FieldError::new("name", "required", "name is required."));
    } else {
        validate::name_text("name", &client.name, errors);
    }
    let grant_types = &client.grant_types;
    if grant_types.is_empty() {
        errors.push(FieldError::new("grant_types", "required", "Give at least one grant type."));
    }
    for (i, grant) in grant_types.iter().enumerate() {
        let field = format!("grant_types[{i}]");
        if GrantType::parse(grant).is_none() {
            let message = format!("Unknown grant type; use one of {}.", grants::supported().join(", "));
            errors.push(FieldError::new(field, "invalid", message));
        } else if grant == GRANT_CLIENT_CREDENTIALS && !client.confidential {
            errors.push(FieldError::new(field, "invalid", "Public clients cannot use client_credentials."));
        } else if grant_types[..i].contains(grant) {
            errors.push(FieldError::new(field, "duplicate", "This grant type is listed twice."));
        }
    }
    validate::list_length("redirect_uris", &client.redirect_uris, errors);
    for (i, uri) in client.redirect_uris.iter().enumerate() {
        if let Err(message) = validate::redirect_uri(uri) {
            errors.push(FieldError::new(format!("redirect_uris[{i}]"), "invalid", message));
        }
    }
    validate::list_length("post_logout_redirect_uris", &client.post_logout_redirect_uris, errors);
    for (i, uri) in client.post_logout_redirect_uris.iter().enumerate() {
        if let Err(message) = validate::redirect_uri(uri) {
            errors.push(FieldError::new(format!("post_logout_redirect_uris[{i}]"), "invalid", message));
        }
    }
    if !ID_TOKEN_ALGORITHMS.contains(&client.id_token_signed_response_alg.as_str()) {
        let message = format!("Use one of {}.", ID_TOKEN_ALGORITHMS.join(", "));
        errors.push(FieldError::new("id_token_signed_response_alg", "invalid", message));
    }
    if client.allows_grant(GRANT_AUTHORIZATION_CODE) && client.redirect_uris.is_empty() {
        let message = "The authorization_code grant needs at least one redirect URI.";
        errors.push(FieldError::new("redirect_uris", "required", message));
    }
    // A public client's id is no secret: anyone could start a flow in its name, so a user's
    // consent is always asked (RFC 9700 §2.1, RFC 6749 §10.2).
    if client.skip_consent && !client.confidential {
        let message = "skip_consent is for confidential clients only.";
        errors.push(FieldError::new("skip_consent", "invalid", message));
    }
    if !(MIN_ACCESS_TOKEN_TTL..=max_ttl).contains(&i64::from(client.access_token_ttl)) {
        let message = format!("access_token_ttl must be from {MIN_ACCESS_TOKEN_TTL} to {max_ttl} seconds.");
        errors.push(FieldError::new("access_token_ttl", "out_of_range", message));
    }
}

fn ttl_field(ttl: i64, errors: &mut Vec<FieldError>) -> i32 {
    i32::try_from(ttl).unwrap_or_else(|_| {
        errors.push(FieldError::new("access_token_ttl", "out_of_range", "access_token_ttl is too large."));
        0
    })
}

#[utoipa::path(post, path = "/api/v1/clients", operation_id = "createClient", tag = "clients", request_body = CreateClient,
    responses((status = 201, description = "The client, with `client_secret` if confidential", body = ClientView)))]
pub async fn create(
    request: HttpRequest,
    principal: Principal,
    api: web::Data<ManagementApi>,
    ApiJson(input): ApiJson<CreateClient>,
) -> Result<HttpResponse, ApiError> {
    let (client, secret) = create_client(&api, &principal, &request, input).await?;
    Ok(HttpResponse::Created().json(ClientView::with_secret(client, secret)))
}

/// Creates a client as `principal` asks, validated and audited: the client, and its secret if
/// confidential (shown only now). The console creates clients with this too.
pub async fn create_client(
    api: &ManagementApi,
    principal: &Principal,
    request: &HttpRequest,
    input: CreateClient,
) -> Result<(Client, Option<SecretString>), ApiError> {
    let reach = principal.reach_with(scopes::CLIENTS_WRITE)?;
    let mut errors = Vec::new();
    let confidential = input.confidential.unwrap_or(true);
    let default_grants: &[&str] =
        if confidential { &[GRANT_CLIENT_CREDENTIALS] } else { &[GRANT_AUTHORIZATION_CODE, GRANT_REFRESH_TOKEN] };
    let scopes = input.scopes.unwrap_or_default();
    validate::scope_list(&scopes, &mut errors);
    let resources = api.oauth.resources.of_tenant(&reach.tenant_id).await?;
    validate::defined_scopes(&scopes, &[], &resources, &mut errors);
    let organization_id = owning_organization(&reach, input.organization_id, &mut errors);
    let secret = confidential.then(secrets::generate_client_secret);
    let now = tollbooth_storage::now();
    let client = Client {
        id: ids::new_id(ids::CLIENT),
        tenant_id: reach.tenant_id.clone(),
        organization_id,
        name: input.name.unwrap_or_default().trim().to_owned(),
        confidential,
        secret_hash: secret.as_ref().map(|s| api.hasher.hash(s.expose_secret())),
        secret_redacted: secret.as_ref().map(secrets::redact),
        previous_secret_hash: None,
        previous_secret_expires_at: None,
        redirect_uris: Json(input.redirect_uris.unwrap_or_default()),
        grant_types: Json(input.grant_types.unwrap_or_else(|| default_grants.iter().map(|g| g.to_string()).collect())),
        scopes: Json(scopes),
        skip_consent: input.skip_consent.unwrap_or(false),
        access_token_ttl: ttl_field(input.access_token_ttl.unwrap_or(DEFAULT_ACCESS_TOKEN_TTL), &mut errors),
        created_at: now,
        updated_at: now,
        post_logout_redirect_uris: Json(input.post_logout_redirect_uris.unwrap_or_default()),
        id_token_signed_response_alg: input
            .id_token_signed_response_alg
            .unwrap_or_else(|| DEFAULT_ID_TOKEN_ALGORITHM.to_owned()),
    };
    check_client(&client, api.max_access_token_ttl, &mut errors);
    validate::finish(errors)?;
    principal.authorize(scopes::CLIENTS_WRITE, None, Some(&client))?;

    let actor = Actor::of(principal, request);
    let stored = client.clone();
    api.db
        .run(move |conn| {
            in_transaction(conn, |conn| {
                check_organization_exists(conn, &stored.tenant_id, stored.organization_id.as_deref())?;
                clients::insert(conn, &stored)?;
                actor.record(conn, "client.created", &stored.id)?;
                Ok::<_, ApiError>(())
            })
        })
        .await?;
    Ok((client, secret))
}

crud::read_handlers! {
    Client as ClientView, scope: scopes::CLIENTS_READ, tag: "clients",
    get "getClient": "/api/v1/clients/{id}", "Client id" => "The client",
    list "listClients": "/api/v1/clients" => "A page of clients",
}

#[utoipa::path(patch, path = "/api/v1/clients/{id}", operation_id = "updateClient", tag = "clients", request_body = UpdateClient,
    params(("id" = String, Path, description = "Client id")),
    responses((status = 200, description = "The updated client", body = ClientView)))]
pub async fn update(
    request: HttpRequest,
    principal: Principal,
    api: web::Data<ManagementApi>,
    id: web::Path<String>,
    ApiJson(input): ApiJson<UpdateClient>,
) -> Result<HttpResponse, ApiError> {
    let client = update_client(&api, &principal, &request, &id, input).await?;
    Ok(HttpResponse::Ok().json(ClientView::from(client)))
}

/// Changes the client `id` as `input` says (absent fields stay), validated and audited.
pub async fn update_client(
    api: &ManagementApi,
    principal: &Principal,
    request: &HttpRequest,
    id: &str,
    input: UpdateClient,
) -> Result<Client, ApiError> {
    let max_ttl = api.max_access_token_ttl;
    let actor = Actor::of(principal, request);
    let resources = match (&input.scopes, &principal.tenant_id) {
        (Some(_), Some(tenant_id)) => api.oauth.resources.of_tenant(tenant_id).await?,
        _ => Default::default(),
    };
    let update =
        crud::modify(api, principal, scopes::CLIENTS_WRITE, id, "client.updated", actor, move |client: &mut Client| {
            let mut errors = Vec::new();
            if let Some(scopes) = &input.scopes {
                validate::scope_list(scopes, &mut errors);
                validate::defined_scopes(scopes, &client.scopes, &resources, &mut errors);
                client.scopes = Json(scopes.clone());
            }
            if let Some(name) = &input.name {
                client.name = name.trim().to_owned();
            }
            if let Some(uris) = &input.redirect_uris {
                client.redirect_uris = Json(uris.clone());
            }
            if let Some(grants) = &input.grant_types {
                client.grant_types = Json(grants.clone());
            }
            if let Some(skip) = input.skip_consent {
                client.skip_consent = skip;
            }
            if let Some(ttl) = input.access_token_ttl {
                client.access_token_ttl = ttl_field(ttl, &mut errors);
            }
            if let Some(uris) = &input.post_logout_redirect_uris {
                client.post_logout_redirect_uris = Json(uris.clone());
            }
            if let Some(algorithm) = &input.id_token_signed_response_alg {
                client.id_token_signed_response_alg = algorithm.clone();
            }
            check_client(client, max_ttl, &mut errors);
            validate::finish(errors)
        });
    let client = update.await?;
    api.oauth.clients.invalidate(&client.id);
    Ok(client)
}

#[utoipa::path(delete, path = "/api/v1/clients/{id}", operation_id = "deleteClient", tag = "clients", params(("id" = String, Path, description = "Client id")),
    responses((status = 204, description = "Deleted; the client stops authenticating at once")))]
pub async fn delete(
    request: HttpRequest,
    principal: Principal,
    api: web::Data<ManagementApi>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let _ = delete_client(&api, &principal, &request, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Deletes the client `id`: it stops authenticating at once, and its tokens are revoked.
pub async fn delete_client(
    api: &ManagementApi,
    principal: &Principal,
    request: &HttpRequest,
    id: &str,
) -> Result<Client, ApiError> {
    let actor = Actor::of(principal, request);
    let client: Client = crud::delete(api, principal, scopes::CLIENTS_WRITE, id, actor).await?;
    api.oauth.clients.invalidate(&client.id);
    Ok(client)
}

#[utoipa::path(post, path = "/api/v1/clients/{id}/secret", operation_id = "rotateClientSecret", tag = "clients", request_body = RotateSecret,
    params(("id" = String, Path, description = "Client id")),
    responses((status = 200, description = "The client with its new `client_secret`", body = ClientView)))]
pub async fn rotate_secret(
    request: HttpRequest,
    principal: Principal,
    api: web::Data<ManagementApi>,
    id: web::Path<String>,
    ApiJsonOrDefault(input): ApiJsonOrDefault<RotateSecret>,
) -> Result<HttpResponse, ApiError> {
    let (client, secret) = rotate_client_secret(&api, &principal, &request, &id, input).await?;
    Ok(HttpResponse::Ok().json(ClientView::with_secret(client, Some(secret))))
}

/// Gives the client `id` a new secret; the old one works for the grace period.
pub async fn rotate_client_secret(
    api: &ManagementApi,
    principal: &Principal,
    request: &HttpRequest,
    id: &str,
    input: RotateSecret,
) -> Result<(Client, SecretString), ApiError> {
    let mut errors = Vec::new();
    let grace = validate::grace_period(input.grace_period_seconds, &mut errors);
    validate::finish(errors)?;
    let secret = secrets::generate_client_secret();
    let (hash, redacted) = (api.hasher.hash(secret.expose_secret()), secrets::redact(&secret));
    let actor = Actor::of(principal, request);
    let (needed, action) = (scopes::CLIENTS_WRITE, "client.secret_rotated");
    let client = crud::modify(api, principal, needed, id, action, actor, move |client: &mut Client| {
        if !client.confidential {
            let message = "Public clients have no secret to rotate.";
            return Err(ApiError::validation(vec![FieldError::new("confidential", "invalid", message)]));
        }
        let now = tollbooth_storage::now();
        (client.previous_secret_hash, client.previous_secret_expires_at) = match grace {
            0 => (None, None),
            _ => (client.secret_hash.take(), Some(now + chrono::Duration::seconds(grace))),
        };
        client.secret_hash = Some(hash.clone());
        client.secret_redacted = Some(redacted.clone());
        Ok(())
    })
    .await?;
    api.oauth.clients.invalidate(&client.id);
    Ok((client, secret))
}
