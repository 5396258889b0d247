//! `/api/v1/users` (docs/api.md): users of the tenant, optionally in one organization; emails are
//! unique per tenant (409), passwords stored as Argon2id.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use tollbooth_oauth::policy;
use tollbooth_storage::ids::Id;
use tollbooth_storage::users::{self, User};
use tollbooth_storage::{Reach, StorageError, ids, in_transaction, passwords};
use utoipa::ToSchema;

use crate::audit::Actor;
use crate::auth::{Credential, Principal};
use crate::crud;
use crate::error::{ApiError, ApiErrorKind, FieldError};
use crate::extract::ApiJson;
use crate::organizations::{check_organization_exists, owning_organization};
use crate::{ManagementApi, rfc3339, scopes, validate};

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    #[schema(example = "user")]
    pub object: &'static str,
    #[schema(example = "user_01JD6Q2Z7V1K8S3J9M4N5P6R7T")]
    pub id: String,
    pub email: String,
    pub name: String,
    pub email_verified: bool,
    pub organization_id: Option<String>,
    /// `member` (default) or `admin`: only an admin's tokens carry management scopes, confined
    /// to the user's organization when they have one.
    #[schema(example = "member")]
    pub role: String,
    /// Whether the user can sign in with a password (the hash itself is never shown).
    pub has_password: bool,
    #[serde(serialize_with = "rfc3339::serialize")]
    pub created_at: chrono::NaiveDateTime,
    #[serde(serialize_with = "rfc3339::serialize")]
    pub updated_at: chrono::NaiveDateTime,
}

impl From<User> for UserView {
    fn from(user: User) -> Self {
        UserView {
            object: "user",
            has_password: user.password_hash.is_some(),
            id: user.id,
            email: user.email,
            name: user.name,
            email_verified: user.email_verified,
            organization_id: user.organization_id,
            role: user.role,
            created_at: user.created_at,
            updated_at: user.updated_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// Unique in the tenant; stored lower-case.
    #[schema(value_type = String, required = true, format = Email, max_length = 254)]
    pub email: Option<String>,
    #[schema(max_length = 200)]
    pub name: Option<String>,
    /// 8 to 1024 characters. Without one the user cannot sign in with a password.
    #[schema(min_length = 8, max_length = 1024)]
    pub password: Option<String>,
    pub email_verified: Option<bool>,
    pub organization_id: Option<String>,
    /// `member` (default) or `admin`; making an admin needs `admin`.
    #[schema(value_type = Option<String>, pattern = "^(member|admin)$")]
    pub role: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    #[schema(format = Email, max_length = 254)]
    pub email: Option<String>,
    #[schema(max_length = 200)]
    pub name: Option<String>,
    #[schema(min_length = 8, max_length = 1024)]
    pub password: Option<String>,
    pub email_verified: Option<bool>,
    /// `member` or `admin`; changing an admin, or making one, needs `admin`.
    #[schema(value_type = Option<String>, pattern = "^(member|admin)$")]
    pub role: Option<String>,
}

/// What a password field shows in `Debug` output: whether one was given, never the password.
fn password_presence(password: &Option<String>) -> &'static str {
    if password.is_some() { "Some(<redacted>)" } else { "None" }
}

impl std::fmt::Debug for CreateUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateUser")
            .field("email", &self.email)
            .field("name", &self.name)
            .field("password", &password_presence(&self.password))
            .field("email_verified", &self.email_verified)
            .field("organization_id", &self.organization_id)
            .field("role", &self.role)
            .finish()
    }
}

impl std::fmt::Debug for UpdateUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpdateUser")
            .field("email", &self.email)
            .field("name", &self.name)
            .field("password", &password_presence(&self.password))
            .field("email_verified", &self.email_verified)
            .field("role", &self.role)
            .finish()
    }
}

/// A valid role, or a field error.
fn role(value: Option<&str>, errors: &mut Vec<FieldError>) -> Option<String> {
    let value = value?;
    if policy::ROLES.contains(&value) {
        Some(value.to_owned())
    } else {
        errors.push(FieldError::new("role", "invalid", "role is `member` or `admin`."));
        None
    }
}

fn email_taken(err: ApiError) -> ApiError {
    match err.kind {
        ApiErrorKind::Conflict => ApiError::new(ApiErrorKind::Conflict, "A user with this email already exists."),
        _ => err,
    }
}

/// Argon2id at the server's bounded hashing concurrency: slow on purpose, so a full queue is
/// 429 with `Retry-After` rather than a wait without end.
async fn hash_password(password: Option<String>) -> Result<Option<String>, ApiError> {
    match password {
        None => Ok(None),
        Some(password) => passwords::bounded(passwords::Hashing::Management, move || passwords::hash(&password))
            .await
            .map_err(|passwords::Busy| ApiError::rate_limited(1))?
            .map(Some)
            .map_err(ApiError::internal),
    }
}

#[utoipa::path(post, path = "/api/v1/users", operation_id = "createUser", tag = "users", request_body = CreateUser,
    responses((status = 201, description = "The user", body = UserView)))]
pub async fn create(
    request: HttpRequest,
    principal: Principal,
    api: web::Data<ManagementApi>,
    ApiJson(input): ApiJson<CreateUser>,
) -> Result<HttpResponse, ApiError> {
    let user = create_user(&api, &principal, &request, input).await?;
    Ok(HttpResponse::Created().json(UserView::from(user)))
}

/// Creates a user as `principal` asks, validated and audited.
pub async fn create_user(
    api: &ManagementApi,
    principal: &Principal,
    request: &HttpRequest,
    input: CreateUser,
) -> Result<User, ApiError> {
    let reach = principal.reach_with(scopes::USERS_WRITE)?;
    let mut errors = Vec::new();
    let email = validate::email(input.email.as_deref(), &mut errors);
    let role = role(input.role.as_deref(), &mut errors).unwrap_or_else(|| policy::ROLE_MEMBER.to_owned());
    let name = input.name.unwrap_or_default().trim().to_owned();
    validate::name_text("name", &name, &mut errors);
    if let Some(password) = &input.password {
        validate::password(password, &mut errors);
    }
    let organization_id = owning_organization(&reach, input.organization_id, &mut errors);
    validate::finish(errors)?;
    let now = tollbooth_storage::now();
    let mut user = User {
        id: ids::new_id(ids::USER),
        tenant_id: reach.tenant_id,
        organization_id,
        email,
        name,
        password_hash: None,
        email_verified: input.email_verified.unwrap_or(false),
        created_at: now,
        updated_at: now,
        role,
    };
    principal.authorize(scopes::USERS_WRITE, None, Some(&user))?;
    user.password_hash = hash_password(input.password).await?;
    let actor = Actor::of(principal, request);
    let stored = user.clone();
    api.db
        .run(move |conn| {
            in_transaction(conn, |conn| {
                check_organization_exists(conn, &stored.tenant_id, stored.organization_id.as_deref())?;
                users::insert(conn, &stored)?;
                actor.record(conn, "user.created", &stored.id)?;
                Ok::<_, ApiError>(())
            })
        })
        .await
        .map_err(email_taken)?;
    Ok(user)
}

crud::read_handlers! {
    User as UserView, scope: scopes::USERS_READ, tag: "users",
    get "getUser": "/api/v1/users/{id}", "User id" => "The user",
    list "listUsers": "/api/v1/users" => "A page of users",
}

/// `GET /users/me`: the user an access token was issued to. Needs no scope: a user may always
/// read themself. Tokens of clients (client credentials) and API keys have no user.
#[utoipa::path(get, path = "/api/v1/users/me", operation_id = "getCurrentUser", tag = "users",
    responses((status = 200, description = "The user the access token belongs to", body = UserView),
        (status = 404, description = "not_found: an API key, or a client's own token, has no user", body = crate::error::ErrorBody)))]
pub async fn me(principal: Principal, api: web::Data<ManagementApi>) -> Result<HttpResponse, ApiError> {
    let no_user = || ApiError::not_found("user: this credential does not belong to a user");
    let Credential::AccessToken { subject, .. } = &principal.credential else {
        return Err(no_user());
    };
    let (Some(tenant_id), Some(id)) = (principal.tenant_id.clone(), Id::<ids::User>::parse(subject)) else {
        return Err(no_user());
    };
    // The token's tenant bounds the lookup; its organization claim does not narrow a user's view of themself.
    let reach = Reach { tenant_id, organization_id: None };
    let user = api.db.run(move |conn| users::get(conn, &reach, &id)).await.map_err(|err| match err {
        StorageError::NotFound => no_user(),
        other => other.into(),
    })?;
    Ok(HttpResponse::Ok().json(UserView::from(user)))
}

#[utoipa::path(patch, path = "/api/v1/users/{id}", operation_id = "updateUser", tag = "users", request_body = UpdateUser,
    params(("id" = String, Path, description = "User id")),
    responses((status = 200, description = "The updated user", body = UserView)))]
pub async fn update(
    request: HttpRequest,
    principal: Principal,
    api: web::Data<ManagementApi>,
    id: web::Path<String>,
    ApiJson(input): ApiJson<UpdateUser>,
) -> Result<HttpResponse, ApiError> {
    let user = update_user(&api, &principal, &request, &id, input).await?;
    Ok(HttpResponse::Ok().json(UserView::from(user)))
}

/// Changes the user `id` as `input` says, validated and audited.
pub async fn update_user(
    api: &ManagementApi,
    principal: &Principal,
    request: &HttpRequest,
    id: &str,
    input: UpdateUser,
) -> Result<User, ApiError> {
    principal.require(scopes::USERS_WRITE)?;
    let mut errors = Vec::new();
    let email = input.email.as_deref().map(|email| validate::email(Some(email), &mut errors));
    let role = role(input.role.as_deref(), &mut errors);
    if let Some(password) = &input.password {
        validate::password(password, &mut errors);
    }
    if let Some(name) = &input.name {
        validate::name_text("name", name.trim(), &mut errors);
    }
    validate::finish(errors)?;
    if input.password.is_some() {
        // Argon2 is slow on purpose: spend it only for a caller who may change this user.
        let current: User = crud::fetch(api, principal.reach_for(scopes::USERS_WRITE)?, id).await?;
        principal.authorize(scopes::USERS_WRITE, Some(&current), None)?;
    }
    let password_hash = hash_password(input.password).await?;
    let actor = Actor::of(principal, request);
    let (needed, action) = (scopes::USERS_WRITE, "user.updated");

    let user = crud::modify(api, principal, needed, id, action, actor, move |user: &mut User| {
        if let Some(role) = &role {
            user.role = role.clone();
        }
        if let Some(email) = &email {
            user.email = email.clone();
        }
        if let Some(name) = &input.name {
            user.name = name.trim().to_owned();
        }
        if let Some(hash) = &password_hash {
            user.password_hash = Some(hash.clone());
        }
        if let Some(verified) = input.email_verified {
            user.email_verified = verified;
        }
        Ok(())
    })
    .await
    .map_err(email_taken)?;
    Ok(user)
}

#[utoipa::path(delete, path = "/api/v1/users/{id}", operation_id = "deleteUser", tag = "users", params(("id" = String, Path, description = "User id")),
    responses((status = 204, description = "Deleted")))]
pub async fn delete(
    request: HttpRequest,
    principal: Principal,
    api: web::Data<ManagementApi>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let _ = delete_user(&api, &principal, &request, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Deletes the user `id`; their tokens are revoked.
pub async fn delete_user(
    api: &ManagementApi,
    principal: &Principal,
    request: &HttpRequest,
    id: &str,
) -> Result<User, ApiError> {
    let actor = Actor::of(principal, request);
    crud::delete(api, principal, scopes::USERS_WRITE, id, actor).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_holds_a_password() {
        let create: CreateUser =
            serde_json::from_value(serde_json::json!({"email": "a@example.com", "password": "hunter2-hunter2"}))
                .unwrap();
        let update: UpdateUser = serde_json::from_value(serde_json::json!({"password": "hunter2-hunter2"})).unwrap();
        for debug in [format!("{create:?}"), format!("{update:?}")] {
            assert!(!debug.contains("hunter2") && debug.contains("<redacted>"), "{debug}");
        }
    }
}
