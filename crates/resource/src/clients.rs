//! `/api/v1/clients`: OAuth clients of the caller's tenant (SPEC §4).

use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use tollbooth_storage::clients::{self, Client};
use tollbooth_storage::{Reach, StorageError, ids, organizations, secrets};

use crate::audit::Actor;
use crate::auth::Principal;
use crate::error::{ApiError, FieldError};
use crate::extract::ApiJson;
use crate::pagination::{List, page_request};
use crate::{Resource, rfc3339, scopes, validate};

const GRANT_CLIENT_CREDENTIALS: &str = "client_credentials";
const GRANT_AUTHORIZATION_CODE: &str = "authorization_code";
const GRANT_REFRESH_TOKEN: &str = "refresh_token";
const GRANT_TYPES: &[&str] = &[
    GRANT_CLIENT_CREDENTIALS,
    GRANT_AUTHORIZATION_CODE,
    GRANT_REFRESH_TOKEN,
];

pub const DEFAULT_ACCESS_TOKEN_TTL: i64 = 3600;
pub const MIN_ACCESS_TOKEN_TTL: i64 = 60;

/// A client as the API shows it. `client_secret` appears only in the answer that created it.
#[derive(Debug, Serialize)]
pub struct ClientView {
    pub object: &'static str,
    pub id: String,
    pub name: String,
    pub organization_id: Option<String>,
    pub confidential: bool,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    pub skip_consent: bool,
    pub access_token_ttl: i32,
    /// The secret's prefix and last four characters.
    pub redacted: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    #[serde(serialize_with = "rfc3339::serialize")]
    pub created_at: chrono::NaiveDateTime,
    #[serde(serialize_with = "rfc3339::serialize")]
    pub updated_at: chrono::NaiveDateTime,
}

impl From<Client> for ClientView {
    fn from(client: Client) -> Self {
        ClientView {
            object: "client",
            id: client.id,
            name: client.name,
            organization_id: client.organization_id,
            confidential: client.confidential,
            redirect_uris: client.redirect_uris,
            grant_types: client.grant_types,
            scopes: client.scopes,
            skip_consent: client.skip_consent,
            access_token_ttl: client.access_token_ttl,
            redacted: client.secret_redacted,
            client_secret: None,
            created_at: client.created_at,
            updated_at: client.updated_at,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateClient {
    name: Option<String>,
    redirect_uris: Option<Vec<String>>,
    grant_types: Option<Vec<String>>,
    scopes: Option<Vec<String>>,
    confidential: Option<bool>,
    skip_consent: Option<bool>,
    access_token_ttl: Option<i64>,
    organization_id: Option<String>,
}

/// `POST /api/v1/clients`.
pub async fn create(
    request: HttpRequest,
    principal: Principal,
    resource: web::Data<Resource>,
    ApiJson(input): ApiJson<CreateClient>,
) -> Result<HttpResponse, ApiError> {
    let reach = principal.reach_with(scopes::CLIENTS_WRITE)?;
    let mut errors = Vec::new();
    let confidential = input.confidential.unwrap_or(true);
    let name = validate::name("name", input.name.as_deref(), &mut errors);
    let default_grants = if confidential {
        vec![GRANT_CLIENT_CREDENTIALS.to_owned()]
    } else {
        vec![
            GRANT_AUTHORIZATION_CODE.to_owned(),
            GRANT_REFRESH_TOKEN.to_owned(),
        ]
    };
    let grant_types = input.grant_types.unwrap_or(default_grants);
    check_grant_types(&grant_types, confidential, &mut errors);
    let redirect_uris = input.redirect_uris.unwrap_or_default();
    for (i, uri) in redirect_uris.iter().enumerate() {
        if let Err(message) = validate::redirect_uri(uri) {
            errors.push(FieldError::new(
                format!("redirect_uris[{i}]"),
                "invalid",
                message,
            ));
        }
    }
    if grant_types.iter().any(|g| g == GRANT_AUTHORIZATION_CODE) && redirect_uris.is_empty() {
        errors.push(FieldError::new(
            "redirect_uris",
            "required",
            "The authorization_code grant needs at least one redirect URI.",
        ));
    }
    let client_scopes = input.scopes.unwrap_or_default();
    check_client_scopes(&client_scopes, &principal, &mut errors);
    let ttl = input.access_token_ttl.unwrap_or(DEFAULT_ACCESS_TOKEN_TTL);
    if !(MIN_ACCESS_TOKEN_TTL..=resource.max_access_token_ttl).contains(&ttl) {
        errors.push(FieldError::new(
            "access_token_ttl",
            "out_of_range",
            format!(
                "access_token_ttl must be from {MIN_ACCESS_TOKEN_TTL} to {} seconds.",
                resource.max_access_token_ttl
            ),
        ));
    }
    let organization_id = match (&reach.organization_id, input.organization_id) {
        (Some(own), Some(asked)) if *own != asked => {
            errors.push(FieldError::new(
                "organization_id",
                "not_found",
                "No such organization.",
            ));
            None
        }
        (Some(own), _) => Some(own.clone()),
        (None, asked) => asked,
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }

    let secret = confidential.then(secrets::generate_client_secret);
    let now = tollbooth_storage::now();
    let client = Client {
        id: ids::new_id(ids::CLIENT),
        tenant_id: reach.tenant_id.clone(),
        organization_id,
        name,
        confidential,
        secret_hash: secret
            .as_ref()
            .map(|s| resource.hasher.hash(s.expose_secret())),
        secret_redacted: secret.as_ref().map(secrets::redact),
        previous_secret_hash: None,
        previous_secret_expires_at: None,
        redirect_uris,
        grant_types,
        scopes: client_scopes,
        skip_consent: input.skip_consent.unwrap_or(false),
        access_token_ttl: i32::try_from(ttl).map_err(ApiError::internal)?,
        created_at: now,
        updated_at: now,
    };
    let actor = Actor::of(&principal, &request);
    let stored = client.clone();
    let organization_missing = resource
        .db
        .run(move |conn| {
            tollbooth_storage::in_transaction(conn, |conn| {
                if let Some(org) = &stored.organization_id
                    && !organizations::exists_in_tenant(conn, &stored.tenant_id, org)?
                {
                    return Ok(true);
                }
                clients::insert(conn, &stored)?;
                actor.record(conn, "client.created", &stored.id)?;
                Ok::<_, StorageError>(false)
            })
        })
        .await?;
    if organization_missing {
        return Err(ApiError::validation(vec![FieldError::new(
            "organization_id",
            "not_found",
            "No such organization.",
        )]));
    }
    let mut view = ClientView::from(client);
    view.client_secret = secret.map(|s| s.expose_secret().to_owned());
    Ok(HttpResponse::Created().json(view))
}

fn check_grant_types(grant_types: &[String], confidential: bool, errors: &mut Vec<FieldError>) {
    if grant_types.is_empty() {
        errors.push(FieldError::new(
            "grant_types",
            "required",
            "Give at least one grant type.",
        ));
    }
    for (i, grant) in grant_types.iter().enumerate() {
        if !GRANT_TYPES.contains(&grant.as_str()) {
            errors.push(FieldError::new(
                format!("grant_types[{i}]"),
                "invalid",
                format!("Unknown grant type; use one of {}.", GRANT_TYPES.join(", ")),
            ));
        } else if grant == GRANT_CLIENT_CREDENTIALS && !confidential {
            errors.push(FieldError::new(
                format!("grant_types[{i}]"),
                "invalid",
                "Public clients cannot use client_credentials.",
            ));
        } else if grant_types[..i].contains(grant) {
            errors.push(FieldError::new(
                format!("grant_types[{i}]"),
                "duplicate",
                "This grant type is listed twice.",
            ));
        }
    }
}

/// A client's scopes are RFC 6749 §3.3 scope tokens. Management scopes let its tokens act on
/// this API, so a caller can grant only management scopes it holds itself.
fn check_client_scopes(
    client_scopes: &[String],
    principal: &Principal,
    errors: &mut Vec<FieldError>,
) {
    for (i, scope) in client_scopes.iter().enumerate() {
        let field = format!("scopes[{i}]");
        if let Err(message) = validate::scope_token(scope) {
            errors.push(FieldError::new(field, "invalid", message));
        } else if (scopes::MANAGEMENT_SCOPES.contains(&scope.as_str()) || scope == scopes::OPERATOR)
            && !principal.has_scope(scope)
        {
            errors.push(FieldError::new(
                field,
                "forbidden",
                format!("You cannot grant `{scope}`, which you do not hold."),
            ));
        } else if client_scopes[..i].contains(scope) {
            errors.push(FieldError::new(
                field,
                "duplicate",
                "This scope is listed twice.",
            ));
        }
    }
}

fn client_id_in_reach(id: &str) -> Result<String, ApiError> {
    // A malformed id cannot exist: answer as for any other unknown id.
    if ids::is_valid(ids::CLIENT, id) {
        Ok(id.to_owned())
    } else {
        Err(ApiError::not_found("client"))
    }
}

async fn load(resource: &Resource, reach: Reach, id: String) -> Result<Client, ApiError> {
    resource
        .db
        .run(move |conn| clients::get(conn, &reach, &id))
        .await
        .map_err(|err| match err {
            StorageError::NotFound => ApiError::not_found("client"),
            other => other.into(),
        })
}

/// `GET /api/v1/clients/{id}`.
pub async fn get(
    principal: Principal,
    resource: web::Data<Resource>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let reach = principal.reach_with(scopes::CLIENTS_READ)?;
    let id = client_id_in_reach(&id)?;
    let client = load(&resource, reach, id).await?;
    Ok(HttpResponse::Ok().json(ClientView::from(client)))
}

/// `GET /api/v1/clients`.
pub async fn list(
    request: HttpRequest,
    principal: Principal,
    resource: web::Data<Resource>,
) -> Result<HttpResponse, ApiError> {
    let reach = principal.reach_with(scopes::CLIENTS_READ)?;
    let page = page_request(&request, ids::CLIENT)?;
    let page = resource
        .db
        .run(move |conn| clients::list(conn, &reach, &page))
        .await?;
    Ok(HttpResponse::Ok().json(List::from(page.map(ClientView::from))))
}
