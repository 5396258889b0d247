//! The users pages: create a user with a password and a role, change their name, role or
//! password, delete them, through the API's operations (`tollbooth_resource::users`), which
//! also decide who may make or change an admin.

use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use tollbooth_oauth::error::OAuthError;
use tollbooth_oauth::request::FormBody;
use tollbooth_resource::auth::Principal;
use tollbooth_resource::error::ApiError;
use tollbooth_resource::users::{CreateUser, UpdateUser, create_user, delete_user, update_user};
use tollbooth_resource::{ManagementApi, scopes};
use tollbooth_storage::users::{ROLE_ADMIN, ROLE_MEMBER, User};

use crate::error::{ConsoleError, see_other};
use crate::form::Form;
use crate::objects::{self, Managed, create_page, edit_form, form_outcome, path_of};
use crate::pages::{self, FieldErrors, Frame, Section, choice, text_input, time};
use crate::signed_in::SignedIn;

const FIELDS: [&str; 5] = ["email", "name", "password", "role", "organization_id"];
const ROLES: [(&str, &str); 2] =
    [(ROLE_MEMBER, "Member: signs in to apps"), (ROLE_ADMIN, "Admin: manages the tenant or organization")];

impl Managed for User {
    const SECTION: Section = Section::Users;
    const PATH: &'static str = "users";
    const READ_SCOPE: &'static str = scopes::USERS_READ;
    const WRITE_SCOPE: &'static str = scopes::USERS_WRITE;
    const TITLE: &'static str = "Users";
    const CAPTION: &'static str = "Users within your reach, newest first";
    const CREATE: &'static str = "Create a user";
    const HEADINGS: &'static [&'static str] = &["Email", "Name", "Role", "Organization"];

    fn cells(&self, frame: &Frame<'_>) -> Markup {
        html! {
            td { a href=(path_of::<User>(frame, Some(&self.id))) { (self.email) } }
            td { (self.name) }
            td { (self.role) }
            td { @if let Some(organization) = &self.organization_id { code { (organization) } } @else { "—" } }
        }
    }

    fn id(&self) -> &str {
        &self.id
    }

    fn label(&self) -> &str {
        &self.email
    }

    fn values(&self) -> Form {
        Form::from_pairs([("name", self.name.clone()), ("role", self.role.clone())])
    }

    fn page(&self, frame: &Frame<'_>, values: &Form, errors: &FieldErrors) -> Markup {
        let fields = html! {
            (text_input(errors, "name", "Name", "text", &values.text("name"), None))
            (choice(errors, "role", "Role", &ROLES, values.one("role").unwrap_or(ROLE_MEMBER)))
            (pages::password_input(errors, "New password (optional)", "8 characters or more. Leave empty to keep the password."))
        };
        html! {
            dl.facts {
                dt { "Id" } dd { code { (self.id) } }
                @if let Some(organization) = &self.organization_id { dt { "Organization" } dd { code { (organization) } } }
                dt { "Created" } dd { (time(self.created_at)) }
            }
            (edit_form(frame, self, fields, errors, &FIELDS))
        }
    }

    async fn remove(
        api: &ManagementApi,
        principal: &Principal,
        request: &HttpRequest,
        id: &str,
    ) -> Result<(), ApiError> {
        delete_user(api, principal, request, id).await.map(drop)
    }
}

fn creation_page(signed_in: &SignedIn, values: &Form, errors: &FieldErrors) -> HttpResponse {
    let fields = html! {
        (text_input(errors, "email", "Email", "email", &values.text("email"), None))
        (text_input(errors, "name", "Name (optional)", "text", &values.text("name"), None))
        (pages::password_input(errors, "Password", "8 characters or more."))
        (choice(errors, "role", "Role", &ROLES, values.one("role").unwrap_or(ROLE_MEMBER)))
        @if signed_in.is_tenant_admin() {
            (text_input(errors, "organization_id", "Organization (optional)", "text", &values.text("organization_id"), None))
        }
    };
    create_page::<User>(signed_in, fields, errors, &FIELDS)
}

/// `GET /console/{tenant_id}/users/new`.
pub async fn new(
    request: HttpRequest,
    tenant_id: web::Path<String>,
    api: web::Data<ManagementApi>,
) -> Result<HttpResponse, ConsoleError> {
    let signed_in = objects::creating::<User>(&request, &tenant_id, &api).await?;
    let answer = creation_page(&signed_in, &Form::from_pairs([]), &FieldErrors::default());
    Ok(signed_in.refreshed(answer, &api.oauth))
}

/// `POST /console/{tenant_id}/users`.
pub async fn create(
    request: HttpRequest,
    tenant_id: web::Path<String>,
    body: Result<FormBody, OAuthError>,
    api: web::Data<ManagementApi>,
) -> Result<HttpResponse, ConsoleError> {
    let form = Form::of(body)?;
    let signed_in = SignedIn::posting(&request, &tenant_id, &api, &form).await?;
    let input = CreateUser {
        email: Some(form.text("email")),
        name: form.optional("name"),
        // Passwords are taken as typed: spaces may be part of them.
        password: form.password("password"),
        email_verified: None,
        organization_id: form.optional("organization_id"),
        role: form.optional("role"),
    };
    let answer = match form_outcome(create_user(&api, &signed_in.principal, &request, input).await)? {
        Ok(user) => see_other(&path_of::<User>(&signed_in.frame(), Some(&user.id))),
        Err(errors) => creation_page(&signed_in, &form, &errors),
    };
    Ok(signed_in.refreshed(answer, &api.oauth))
}

/// `POST /console/{tenant_id}/users/{id}`: the edit form.
pub async fn update(
    request: HttpRequest,
    path: web::Path<(String, String)>,
    body: Result<FormBody, OAuthError>,
    api: web::Data<ManagementApi>,
) -> Result<HttpResponse, ConsoleError> {
    objects::update::<User, _, _>(request, path, body, api, |api, principal, request, id, form| async move {
        let input = UpdateUser {
            email: None,
            name: Some(form.text("name")),
            password: form.password("password"),
            email_verified: None,
            role: form.optional("role"),
        };
        let result = update_user(&api, &principal, &request, &id, input).await;
        (form, result)
    })
    .await
}
