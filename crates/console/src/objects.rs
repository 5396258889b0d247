//! What every kind of object's pages do alike (docs/console.md): a paginated list of what the
//! admin reaches, the create form, one object's page with its forms, and the create, edit,
//! rotate and delete they post. Reads go through the API's `crud` functions and writes through
//! each kind's API operation, so the API's reach, rule and validation decide every answer. The
//! kinds differ only in what [`Managed`], [`Edited`] and [`Rotated`] say.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use secrecy::{ExposeSecret, SecretString};
use tollbooth_oauth::error::OAuthError;
use tollbooth_oauth::request::FormBody;
use tollbooth_resource::ManagementApi;
use tollbooth_resource::auth::Principal;
use tollbooth_resource::crud::{self, Stored};
use tollbooth_resource::error::{ApiError, ApiErrorKind};
use tollbooth_resource::pagination::page_request;
use tollbooth_storage::Reach;

use crate::error::{ConsoleError, see_other};
use crate::form::Form;
use crate::pages::{self, FieldErrors, Frame, PageLinks, Section, csrf_field, href};
use crate::signed_in::SignedIn;

/// A kind of object the console manages.
pub trait Managed: Stored {
    const SECTION: Section;
    /// Its pages' path under the tenant's console, e.g. `clients`.
    const PATH: &'static str;
    const READ_SCOPE: &'static str;
    /// What creating one needs; for tenant-level kinds, at tenant level.
    const WRITE_SCOPE: &'static str;
    const TENANT_LEVEL: bool = false;
    const TITLE: &'static str;
    /// The list's caption.
    const CAPTION: &'static str;
    /// The label of the link to the create form, and of its button.
    const CREATE: &'static str;
    /// The word for deleting one.
    const DELETE: &'static str = "Delete";
    /// The list's column headings, and one object's cells (its first links to its page).
    const HEADINGS: &'static [&'static str];
    fn cells(&self, frame: &Frame<'_>) -> Markup;
    fn id(&self) -> &str;
    /// How the object is named on its page and in messages.
    fn label(&self) -> &str;
    /// Its page: what it is, and the forms that change it (with `values` and `errors` when a
    /// change was refused).
    fn page(&self, frame: &Frame<'_>, values: &Form, errors: &FieldErrors) -> Markup;
    /// The form's values of the object as stored.
    fn values(&self) -> Form;
    /// The fields of the create form (and of the edit form where they are the same), for the
    /// summary above a refused form.
    const FIELDS: &'static [&'static str];
    /// The create form's inputs, holding `values`.
    fn creation_fields(signed_in: &SignedIn, values: &Form, errors: &FieldErrors) -> Markup;
    /// What the create form starts with.
    fn creation_defaults() -> Form {
        Form::from_pairs([])
    }
    /// The API's create of this kind, from the posted form.
    async fn create(caller: &Caller<'_>, form: &Form) -> Result<Created<Self>, ApiError>;
    /// A refused form's errors; a kind whose form has lists names their entries by what was
    /// typed (`FieldErrors::naming_entries`).
    fn named_errors(errors: FieldErrors, _form: &Form) -> FieldErrors {
        errors
    }
    /// The API's delete of this kind.
    async fn remove(caller: &Caller<'_>, id: &str) -> Result<(), ApiError>;
}

/// Who asks an API operation, and how: the API's state, the console user as its principal, and
/// the request (whose address the audit records).
pub struct Caller<'a> {
    pub api: &'a ManagementApi,
    pub principal: &'a Principal,
    pub request: &'a HttpRequest,
}

/// What a create made: the object, and its secret if it has one (shown this once).
pub enum Created<T> {
    Object(T),
    WithSecret(T, SecretString),
}

/// A kind whose objects' pages have an edit form.
pub trait Edited: Managed {
    /// The API's update of this kind, from the posted edit form.
    async fn update(caller: &Caller<'_>, id: &str, form: &Form) -> Result<Self, ApiError>;
}

/// A kind whose objects have a secret to rotate.
pub trait Rotated: Managed {
    /// The API's rotation: the object and its new secret; the old one works for `grace` seconds.
    async fn rotate(caller: &Caller<'_>, id: &str, grace: i64) -> Result<(Self, SecretString), ApiError>;
}

/// The admin about to create an object of kind `T`, if the API would let them: an
/// organization's admin is not offered a form the API would refuse.
async fn creating<T: Managed>(
    request: &HttpRequest,
    tenant_id: &str,
    api: &ManagementApi,
) -> Result<SignedIn, ConsoleError> {
    let signed_in = SignedIn::of(request, tenant_id, api).await?;
    match T::TENANT_LEVEL {
        true => signed_in.principal.tenant_reach_with(T::WRITE_SCOPE)?,
        false => signed_in.principal.reach_with(T::WRITE_SCOPE)?,
    };
    Ok(signed_in)
}

/// An object's version as its forms carry it: its id and when it was last changed, to the
/// microsecond (every change moves it on by at least that: `crud::read_modify_write`).
fn version_of<T: Managed>(object: &T) -> String {
    format!("{}:{}", object.id(), object.updated_at().and_utc().timestamp_micros())
}

/// The hidden field that ties a form to the object as it was shown.
fn version_field<T: Managed>(object: &T) -> Markup {
    html! { input type="hidden" name="version" value=(version_of(object)); }
}

/// The object `id`, if it is still as the posted form showed it: a form shown before another
/// admin's change (or posted a second time) would otherwise undo that change.
async fn unchanged_since_shown<T: Managed>(
    api: &ManagementApi,
    signed_in: &SignedIn,
    id: &str,
    form: &Form,
) -> Result<T, ConsoleError> {
    let object: T = fetch(api, signed_in, id).await?;
    match form.one("version") == Some(version_of(&object).as_str()) {
        true => Ok(object),
        false => Err(ConsoleError::ChangedSinceShown),
    }
}

/// The path of object `id`'s page (`clients/client_…`), or of the list with no id.
pub fn path_of<T: Managed>(frame: &Frame<'_>, id: Option<&str>) -> String {
    match id {
        Some(id) => href(frame, &format!("{}/{id}", T::PATH)),
        None => href(frame, T::PATH),
    }
}

/// `GET /console/{tenant_id}/{kind}`: a page of what the admin reaches, newest first.
pub async fn list<T: Managed>(
    request: HttpRequest,
    tenant_id: web::Path<String>,
    api: web::Data<ManagementApi>,
) -> Result<HttpResponse, ConsoleError> {
    let signed_in = SignedIn::of(&request, &tenant_id, &api).await?;
    let page_request = page_request::<T::IdKind>(&request)
        .map_err(|_| ConsoleError::BadRequest("The page's address is not valid."))?;
    page_reach::<T>(&signed_in)?;
    let page = crud::page_of::<T>(&api, &signed_in.principal, T::READ_SCOPE, page_request).await?;
    let frame = signed_in.frame();
    let links = PageLinks::of(request.query_string(), page.before.as_deref(), page.after.as_deref());
    let content = html! {
        p { a.button href=(href(&frame, &format!("{}/new", T::PATH))) { (T::CREATE) } }
        @if page.data.is_empty() {
            p { "None yet." }
        } @else {
            div.scroll { table {
                caption { (T::CAPTION) }
                thead { tr { @for heading in T::HEADINGS { th scope="col" { (heading) } } } }
                tbody { @for object in &page.data { tr { (object.cells(&frame)) } } }
            } }
        }
        (links.nav(&path_of::<T>(&frame, None)))
    };
    let answer = pages::framed(&frame, T::SECTION, StatusCode::OK, T::TITLE, content);
    Ok(signed_in.refreshed(answer, &api.oauth))
}

/// The reach of a kind's pages: the API's, for what `T::READ_SCOPE` reads; a tenant-level
/// kind's pages (organizations, APIs) are the tenant admins', whose forms alone the API takes.
fn page_reach<T: Managed>(signed_in: &SignedIn) -> Result<Reach, ConsoleError> {
    Ok(match T::TENANT_LEVEL {
        true => signed_in.principal.tenant_reach_with(T::READ_SCOPE)?,
        false => signed_in.principal.reach_with(T::READ_SCOPE)?,
    })
}

/// The object `id` as the admin may read it.
async fn fetch<T: Managed>(api: &ManagementApi, signed_in: &SignedIn, id: &str) -> Result<T, ConsoleError> {
    Ok(crud::fetch::<T>(api, page_reach::<T>(signed_in)?, id).await?)
}

/// `GET /console/{tenant_id}/{kind}/{id}`.
pub async fn show<T: Managed>(
    request: HttpRequest,
    path: web::Path<(String, String)>,
    api: web::Data<ManagementApi>,
) -> Result<HttpResponse, ConsoleError> {
    let (tenant_id, id) = path.into_inner();
    let signed_in = SignedIn::of(&request, &tenant_id, &api).await?;
    let object: T = fetch(&api, &signed_in, &id).await?;
    let answer = object_page(&signed_in, &object, &object.values(), &FieldErrors::default());
    Ok(signed_in.refreshed(answer, &api.oauth))
}

fn object_page<T: Managed>(signed_in: &SignedIn, object: &T, values: &Form, errors: &FieldErrors) -> HttpResponse {
    let frame = signed_in.frame();
    let status = if errors.0.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let content = html! {
        (object.page(&frame, values, errors))
        h2 { (T::DELETE) }
        form method="post" action={ (path_of::<T>(&frame, Some(object.id()))) "/delete" }
            data-confirm={ (T::DELETE) " " (object.label()) "? This cannot be undone." } {
            (csrf_field(&frame))
            div.actions { button.danger type="submit" { (T::DELETE) } }
        }
        p { a href=(path_of::<T>(&frame, None)) { "All " (T::TITLE.to_lowercase()) } }
    };
    pages::framed(&frame, T::SECTION, status, object.label(), content)
}

/// The signed-in admin as the caller of an API operation.
fn caller<'a>(api: &'a ManagementApi, signed_in: &'a SignedIn, request: &'a HttpRequest) -> Caller<'a> {
    Caller { api, principal: &signed_in.principal, request }
}

/// A form posted to object `id`'s address (`/console/{tenant_id}/{kind}/{id}/…`): who posted
/// it, once its CSRF token is theirs, the id, and the form.
async fn posted_about(
    request: &HttpRequest,
    path: web::Path<(String, String)>,
    body: Result<FormBody, OAuthError>,
    api: &ManagementApi,
) -> Result<(SignedIn, String, Form), ConsoleError> {
    let (tenant_id, id) = path.into_inner();
    let form = Form::of(body)?;
    let signed_in = SignedIn::posting(request, &tenant_id, api, &form).await?;
    Ok((signed_in, id, form))
}

/// `POST /console/{tenant_id}/{kind}/{id}/delete`.
pub async fn delete<T: Managed>(
    request: HttpRequest,
    path: web::Path<(String, String)>,
    body: Result<FormBody, OAuthError>,
    api: web::Data<ManagementApi>,
) -> Result<HttpResponse, ConsoleError> {
    let (signed_in, id, _) = posted_about(&request, path, body, &api).await?;
    T::remove(&caller(&api, &signed_in, &request), &id).await?;
    let answer = see_other(&path_of::<T>(&signed_in.frame(), None));
    Ok(signed_in.refreshed(answer, &api.oauth))
}

/// A write's outcome for a form: done, or the API's invalid fields to show on the form again;
/// any other refusal is a page of its own.
fn form_outcome<T>(result: Result<T, ApiError>) -> Result<Result<T, FieldErrors>, ConsoleError> {
    match result {
        Ok(done) => Ok(Ok(done)),
        Err(invalid) if invalid.kind == ApiErrorKind::ValidationFailed => Ok(Err(FieldErrors(invalid.field_errors))),
        Err(refused) => Err(refused.into()),
    }
}

/// `GET /console/{tenant_id}/{kind}/new`.
pub async fn new<T: Managed>(
    request: HttpRequest,
    tenant_id: web::Path<String>,
    api: web::Data<ManagementApi>,
) -> Result<HttpResponse, ConsoleError> {
    let signed_in = creating::<T>(&request, &tenant_id, &api).await?;
    let answer = create_page::<T>(&signed_in, &T::creation_defaults(), &FieldErrors::default());
    Ok(signed_in.refreshed(answer, &api.oauth))
}

/// `POST /console/{tenant_id}/{kind}`: the new object's page, or its secret shown this once;
/// refused for its fields, the form again with them.
pub async fn create<T: Managed>(
    request: HttpRequest,
    tenant_id: web::Path<String>,
    body: Result<FormBody, OAuthError>,
    api: web::Data<ManagementApi>,
) -> Result<HttpResponse, ConsoleError> {
    let form = Form::of(body)?;
    let signed_in = SignedIn::posting(&request, &tenant_id, &api, &form).await?;
    let frame = signed_in.frame();
    let answer = match form_outcome(<T as Managed>::create(&caller(&api, &signed_in, &request), &form).await)? {
        Ok(Created::Object(object)) => see_other(&path_of::<T>(&frame, Some(object.id()))),
        Ok(Created::WithSecret(object, secret)) => {
            secret_page(&frame, &object, &secret, &format!("{} created", object.label()))
        }
        Err(errors) => create_page::<T>(&signed_in, &form, &T::named_errors(errors, &form)),
    };
    Ok(signed_in.refreshed(answer, &api.oauth))
}

/// `POST /console/{tenant_id}/{kind}/{id}`: the edit form. Done, back to the object's page;
/// refused for its fields, the page again with them.
pub async fn update<T: Edited>(
    request: HttpRequest,
    path: web::Path<(String, String)>,
    body: Result<FormBody, OAuthError>,
    api: web::Data<ManagementApi>,
) -> Result<HttpResponse, ConsoleError> {
    let (signed_in, id, form) = posted_about(&request, path, body, &api).await?;
    let shown: T = unchanged_since_shown(&api, &signed_in, &id, &form).await?;
    let answer = match form_outcome(<T as Edited>::update(&caller(&api, &signed_in, &request), &id, &form).await)? {
        Ok(object) => see_other(&path_of::<T>(&signed_in.frame(), Some(object.id()))),
        // A refused update changed nothing: the object is as it was shown.
        Err(errors) => object_page(&signed_in, &shown, &form, &T::named_errors(errors, &form)),
    };
    Ok(signed_in.refreshed(answer, &api.oauth))
}

/// `POST /console/{tenant_id}/{kind}/{id}/rotate`: the new secret, shown this once.
pub async fn rotate<T: Rotated>(
    request: HttpRequest,
    path: web::Path<(String, String)>,
    body: Result<FormBody, OAuthError>,
    api: web::Data<ManagementApi>,
) -> Result<HttpResponse, ConsoleError> {
    let (signed_in, id, form) = posted_about(&request, path, body, &api).await?;
    let grace = form.grace_period()?;
    // A second post of this form (a reload, a double click) would end the old secret's grace.
    unchanged_since_shown::<T>(&api, &signed_in, &id, &form).await?;
    let (object, secret) =
        T::rotate(&caller(&api, &signed_in, &request), &id, grace).await.map_err(ConsoleError::of_one_choice_form)?;
    let title = format!("New secret for {}", object.label());
    let answer = secret_page(&signed_in.frame(), &object, &secret, &title);
    Ok(signed_in.refreshed(answer, &api.oauth))
}

/// The form that rotates an object's secret, for its page.
pub fn rotate_form<T: Rotated>(frame: &Frame<'_>, object: &T) -> Markup {
    html! {
        h2 { "Rotate the secret" }
        form method="post" action={ (path_of::<T>(frame, Some(object.id()))) "/rotate" } {
            (csrf_field(frame))
            (version_field(object))
            (pages::grace_period_choice())
            div.actions { button type="submit" { "Rotate the secret" } }
        }
    }
}

/// The page after a create or rotate: the secret of `object`, this once, with a copy button.
fn secret_page<T: Managed>(frame: &Frame<'_>, object: &T, secret: &SecretString, title: &str) -> HttpResponse {
    let content = html! {
        p.notice role="status" {
            "Copy the secret of " strong { (object.label()) } " now and store it safely. "
            "It is shown only this once; afterwards the console shows only its last characters."
        }
        code.secret #secret { (secret.expose_secret()) }
        div.actions {
            button type="button" data-copy="secret" hidden { "Copy the secret" }
            a href=(path_of::<T>(frame, Some(object.id()))) { "Done" }
        }
    };
    pages::framed(frame, T::SECTION, StatusCode::OK, title, content)
}

/// The create form's page: the kind's fields in a form posted to its list.
fn create_page<T: Managed>(signed_in: &SignedIn, values: &Form, errors: &FieldErrors) -> HttpResponse {
    let frame = signed_in.frame();
    let status = if errors.0.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let content = html! {
        (errors.summary(T::FIELDS))
        form method="post" action=(path_of::<T>(&frame, None)) novalidate {
            (csrf_field(&frame))
            (T::creation_fields(signed_in, values, errors))
            div.actions { button type="submit" { (T::CREATE) } a href=(path_of::<T>(&frame, None)) { "Cancel" } }
        }
    };
    pages::framed(&frame, T::SECTION, status, T::CREATE, content)
}

/// An edit form on an object's page: `fields`, posted to the object's own address.
pub fn edit_form<T: Edited>(frame: &Frame<'_>, object: &T, fields: Markup, errors: &FieldErrors) -> Markup {
    html! {
        h2 { "Edit" }
        (errors.summary(T::FIELDS))
        form method="post" action=(path_of::<T>(frame, Some(object.id()))) novalidate {
            (csrf_field(frame))
            (version_field(object))
            (fields)
            div.actions { button type="submit" { "Save changes" } }
        }
    }
}
