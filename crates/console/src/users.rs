//! Users in the console (docs/console.md, "Pages"): create a user with a password and a role,
//! change their name, role or password, delete them, through the API's operations
//! (`tollbooth_resource::users`), which also decide who may make or change an admin.

use maud::{Markup, html};
use tollbooth_resource::error::ApiError;
use tollbooth_resource::scopes;
use tollbooth_resource::users::{CreateUser, UpdateUser, create_user, delete_user, update_user};
use tollbooth_storage::users::{ROLE_ADMIN, ROLE_MEMBER, User};

use crate::form::Form;
use crate::objects::{Caller, Created, Edited, Managed, edit_form, path_of};
use crate::pages::{self, FieldErrors, Frame, Section, choice, text_input, time};
use crate::signed_in::SignedIn;

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
    const FIELDS: &'static [&'static str] = &["email", "name", "password", "role", "organization_id"];

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
            (edit_form(frame, self, fields, errors))
        }
    }

    fn creation_fields(signed_in: &SignedIn, values: &Form, errors: &FieldErrors) -> Markup {
        html! {
            (text_input(errors, "email", "Email", "email", &values.text("email"), None))
            (text_input(errors, "name", "Name (optional)", "text", &values.text("name"), None))
            (pages::password_input(errors, "Password", "8 characters or more."))
            (choice(errors, "role", "Role", &ROLES, values.one("role").unwrap_or(ROLE_MEMBER)))
            @if signed_in.is_tenant_admin() {
                (text_input(errors, "organization_id", "Organization (optional)", "text", &values.text("organization_id"), None))
            }
        }
    }

    async fn create(caller: &Caller<'_>, form: &Form) -> Result<Created<Self>, ApiError> {
        let input = CreateUser {
            email: Some(form.text("email")),
            name: form.optional("name"),
            password: form.password("password"),
            email_verified: None,
            organization_id: form.optional("organization_id"),
            role: form.optional("role"),
        };
        create_user(caller.api, caller.principal, caller.request, input).await.map(Created::Object)
    }

    async fn remove(caller: &Caller<'_>, id: &str) -> Result<(), ApiError> {
        delete_user(caller.api, caller.principal, caller.request, id).await.map(drop)
    }
}

impl Edited for User {
    async fn update(caller: &Caller<'_>, id: &str, form: &Form) -> Result<Self, ApiError> {
        let input = UpdateUser {
            email: None,
            name: Some(form.text("name")),
            password: form.password("password"),
            email_verified: None,
            role: form.optional("role"),
        };
        update_user(caller.api, caller.principal, caller.request, id, input).await
    }
}
