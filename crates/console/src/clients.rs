//! Clients in the console (docs/console.md, "Pages"): create a confidential or public client
//! (its secret shown once), edit its redirect URIs, grant types and scopes, rotate its secret,
//! delete it, through the API's operations (`tollbooth_resource::clients`).

use maud::{Markup, html};
use secrecy::SecretString;
use tollbooth_oauth::grants::GrantType;
use tollbooth_oauth::oidc::{DEFAULT_ID_TOKEN_ALGORITHM, ID_TOKEN_ALGORITHMS};
use tollbooth_resource::clients::{
    CreateClient, RotateSecret, UpdateClient, create_client, delete_client, rotate_client_secret, update_client,
};
use tollbooth_resource::error::{ApiError, FieldError};
use tollbooth_resource::scopes;
use tollbooth_storage::clients::Client;

use crate::form::Form;
use crate::objects::{Caller, Created, Edited, Managed, Rotated, edit_form, path_of, rotate_form};
use crate::pages::{FieldErrors, Frame, Section, check_boxes, choice, text_area, text_input, time};
use crate::signed_in::SignedIn;

const GRANTS: [(&str, &str); 3] = [
    (GrantType::AuthorizationCode.name(), "Authorization code (people sign in)"),
    (GrantType::RefreshToken.name(), "Refresh token"),
    (GrantType::ClientCredentials.name(), "Client credentials (machine to machine)"),
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
    const FIELDS: &'static [&'static str] = &[
        "kind",
        "name",
        "redirect_uris",
        "grant_types",
        "scopes",
        "access_token_ttl",
        "post_logout_redirect_uris",
        "id_token_signed_response_alg",
        "skip_consent",
        "organization_id",
    ];

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
        html! {
            dl.facts {
                dt { "Client id" } dd { code { (self.id) } }
                dt { "Type" } dd { @if self.confidential { "confidential" } @else { "public" } }
                @if let Some(redacted) = &self.secret_redacted { dt { "Secret" } dd { code { (redacted) } } }
                @if let Some(until) = self.previous_secret_expires_at { dt { "Previous secret" } dd { "works until " (time(until)) } }
                @if let Some(organization) = &self.organization_id { dt { "Organization" } dd { code { (organization) } } }
                dt { "Created" } dd { (time(self.created_at)) }
            }
            (edit_form(frame, self, fields(values, errors, self.confidential), errors))
            @if self.confidential { (rotate_form(frame, self)) }
        }
    }

    fn creation_defaults() -> Form {
        Form::from_pairs([("grant_types", GrantType::AuthorizationCode.name().to_owned())])
    }

    fn creation_fields(signed_in: &SignedIn, values: &Form, errors: &FieldErrors) -> Markup {
        let kinds = [
            ("confidential", "Confidential: a server that keeps a secret"),
            ("public", "Public: a browser or mobile app"),
        ];
        html! {
            (choice(errors, "kind", "Type", &kinds, values.one("kind").unwrap_or("confidential")))
            (fields(values, errors, true))
            @if signed_in.is_tenant_admin() {
                (text_input(errors, "organization_id", "Organization (optional)", "text", &values.text("organization_id"), None))
            }
        }
    }

    async fn create(caller: &Caller<'_>, form: &Form) -> Result<Created<Self>, ApiError> {
        let input = CreateClient {
            name: Some(form.text("name")),
            redirect_uris: Some(form.words("redirect_uris")),
            grant_types: Some(grant_types(form)),
            scopes: Some(form.words("scopes")),
            confidential: Some(form.one("kind") != Some("public")),
            skip_consent: Some(form.checked("skip_consent", "true")),
            access_token_ttl: ttl(form)?,
            organization_id: form.optional("organization_id"),
            post_logout_redirect_uris: Some(form.words("post_logout_redirect_uris")),
            id_token_signed_response_alg: form.optional("id_token_signed_response_alg"),
        };
        Ok(match create_client(caller.api, caller.principal, caller.request, input).await? {
            (client, Some(secret)) => Created::WithSecret(client, secret),
            (client, None) => Created::Object(client),
        })
    }

    fn named_errors(errors: FieldErrors, form: &Form) -> FieldErrors {
        errors
            .naming_entries("scopes", &form.words("scopes"))
            .naming_entries("redirect_uris", &form.words("redirect_uris"))
            .naming_entries("post_logout_redirect_uris", &form.words("post_logout_redirect_uris"))
    }

    async fn remove(caller: &Caller<'_>, id: &str) -> Result<(), ApiError> {
        delete_client(caller.api, caller.principal, caller.request, id).await.map(drop)
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

impl Edited for Client {
    async fn update(caller: &Caller<'_>, id: &str, form: &Form) -> Result<Self, ApiError> {
        let input = UpdateClient {
            name: Some(form.text("name")),
            redirect_uris: Some(form.words("redirect_uris")),
            grant_types: Some(grant_types(form)),
            scopes: Some(form.words("scopes")),
            // A public client has no such box; `false` is its only valid value.
            skip_consent: Some(form.checked("skip_consent", "true")),
            access_token_ttl: ttl(form)?,
            post_logout_redirect_uris: Some(form.words("post_logout_redirect_uris")),
            id_token_signed_response_alg: form.optional("id_token_signed_response_alg"),
        };
        update_client(caller.api, caller.principal, caller.request, id, input).await
    }
}

impl Rotated for Client {
    async fn rotate(caller: &Caller<'_>, id: &str, grace: i64) -> Result<(Self, SecretString), ApiError> {
        rotate_client_secret(
            caller.api,
            caller.principal,
            caller.request,
            id,
            RotateSecret { grace_period_seconds: Some(grace) },
        )
        .await
    }
}

/// The lifetime typed, or the field's error (as the API words a wrong type).
fn ttl(form: &Form) -> Result<Option<i64>, ApiError> {
    match form.optional("access_token_ttl").map(|typed| typed.parse::<i64>()) {
        None => Ok(None),
        Some(Ok(seconds)) => Ok(Some(seconds)),
        Some(Err(_)) => {
            let message = "access_token_ttl is a whole number of seconds.";
            Err(ApiError::validation(vec![FieldError::new("access_token_ttl", "invalid", message)]))
        }
    }
}

fn grant_types(form: &Form) -> Vec<String> {
    form.all("grant_types").map(str::to_owned).collect()
}
