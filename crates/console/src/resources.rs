//! APIs in the console (resources, docs/api.md "Resources"; tenant admins): define an API with
//! its identifier and scopes, change it, delete it, through the API's operations
//! (`tollbooth_resource::resources`).

use maud::{Markup, html};
use tollbooth_resource::error::ApiError;
use tollbooth_resource::resources::{
    CreateResource, UpdateResource, create_resource, delete_resource, update_resource,
};
use tollbooth_resource::scopes;
use tollbooth_storage::resources::Resource;

use crate::form::Form;
use crate::objects::{Caller, Created, Edited, Managed, edit_form, path_of};
use crate::pages::{FieldErrors, Frame, Section, text_input, time};
use crate::signed_in::SignedIn;

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
    const FIELDS: &'static [&'static str] = &["name", "identifier", "scopes"];

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
            (edit_form(frame, self, fields(values, errors), errors))
        }
    }

    fn creation_fields(_signed_in: &SignedIn, values: &Form, errors: &FieldErrors) -> Markup {
        fields(values, errors)
    }

    async fn create(caller: &Caller<'_>, form: &Form) -> Result<Created<Self>, ApiError> {
        let input = CreateResource {
            name: Some(form.text("name")),
            identifier: Some(form.text("identifier")),
            scopes: Some(form.words("scopes")),
        };
        create_resource(caller.api, caller.principal, caller.request, input).await.map(Created::Object)
    }

    fn named_errors(errors: FieldErrors, form: &Form) -> FieldErrors {
        errors.naming_entries("scopes", &form.words("scopes"))
    }

    async fn remove(caller: &Caller<'_>, id: &str) -> Result<(), ApiError> {
        delete_resource(caller.api, caller.principal, caller.request, id).await.map(drop)
    }
}

impl Edited for Resource {
    async fn update(caller: &Caller<'_>, id: &str, form: &Form) -> Result<Self, ApiError> {
        let input = UpdateResource {
            name: Some(form.text("name")),
            identifier: Some(form.text("identifier")),
            scopes: Some(form.words("scopes")),
        };
        update_resource(caller.api, caller.principal, caller.request, id, input).await
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
