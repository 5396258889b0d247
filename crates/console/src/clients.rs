//! The clients pages: create a confidential or public client (its secret shown once), edit its
//! redirect URIs, grant types and scopes, rotate its secret, delete it, through the API's
//! operations (`tollbooth_resource::clients`).

use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use secrecy::{ExposeSecret, SecretString};
use tollbooth_oauth::error::OAuthError;
use tollbooth_oauth::grants::GrantType;
use tollbooth_oauth::oidc::{DEFAULT_ID_TOKEN_ALGORITHM, ID_TOKEN_ALGORITHMS};
use tollbooth_oauth::request::FormBody;
use tollbooth_resource::auth::Principal;
use tollbooth_resource::clients::{
    CreateClient, RotateSecret, UpdateClient, create_client, delete_client, rotate_client_secret, update_client,
};
use tollbooth_resource::error::{ApiError, FieldError};
use tollbooth_resource::{ManagementApi, scopes};
use tollbooth_storage::clients::Client;

use crate::error::ConsoleError;
use crate::form::Form;
use crate::objects::{
    self, Managed, create_page, edit_form, form_outcome, path_of, unchanged_since_shown, version_field,
};
use crate::pages::{self, FieldErrors, Frame, Section, check_boxes, choice, csrf_field, text_area, text_input, time};
use crate::signed_in::SignedIn;

const GRANTS: [(&str, &str); 3] = [
    (GrantType::AuthorizationCode.name(), "Authorization code (people sign in)"),
    (GrantType::RefreshToken.name(), "Refresh token"),
    (GrantType::ClientCredentials.name(), "Client credentials (machine to machine)"),
];

const FIELDS: [&str; 8] = [
    "name",
    "redirect_uris",
    "grant_types",
    "scopes",
    "access_token_ttl",
    "post_logout_redirect_uris",
    "id_token_signed_response_alg",
    "organization_id",
];

impl Managed for Client {
    const SECTION: Section = Section::Clients;
    const PATH: &'static str = "clients";
    const READ_SCOPE: &'static str = scopes::CLIENTS_READ;
    const WRITE_SCOPE: &'static str = scopes::CLIENTS_WRITE;
    const TITLE: &'static str = "Clients";
    const CAPTION: &'static str = "OAuth clients within your reach, newest first";
    const CREATE: &'static str = "Create a client";
    const HEADINGS: &'static [&'static str] = &["Name", "Client id", "Type", "Grant types", "Scopes"];

    fn cells(&self, frame: &Frame<'_>) -> Markup {
        html! {
            td { a href=(path_of::<Client>(frame, Some(&self.id))) { (self.name) } }
            td { code { (self.id) } }
            td { @if self.confidential { "confidential" } @else { "public" } }
            td { (self.grant_types.join(" ")) }
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
        let mut pairs = vec![
            ("name", self.name.clone()),
            ("redirect_uris", self.redirect_uris.join("\n")),
            ("scopes", self.scopes.join(" ")),
            ("access_token_ttl", self.access_token_ttl.to_string()),
            ("post_logout_redirect_uris", self.post_logout_redirect_uris.join("\n")),
            ("id_token_signed_response_alg", self.id_token_signed_response_alg.clone()),
        ];
        pairs.extend(self.grant_types.iter().map(|grant| ("grant_types", grant.clone())));
        if self.skip_consent {
            pairs.push(("skip_consent", "true".to_owned()));
        }
        Form::from_pairs(pairs)
    }

    fn page(&self, frame: &Frame<'_>, values: &Form, errors: &FieldErrors) -> Markup {
        let here = path_of::<Client>(frame, Some(&self.id));
        html! {
            dl.facts {
                dt { "Client id" } dd { code { (self.id) } }
                dt { "Type" } dd { @if self.confidential { "confidential" } @else { "public" } }
                @if let Some(redacted) = &self.secret_redacted { dt { "Secret" } dd { code { (redacted) } } }
                @if let Some(until) = self.previous_secret_expires_at { dt { "Previous secret" } dd { "works until " (time(until)) } }
                @if let Some(organization) = &self.organization_id { dt { "Organization" } dd { code { (organization) } } }
                dt { "Created" } dd { (time(self.created_at)) }
            }
            (edit_form(frame, self, fields(values, errors, self.confidential), errors, &FIELDS))
            @if self.confidential {
                h2 { "Rotate the secret" }
                form method="post" action={ (here) "/rotate" } {
                    (csrf_field(frame))
                    (version_field(self))
                    (pages::grace_period_choice())
                    div.actions { button type="submit" { "Rotate the secret" } }
                }
            }
        }
    }

    async fn remove(
        api: &ManagementApi,
        principal: &Principal,
        request: &HttpRequest,
        id: &str,
    ) -> Result<(), ApiError> {
        delete_client(api, principal, request, id).await.map(drop)
    }
}

/// The fields a client's create and edit forms share.
fn fields(values: &Form, errors: &FieldErrors, confidential: bool) -> Markup {
    let grants: Vec<(&str, &str)> =
        GRANTS.into_iter().filter(|(grant, _)| confidential || *grant != GrantType::ClientCredentials.name()).collect();
    let algorithms: Vec<(&str, &str)> = ID_TOKEN_ALGORITHMS.iter().map(|a| (*a, *a)).collect();
    let algorithm = values.one("id_token_signed_response_alg").unwrap_or(DEFAULT_ID_TOKEN_ALGORITHM);
    html! {
        (text_input(errors, "name", "Name", "text", &values.text("name"), None))
        (text_area(errors, "redirect_uris", "Redirect URIs", &values.text("redirect_uris"),
            Some("One per line: https, or http on a loopback host. Matched exactly.")))
        (check_boxes(errors, "grant_types", "Grant types", &grants, &|grant| values.checked("grant_types", grant)))
        (text_input(errors, "scopes", "Scopes", "text", &values.text("scopes"), Some("Separated by spaces.")))
        (text_input(errors, "access_token_ttl", "Access token lifetime (seconds)", "number", &values.text("access_token_ttl"), None))
        (text_area(errors, "post_logout_redirect_uris", "Post-logout redirect URIs", &values.text("post_logout_redirect_uris"),
            Some("One per line; where OpenID Connect logout may return to.")))
        (choice(errors, "id_token_signed_response_alg", "ID token signature", &algorithms, algorithm))
        @if confidential {
            (check_boxes(errors, "skip_consent", "Consent", &[("true", "Skip the consent page (first-party app)")],
                &|_| values.checked("skip_consent", "true")))
        }
    }
}

/// The lifetime typed, or the field's error.
fn ttl(form: &Form) -> Result<Option<i64>, FieldErrors> {
    match form.optional("access_token_ttl").map(|typed| typed.parse::<i64>()) {
        None => Ok(None),
        Some(Ok(seconds)) => Ok(Some(seconds)),
        Some(Err(_)) => {
            let message = "access_token_ttl is a whole number of seconds.";
            Err(FieldErrors(vec![FieldError::new("access_token_ttl", "invalid", message)]))
        }
    }
}

fn grant_types(form: &Form) -> Vec<String> {
    form.all("grant_types").map(str::to_owned).collect()
}

/// `GET /console/{tenant_id}/clients/new`.
pub async fn new(
    request: HttpRequest,
    tenant_id: web::Path<String>,
    api: web::Data<ManagementApi>,
) -> Result<HttpResponse, ConsoleError> {
    let signed_in = objects::creating::<Client>(&request, &tenant_id, &api).await?;
    let defaults = Form::from_pairs([("grant_types", GrantType::AuthorizationCode.name().to_owned())]);
    let answer = creation_page(&signed_in, &defaults, &FieldErrors::default());
    Ok(signed_in.refreshed(answer, &api.oauth))
}

fn creation_page(signed_in: &SignedIn, values: &Form, errors: &FieldErrors) -> HttpResponse {
    let kinds =
        [("confidential", "Confidential: a server that keeps a secret"), ("public", "Public: a browser or mobile app")];
    let kind = values.one("kind").unwrap_or("confidential");
    let content = html! {
        (choice(errors, "kind", "Type", &kinds, kind))
        (fields(values, errors, true))
        @if signed_in.is_tenant_admin() {
            (text_input(errors, "organization_id", "Organization (optional)", "text", &values.text("organization_id"), None))
        }
    };
    create_page::<Client>(signed_in, content, errors, &FIELDS)
}

/// `POST /console/{tenant_id}/clients`: the client, with its secret shown this once.
pub async fn create(
    request: HttpRequest,
    tenant_id: web::Path<String>,
    body: Result<FormBody, OAuthError>,
    api: web::Data<ManagementApi>,
) -> Result<HttpResponse, ConsoleError> {
    let form = Form::of(body)?;
    let signed_in = SignedIn::posting(&request, &tenant_id, &api, &form).await?;
    let confidential = form.one("kind") != Some("public");
    let answer = match ttl(&form) {
        Err(errors) => creation_page(&signed_in, &form, &errors),
        Ok(access_token_ttl) => {
            let input = CreateClient {
                name: Some(form.text("name")),
                redirect_uris: Some(form.words("redirect_uris")),
                grant_types: Some(grant_types(&form)),
                scopes: Some(form.words("scopes")),
                confidential: Some(confidential),
                skip_consent: Some(form.checked("skip_consent", "true")),
                access_token_ttl,
                organization_id: form.optional("organization_id"),
                post_logout_redirect_uris: Some(form.words("post_logout_redirect_uris")),
                id_token_signed_response_alg: form.optional("id_token_signed_response_alg"),
            };
            match form_outcome(create_client(&api, &signed_in.principal, &request, input).await)? {
                Ok((client, Some(secret))) => secret_page(&signed_in.frame(), &client, &secret, "Client created"),
                Ok((client, None)) => see_client(&signed_in.frame(), &client),
                Err(errors) => {
                    creation_page(&signed_in, &form, &errors.naming_entries("scopes", &form.words("scopes")))
                }
            }
        }
    };
    Ok(signed_in.refreshed(answer, &api.oauth))
}

fn see_client(frame: &Frame<'_>, client: &Client) -> HttpResponse {
    crate::error::see_other(&path_of::<Client>(frame, Some(&client.id)))
}

/// `POST /console/{tenant_id}/clients/{id}`: the edit form.
pub async fn update(
    request: HttpRequest,
    path: web::Path<(String, String)>,
    body: Result<FormBody, OAuthError>,
    api: web::Data<ManagementApi>,
) -> Result<HttpResponse, ConsoleError> {
    objects::update::<Client, _, _>(request, path, body, api, |api, principal, request, id, form| async move {
        let access_token_ttl = match ttl(&form) {
            Ok(ttl) => ttl,
            Err(errors) => return (form, Err(ApiError::validation(errors.0))),
        };
        let input = UpdateClient {
            name: Some(form.text("name")),
            redirect_uris: Some(form.words("redirect_uris")),
            grant_types: Some(grant_types(&form)),
            scopes: Some(form.words("scopes")),
            // A public client has no such box; `false` is its only valid value.
            skip_consent: Some(form.checked("skip_consent", "true")),
            access_token_ttl,
            post_logout_redirect_uris: Some(form.words("post_logout_redirect_uris")),
            id_token_signed_response_alg: form.optional("id_token_signed_response_alg"),
        };
        let result = update_client(&api, &principal, &request, &id, input).await;
        (form, result)
    })
    .await
}

/// `POST /console/{tenant_id}/clients/{id}/rotate`: the new secret, shown this once.
pub async fn rotate(
    request: HttpRequest,
    path: web::Path<(String, String)>,
    body: Result<FormBody, OAuthError>,
    api: web::Data<ManagementApi>,
) -> Result<HttpResponse, ConsoleError> {
    let (tenant_id, id) = path.into_inner();
    let form = Form::of(body)?;
    let signed_in = SignedIn::posting(&request, &tenant_id, &api, &form).await?;
    let input = RotateSecret { grace_period_seconds: Some(form.grace_period()?) };
    // A second post of this form (a reload, a double click) would end the old secret's grace.
    unchanged_since_shown::<Client>(&api, &signed_in, &id, &form).await?;
    let (client, secret) = rotate_client_secret(&api, &signed_in.principal, &request, &id, input)
        .await
        .map_err(ConsoleError::of_one_choice_form)?;
    let answer = secret_page(&signed_in.frame(), &client, &secret, "Client secret rotated");
    Ok(signed_in.refreshed(answer, &api.oauth))
}

fn secret_page(frame: &Frame<'_>, client: &Client, secret: &SecretString, title: &str) -> HttpResponse {
    let done = path_of::<Client>(frame, Some(&client.id));
    let what = html! { "the client " strong { (client.name) } " (" code { (client.id) } ")" };
    pages::secret_page(frame, Section::Clients, title, what, secret.expose_secret(), &done)
}
