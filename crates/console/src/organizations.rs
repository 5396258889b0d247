//! Organizations in the console (docs/console.md, "Pages"; tenant admins): create, rename,
//! change domains, delete, through the API's operations (`tollbooth_resource::organizations`).

use maud::{Markup, html};
use tollbooth_resource::error::ApiError;
use tollbooth_resource::organizations::{
    CreateOrganization, UpdateOrganization, create_organization, delete_organization, update_organization,
};
use tollbooth_resource::scopes;
use tollbooth_storage::organizations::Organization;

use crate::form::Form;
use crate::objects::{Caller, Created, Edited, Managed, edit_form, path_of};
use crate::pages::{FieldErrors, Frame, Section, choice, text_area, text_input, time};
use crate::signed_in::SignedIn;

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
    const FIELDS: &'static [&'static str] = &["name", "domains", "plan"];

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
        Form::from_pairs([
            ("name", self.name.clone()),
            ("domains", domains_of(self).join("\n")),
            ("plan", self.plan.clone().unwrap_or_default()),
        ])
    }

    fn page(&self, frame: &Frame<'_>, values: &Form, errors: &FieldErrors) -> Markup {
        html! {
            dl.facts {
                dt { "Id" } dd { code { (self.id) } }
                dt { "Created" } dd { (time(self.created_at)) }
            }
            p.hint { "Deleting an organization deletes its users, clients and API keys." }
            (edit_form(frame, self, fields(frame, values, errors), errors))
        }
    }

    fn creation_fields(signed_in: &SignedIn, values: &Form, errors: &FieldErrors) -> Markup {
        fields(&signed_in.frame(), values, errors)
    }

    async fn create(caller: &Caller<'_>, form: &Form) -> Result<Created<Self>, ApiError> {
        let input = CreateOrganization {
            name: Some(form.text("name")),
            domains: Some(form.words("domains")),
            metadata: None,
            plan: form.optional("plan"),
        };
        create_organization(caller.api, caller.principal, caller.request, input).await.map(Created::Object)
    }

    fn named_errors(errors: FieldErrors, form: &Form) -> FieldErrors {
        errors.naming_entries("domains", &form.words("domains"))
    }

    async fn remove(caller: &Caller<'_>, id: &str) -> Result<(), ApiError> {
        delete_organization(caller.api, caller.principal, caller.request, id).await.map(drop)
    }
}

impl Edited for Organization {
    async fn update(caller: &Caller<'_>, id: &str, form: &Form) -> Result<Self, ApiError> {
        let input = UpdateOrganization {
            name: Some(form.text("name")),
            domains: Some(form.words("domains")),
            metadata: None,
            plan: Some(form.optional("plan")),
        };
        update_organization(caller.api, caller.principal, caller.request, id, input).await
    }
}

fn fields(frame: &Frame<'_>, values: &Form, errors: &FieldErrors) -> Markup {
    let plans: Vec<(&str, &str)> = std::iter::once(("", "The tenant's plan"))
        .chain(frame.plans.iter().map(|plan| (plan.as_str(), plan.as_str())))
        .collect();
    html! {
        (text_input(errors, "name", "Name", "text", &values.text("name"), None))
        (text_area(errors, "domains", "Domains", &values.text("domains"), Some("One per line, e.g. acme.example.")))
        (choice(errors, "plan", "Plan for its calls to your APIs", &plans, values.one("plan").unwrap_or_default()))
    }
}
