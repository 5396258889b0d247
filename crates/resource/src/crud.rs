//! What every resource's get, update and delete share: ids checked at the edge, the caller's
//! reach applied in storage, read-modify-write guarded against concurrent writers, and an
//! audit event in the same transaction as the change.

use actix_web::{HttpRequest, HttpResponse};
use chrono::NaiveDateTime;
use serde::Serialize;
use tollbooth_storage::ids::Id;
use tollbooth_storage::pagination::{Page, PageRequest};
use tollbooth_storage::{
    DbConnection, Reach, StorageError, api_keys, clients, ids, in_transaction, organizations, revoked_tokens, tenants,
    users,
};

use crate::audit::Actor;
use crate::auth::Principal;
use crate::authorization::Guarded;
use crate::error::{ApiError, ApiErrorKind};
use crate::pagination::{List, page_request};
use crate::state::ManagementApi;

/// An object stored per tenant and reached through a [`Reach`].
pub trait Stored: Versioned + Clone + Send + 'static {
    /// Its name in audit actions (`client.updated`) and messages.
    const KIND: &'static str;
    /// The kind of its ids: only a parsed [`Id`] of it reaches storage.
    type IdKind: ids::Kind;
    /// Whether its id can appear in an access token (`client_id`, `sub`, `org_id`): deleting it
    /// then revokes those tokens (docs/security.md, "Token lifecycle").
    const IN_TOKENS: bool;
    fn get(conn: &mut DbConnection, reach: &Reach, id: &Id<Self::IdKind>) -> Result<Self, StorageError>;
    fn update(conn: &mut DbConnection, object: &Self, read_at: NaiveDateTime) -> Result<bool, StorageError>;
    fn delete(conn: &mut DbConnection, id: &Id<Self::IdKind>) -> Result<(), StorageError>;
    fn list(conn: &mut DbConnection, reach: &Reach, page: &PageRequest) -> Result<Page<Self>, StorageError>;
    /// What deleting it deletes with it holds: the caller must hold that too.
    fn cascade(_conn: &mut DbConnection, _object: &Self) -> Result<Held, StorageError> {
        Ok(Held(Vec::new()))
    }
    /// Rules that need the database, checked in the transaction that stores a change, just
    /// before it is written (a resource's scopes and identifier must be free).
    fn before_write(_conn: &mut DbConnection, _object: &Self) -> Result<(), ApiError> {
        Ok(())
    }
    /// Whether changing `before` into `after` must stop the tokens issued for it until now (a
    /// user lowered from admin to member: docs/security.md, "User roles and tokens").
    fn revokes_tokens(_before: &Self, _after: &Self) -> bool {
        false
    }
}

/// Scopes held by objects a deletion takes with it.
pub struct Held(pub Vec<String>);

impl Guarded for Held {
    fn held_scopes(&self) -> Vec<&str> {
        self.0.iter().map(String::as_str).collect()
    }
}

/// A row that carries its last change time, which writers compare and set.
pub trait Versioned {
    fn updated_at(&self) -> NaiveDateTime;
    fn set_updated_at(&mut self, at: NaiveDateTime);
}

/// [`Versioned`] for a row type with an `updated_at` field.
macro_rules! versioned {
    ($($type:ty),+) => {$(
        impl $crate::crud::Versioned for $type {
            fn updated_at(&self) -> ::chrono::NaiveDateTime {
                self.updated_at
            }
            fn set_updated_at(&mut self, at: ::chrono::NaiveDateTime) {
                self.updated_at = at;
            }
        }
    )+};
}

/// [`Stored`] for a row type whose storage module has the reach repository's functions.
macro_rules! stored {
    ($type:ty, $module:ident, $kind:literal, $prefix:ty, in_tokens: $in_tokens:literal, cascade) => {
        $crate::crud::stored!(@impl $type, $module, $kind, $prefix, $in_tokens,
            fn cascade(conn: &mut ::tollbooth_storage::DbConnection, object: &Self) -> Result<$crate::crud::Held, ::tollbooth_storage::StorageError> {
                $module::scopes_held_within(conn, &object.id).map($crate::crud::Held)
            }
        );
    };
    ($type:ty, $module:ident, $kind:literal, $prefix:ty, in_tokens: $in_tokens:literal, revokes_tokens) => {
        $crate::crud::stored!(@impl $type, $module, $kind, $prefix, $in_tokens,
            fn revokes_tokens(before: &Self, after: &Self) -> bool {
                $module::lowers_role(before, after)
            }
        );
    };
    ($type:ty, $module:ident, $kind:literal, $prefix:ty, in_tokens: $in_tokens:literal, before_write: $check:path) => {
        $crate::crud::stored!(@impl $type, $module, $kind, $prefix, $in_tokens,
            fn before_write(conn: &mut ::tollbooth_storage::DbConnection, object: &Self) -> Result<(), $crate::error::ApiError> {
                $check(conn, object)
            }
        );
    };
    ($type:ty, $module:ident, $kind:literal, $prefix:ty, in_tokens: $in_tokens:literal) => {
        $crate::crud::stored!(@impl $type, $module, $kind, $prefix, $in_tokens,);
    };
    (@impl $type:ty, $module:ident, $kind:literal, $prefix:ty, $in_tokens:literal, $($extra:item)*) => {
        impl $crate::crud::Stored for $type {
            const KIND: &'static str = $kind;
            type IdKind = $prefix;
            const IN_TOKENS: bool = $in_tokens;
            fn get(conn: &mut ::tollbooth_storage::DbConnection, reach: &::tollbooth_storage::Reach, id: &::tollbooth_storage::ids::Id<$prefix>) -> Result<Self, ::tollbooth_storage::StorageError> {
                $module::get(conn, reach, id)
            }
            fn update(conn: &mut ::tollbooth_storage::DbConnection, object: &Self, read_at: ::chrono::NaiveDateTime) -> Result<bool, ::tollbooth_storage::StorageError> {
                $module::update(conn, object, read_at)
            }
            fn delete(conn: &mut ::tollbooth_storage::DbConnection, id: &::tollbooth_storage::ids::Id<$prefix>) -> Result<(), ::tollbooth_storage::StorageError> {
                $module::delete(conn, id)
            }
            fn list(conn: &mut ::tollbooth_storage::DbConnection, reach: &::tollbooth_storage::Reach, page: &::tollbooth_storage::pagination::PageRequest) -> Result<::tollbooth_storage::pagination::Page<Self>, ::tollbooth_storage::StorageError> {
                $module::list(conn, reach, page)
            }
            $($extra)*
        }
    };
}

stored!(clients::Client, clients, "client", ids::Client, in_tokens: true);
stored!(api_keys::ApiKey, api_keys, "api_key", ids::ApiKey, in_tokens: false);
stored!(organizations::Organization, organizations, "organization", ids::Organization, in_tokens: true, cascade);
stored!(users::User, users, "user", ids::User, in_tokens: true, revokes_tokens);
versioned!(clients::Client, api_keys::ApiKey, organizations::Organization, users::User, tenants::Tenant);

/// A path id of type `T`; a malformed one cannot exist, so it is answered like an unknown one.
pub fn path_id<T: Stored>(raw: &str) -> Result<Id<T::IdKind>, ApiError> {
    Id::parse(raw).ok_or_else(not_found::<T>)
}

pub fn not_found<T: Stored>() -> ApiError {
    ApiError::not_found(&T::KIND.replace('_', " "))
}

fn in_reach<T: Stored>(err: StorageError) -> ApiError {
    match err {
        StorageError::NotFound => not_found::<T>(),
        other => other.into(),
    }
}

pub async fn fetch<T: Stored>(api: &ManagementApi, reach: Reach, raw_id: &str) -> Result<T, ApiError> {
    let id = path_id::<T>(raw_id)?;
    api.db.run(move |conn| T::get(conn, &reach, &id)).await.map_err(in_reach::<T>)
}

/// A `GET /{collection}/{id}` answer: the object as `V`, if the caller holds `scope` and reaches it.
pub async fn get_view<T: Stored, V: From<T> + Serialize>(
    principal: &Principal,
    api: &ManagementApi,
    raw_id: &str,
    scope: &str,
) -> Result<HttpResponse, ApiError> {
    let reach = principal.reach_with(scope)?;
    let object: T = fetch(api, reach, raw_id).await?;
    Ok(HttpResponse::Ok().json(V::from(object)))
}

/// A `GET /{collection}` answer: one page of what the caller reaches, as `V`s.
pub async fn list_view<T: Stored, V: From<T> + Serialize>(
    request: &HttpRequest,
    principal: &Principal,
    api: &ManagementApi,
    scope: &str,
) -> Result<HttpResponse, ApiError> {
    principal.reach_with(scope)?;
    let page = page_request::<T::IdKind>(request)?;
    List::respond(page_of::<T>(api, principal, scope, page).await?.map(V::from))
}

/// One page of the objects the caller reaches, if it holds `scope`: every list (the API's and
/// the console's) reads through this.
pub async fn page_of<T: Stored>(
    api: &ManagementApi,
    principal: &Principal,
    scope: &str,
    page: PageRequest,
) -> Result<Page<T>, ApiError> {
    let reach = principal.reach_with(scope)?;
    api.db.run(move |conn| T::list(conn, &reach, &page)).await.map_err(ApiError::from)
}

/// Deletes the object if the caller reaches it and may act on it (`needed` and the rule of
/// `crate::authorization`), and records `<kind>.deleted`.
pub async fn delete<T: Stored + Guarded>(
    api: &ManagementApi,
    principal: &Principal,
    needed: &'static str,
    raw_id: &str,
    actor: Actor,
) -> Result<T, ApiError> {
    let reach = principal.reach_for(needed)?;
    let id = path_id::<T>(raw_id)?;
    let principal = principal.clone();
    let tokens_expire_by = tokens_expire_by(api);
    let deleted = api
        .db
        .run(move |conn| {
            in_transaction(conn, |conn| {
                let object = T::get(conn, &reach, &id).map_err(in_reach::<T>)?;
                principal.authorize(needed, Some(&object), None)?;
                let cascade = T::cascade(conn, &object)?;
                if !cascade.0.is_empty() {
                    principal.authorize(needed, Some(&cascade), None)?;
                }
                T::delete(conn, &id)?;
                if T::IN_TOKENS {
                    revoked_tokens::revoke_subject(conn, &id, &reach.tenant_id, tokens_expire_by, tokens_expire_by)?;
                }
                actor.record(conn, &format!("{}.deleted", T::KIND), &id)?;
                Ok::<_, ApiError>(object)
            })
        })
        .await?;
    if T::IN_TOKENS {
        api.oauth.revocations.forget_cached_answers();
    }
    Ok(deleted)
}

/// How far another instance's clock may run ahead of this one's: tokens it issued up to that much
/// "later" than a demotion are revoked with it (and tokens issued that soon after, too).
const CLOCK_MARGIN: chrono::Duration = chrono::Duration::seconds(2);

/// When every access token issued until now has expired: how long a deleted subject's id is
/// kept among the revoked.
pub fn tokens_expire_by(api: &ManagementApi) -> NaiveDateTime {
    tollbooth_storage::now() + chrono::Duration::seconds(api.max_access_token_ttl)
}

/// How often a read-modify-write is retried when another writer changed the row meanwhile.
const UPDATE_ATTEMPTS: usize = 5;

/// Reads the object, lets `change` validate and modify it, checks the caller may act on it as
/// it was and as it will be (`needed` and the rule of `crate::authorization`), stores it unless
/// another writer changed it in between (then starts over), and records `action`.
pub async fn modify<T, F>(
    api: &ManagementApi,
    principal: &Principal,
    needed: &'static str,
    raw_id: &str,
    action: &'static str,
    actor: Actor,
    change: F,
) -> Result<T, ApiError>
where
    T: Stored + Guarded,
    F: Fn(&mut T) -> Result<(), ApiError> + Send + 'static,
{
    let reach = principal.reach_for(needed)?;
    let id = path_id::<T>(raw_id)?;
    let principal = principal.clone();
    let tokens_expire_by = tokens_expire_by(api);
    let (object, revoked) = api
        .db
        .run(move |conn| {
            // Set by the attempt that stores the change (a retry reads the row again).
            let revokes = std::cell::Cell::new(false);
            let object = read_modify_write(
                conn,
                |conn| T::get(conn, &reach, &id).map_err(in_reach::<T>),
                |object: &mut T| {
                    // First on the object as stored, so that a caller who may not act on it
                    // learns nothing from how its change would be validated.
                    principal.authorize(needed, Some(&*object), None)?;
                    let before = object.clone();
                    change(object)?;
                    principal.authorize(needed, Some(&before), Some(&*object))?;
                    revokes.set(T::revokes_tokens(&before, object));
                    Ok(())
                },
                |conn, object, read_at| {
                    T::before_write(conn, object)?;
                    Ok(T::update(conn, object, read_at)?)
                },
                |conn| {
                    if revokes.get() {
                        let issued_until = tollbooth_storage::now() + CLOCK_MARGIN;
                        revoked_tokens::revoke_subject(conn, &id, &reach.tenant_id, issued_until, tokens_expire_by)?;
                    }
                    actor.record(conn, action, &id)
                },
            )?;
            Ok::<_, ApiError>((object, revokes.get()))
        })
        .await?;
    if revoked {
        api.oauth.revocations.forget_cached_answers();
    }
    Ok(object)
}

/// The compare-and-set loop behind every PATCH: in one transaction, `read` the row, `change`
/// it, `write` it only if its `updated_at` is still the one read, and `record` the change; when
/// another writer got there first, start over (up to [`UPDATE_ATTEMPTS`] times), so concurrent
/// updates of different fields both land.
pub fn read_modify_write<T: Versioned>(
    conn: &mut DbConnection,
    read: impl Fn(&mut DbConnection) -> Result<T, ApiError>,
    change: impl Fn(&mut T) -> Result<(), ApiError>,
    write: impl Fn(&mut DbConnection, &T, NaiveDateTime) -> Result<bool, ApiError>,
    record: impl Fn(&mut DbConnection) -> Result<(), StorageError>,
) -> Result<T, ApiError> {
    for _ in 0..UPDATE_ATTEMPTS {
        let stored = in_transaction(conn, |conn| {
            let mut object = read(conn)?;
            let read_at = object.updated_at();
            change(&mut object)?;
            // Strictly later than what was read, even if the clock stepped back.
            object.set_updated_at(tollbooth_storage::now().max(read_at + chrono::Duration::microseconds(1)));
            if !write(conn, &object, read_at)? {
                return Ok(None);
            }
            record(conn)?;
            Ok::<_, ApiError>(Some(object))
        })?;
        if let Some(object) = stored {
            return Ok(object);
        }
    }
    Err(ApiError::new(ApiErrorKind::Conflict, "The object is being changed by another request; try again."))
}

/// The `get` and `list` handlers of a [`Stored`] resource, with their OpenAPI operations: one
/// line of this module each, so a resource module invokes this once rather than repeating them.
///
/// `Model as View, scope: READ_SCOPE, tag: "tag", get "getItem": "/item/{id}", "id description"
/// => "answer description", list "listItems": "/collection" => "answer description"`.
macro_rules! read_handlers {
    (
        $model:ident as $view:ident, scope: $scope:path, tag: $tag:tt,
        get $get_id:tt: $item_path:tt, $id_description:tt => $item_description:tt,
        list $list_id:tt: $list_path:tt => $list_description:tt $(,)?
    ) => {
        #[utoipa::path(get, path = $item_path, operation_id = $get_id, tag = $tag, params(("id" = String, Path, description = $id_description)),
                    responses((status = 200, description = $item_description, body = $view)))]
        pub async fn get(
            principal: $crate::auth::Principal,
            api: ::actix_web::web::Data<$crate::state::ManagementApi>,
            id: ::actix_web::web::Path<String>,
        ) -> Result<::actix_web::HttpResponse, $crate::error::ApiError> {
            $crate::crud::get_view::<$model, $view>(&principal, &api, &id, $scope).await
        }

        #[utoipa::path(get, path = $list_path, operation_id = $list_id, tag = $tag, params($crate::pagination::ListParams),
                    responses((status = 200, description = $list_description, body = $crate::pagination::List<$view>)))]
        pub async fn list(
            request: ::actix_web::HttpRequest,
            principal: $crate::auth::Principal,
            api: ::actix_web::web::Data<$crate::state::ManagementApi>,
        ) -> Result<::actix_web::HttpResponse, $crate::error::ApiError> {
            $crate::crud::list_view::<$model, $view>(&request, &principal, &api, $scope).await
        }
    };
}
pub(crate) use {read_handlers, stored, versioned};
