//! The APIs pages (resources, docs/api.md "Resources"; tenant admins): define an API with its identifier and scopes,
//! change it, delete it, through the API's operations (`tollbooth_resource::resources`).

use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use tollbooth_oauth::error::OAuthError;
use tollbooth_oauth::request::FormBody;
use tollbooth_resource::auth::Principal;
use tollbooth_resource::error::ApiError;
use tollbooth_resource::resources::{
    CreateResource, UpdateResource, create_resource, delete_resource, update_resource,
};
use tollbooth_resource::{ManagementApi, scopes};
use tollbooth_storage::resources::Resource;

use crate::error::{ConsoleError, see_other};
use crate::form::Form;
use crate::objects::{self, Managed, create_page, edit_form, form_outcome, path_of};
use crate::pages::{FieldErrors, Frame, Section, text_input, time};
use crate::signed_in::SignedIn;

const FIELDS: [&str; 3] = ["name", "identifier", "scopes"];

impl Managed for Resource {
    const SECTION: Section = Section::Resources;
    const PATH: &'static str = "resources";
    const READ_SCOPE: &'static str = scopes::RESOURCES_READ;
    const WRITE_SCOPE: &'static str = scopes::RESOURCES_WRITE;
    const TENANT_LEVEL: bool = true;
    const TITLE: &'static str = "APIs";
    const CAPTION: &'static str = "The tenant's APIs (resource servers), newest first";
    const CREATE: &'static str = "Define an API";
    const HEADINGS: &'static [&'static str] = &["Name", "Identifier (audience)", "Scopes"];

    fn cells(&self, frame: &Frame<'_>) -> Markup {
        html! {
            td { a href=(path_of::<Resource>(frame, Some(&self.id))) { (self.name) } }
            td { code { (self.identifier) } }
            td { (self.scopes.join(" ")) }
        }
    }

    fn id(&self) -> &str {
        &self.id
    }

    fn label(&self) -> &str {
        &self.name
    }

    fn values(&self) -> Form {
        Form::from_pairs([
            ("name", self.name.clone()),
            ("identifier", self.identifier.clone()),
            ("scopes", self.scopes.join(" ")),
        ])
    }

    fn page(&self, frame: &Frame<'_>, values: &Form, errors: &FieldErrors) -> Markup {
        html! {
            dl.facts {
                dt { "Id" } dd { code { (self.id) } }
                dt { "Created" } dd { (time(self.created_at)) }
            }
            (edit_form(frame, self, fields(values, errors), errors, &FIELDS))
        }
    }

    async fn remove(
        api: &ManagementApi,
        principal: &Principal,
        request: &HttpRequest,
        id: &str,
    ) -> Result<(), ApiError> {
        delete_resource(api, principal, request, id).await.map(drop)
    }
}

fn fields(values: &Form, errors: &FieldErrors) -> Markup {
    html! {
        (text_input(errors, "name", "Name", "text", &values.text("name"), None))
        (text_input(errors, "identifier", "Identifier", "url", &values.text("identifier"),
            Some("The API's absolute https URI: the audience of its tokens, e.g. https://api.example.com.")))
        (text_input(errors, "scopes", "Scopes", "text", &values.text("scopes"), Some("Separated by spaces, e.g. orders:read orders:write.")))
    }
}

/// `GET /console/{tenant_id}/resources/new`.
pub async fn new(
    request: HttpRequest,
    tenant_id: web::Path<String>,
    api: web::Data<ManagementApi>,
) -> Result<HttpResponse, ConsoleError> {
    let signed_in = objects::creating::<Resource>(&request, &tenant_id, &api).await?;
    let errors = FieldErrors::default();
    let answer = create_page::<Resource>(&signed_in, fields(&Form::from_pairs([]), &errors), &errors, &FIELDS);
    Ok(signed_in.refreshed(answer, &api.oauth))
}

fn input_of(form: &Form) -> (Option<String>, Option<String>, Option<Vec<String>>) {
    (Some(form.text("name")), Some(form.text("identifier")), Some(form.words("scopes")))
}

/// `POST /console/{tenant_id}/resources`.
pub async fn create(
    request: HttpRequest,
    tenant_id: web::Path<String>,
    body: Result<FormBody, OAuthError>,
    api: web::Data<ManagementApi>,
) -> Result<HttpResponse, ConsoleError> {
    let form = Form::of(body)?;
    let signed_in = SignedIn::posting(&request, &tenant_id, &api, &form).await?;
    let (name, identifier, scopes) = input_of(&form);
    let input = CreateResource { name, identifier, scopes };
    let answer = match form_outcome(create_resource(&api, &signed_in.principal, &request, input).await)? {
        Ok(resource) => see_other(&path_of::<Resource>(&signed_in.frame(), Some(&resource.id))),
        Err(errors) => {
            let errors = errors.naming_entries("scopes", &form.words("scopes"));
            create_page::<Resource>(&signed_in, fields(&form, &errors), &errors, &FIELDS)
        }
    };
    Ok(signed_in.refreshed(answer, &api.oauth))
}

/// `POST /console/{tenant_id}/resources/{id}`: the edit form.
pub async fn update(
    request: HttpRequest,
    path: web::Path<(String, String)>,
    body: Result<FormBody, OAuthError>,
    api: web::Data<ManagementApi>,
) -> Result<HttpResponse, ConsoleError> {
    objects::update::<Resource, _, _>(request, path, body, api, |api, principal, request, id, form| async move {
        let (name, identifier, scopes) = input_of(&form);
        let result =
            update_resource(&api, &principal, &request, &id, UpdateResource { name, identifier, scopes }).await;
        (form, result)
    })
    .await
}
