//! The organizations pages (tenant admins): create, rename, change domains, delete, through the
//! API's operations (`tollbooth_resource::organizations`).

use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use tollbooth_oauth::error::OAuthError;
use tollbooth_oauth::request::FormBody;
use tollbooth_resource::auth::Principal;
use tollbooth_resource::error::ApiError;
use tollbooth_resource::organizations::{
    CreateOrganization, UpdateOrganization, create_organization, delete_organization, update_organization,
};
use tollbooth_resource::{ManagementApi, scopes};
use tollbooth_storage::organizations::Organization;

use crate::error::{ConsoleError, see_other};
use crate::form::Form;
use crate::objects::{self, Managed, create_page, edit_form, form_outcome, path_of};
use crate::pages::{FieldErrors, Frame, Section, text_area, text_input, time};
use crate::signed_in::SignedIn;

const FIELDS: [&str; 2] = ["name", "domains"];

/// The organization's domains. They are stored as the JSON text the API wrote; text that is not
/// shows as such, so that saving the form cannot silently drop what was there.
fn domains_of(organization: &Organization) -> Vec<String> {
    serde_json::from_str(&organization.domains).unwrap_or_else(|_| vec![organization.domains.clone()])
}

impl Managed for Organization {
    const SECTION: Section = Section::Organizations;
    const PATH: &'static str = "organizations";
    const READ_SCOPE: &'static str = scopes::ORGANIZATIONS_READ;
    const WRITE_SCOPE: &'static str = scopes::ORGANIZATIONS_WRITE;
    const TENANT_LEVEL: bool = true;
    const TITLE: &'static str = "Organizations";
    const CAPTION: &'static str = "Organizations of the tenant, newest first";
    const CREATE: &'static str = "Create an organization";
    const HEADINGS: &'static [&'static str] = &["Name", "Id", "Domains", "Created"];

    fn cells(&self, frame: &Frame<'_>) -> Markup {
        html! {
            td { a href=(path_of::<Organization>(frame, Some(&self.id))) { (self.name) } }
            td { code { (self.id) } }
            td { (domains_of(self).join(" ")) }
            td { (time(self.created_at)) }
        }
    }

    fn id(&self) -> &str {
        &self.id
    }

    fn label(&self) -> &str {
        &self.name
    }

    fn values(&self) -> Form {
        Form::from_pairs([("name", self.name.clone()), ("domains", domains_of(self).join("\n"))])
    }

    fn page(&self, frame: &Frame<'_>, values: &Form, errors: &FieldErrors) -> Markup {
        html! {
            dl.facts {
                dt { "Id" } dd { code { (self.id) } }
                dt { "Created" } dd { (time(self.created_at)) }
            }
            p.hint { "Deleting an organization deletes its users, clients and API keys." }
            (edit_form(frame, self, fields(values, errors), errors, &FIELDS))
        }
    }

    async fn remove(
        api: &ManagementApi,
        principal: &Principal,
        request: &HttpRequest,
        id: &str,
    ) -> Result<(), ApiError> {
        delete_organization(api, principal, request, id).await.map(drop)
    }
}

fn fields(values: &Form, errors: &FieldErrors) -> Markup {
    html! {
        (text_input(errors, "name", "Name", "text", &values.text("name"), None))
        (text_area(errors, "domains", "Domains", &values.text("domains"), Some("One per line, e.g. acme.example.")))
    }
}

/// `GET /console/{tenant_id}/organizations/new`.
pub async fn new(
    request: HttpRequest,
    tenant_id: web::Path<String>,
    api: web::Data<ManagementApi>,
) -> Result<HttpResponse, ConsoleError> {
    let signed_in = objects::creating::<Organization>(&request, &tenant_id, &api).await?;
    let errors = FieldErrors::default();
    let answer = create_page::<Organization>(&signed_in, fields(&Form::from_pairs([]), &errors), &errors, &FIELDS);
    Ok(signed_in.refreshed(answer, &api.oauth))
}

/// `POST /console/{tenant_id}/organizations`.
pub async fn create(
    request: HttpRequest,
    tenant_id: web::Path<String>,
    body: Result<FormBody, OAuthError>,
    api: web::Data<ManagementApi>,
) -> Result<HttpResponse, ConsoleError> {
    let form = Form::of(body)?;
    let signed_in = SignedIn::posting(&request, &tenant_id, &api, &form).await?;
    let input =
        CreateOrganization { name: Some(form.text("name")), domains: Some(form.words("domains")), metadata: None };
    let answer = match form_outcome(create_organization(&api, &signed_in.principal, &request, input).await)? {
        Ok(organization) => see_other(&path_of::<Organization>(&signed_in.frame(), Some(&organization.id))),
        Err(errors) => {
            let errors = errors.naming_entries("domains", &form.words("domains"));
            create_page::<Organization>(&signed_in, fields(&form, &errors), &errors, &FIELDS)
        }
    };
    Ok(signed_in.refreshed(answer, &api.oauth))
}

/// `POST /console/{tenant_id}/organizations/{id}`: the edit form.
pub async fn update(
    request: HttpRequest,
    path: web::Path<(String, String)>,
    body: Result<FormBody, OAuthError>,
    api: web::Data<ManagementApi>,
) -> Result<HttpResponse, ConsoleError> {
    objects::update::<Organization, _, _>(request, path, body, api, |api, principal, request, id, form| async move {
        let input =
            UpdateOrganization { name: Some(form.text("name")), domains: Some(form.words("domains")), metadata: None };
        let result = update_organization(&api, &principal, &request, &id, input).await;
        (form, result)
    })
    .await
}
