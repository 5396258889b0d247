//! The audit log page: the tenant's events, newest first, in keyset pages, filtered by action
//! and actor, read by the API's own list (`tollbooth_resource::audit_logs`), which also decides
//! who may read it: tenant admins, not organization admins.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::html;
use tollbooth_resource::ManagementApi;
use tollbooth_resource::audit_logs::{audit_query, page_of};
use tollbooth_resource::error::ApiErrorKind;
use tollbooth_storage::audit::AuditFilter;

use crate::error::ConsoleError;
use crate::pages::{self, FieldErrors, PageLinks, Section, href, text_input, time};
use crate::signed_in::SignedIn;

/// `GET /console/{tenant_id}/audit_log?action=…&actor_id=…`.
pub async fn list(
    request: HttpRequest,
    tenant_id: web::Path<String>,
    api: web::Data<ManagementApi>,
) -> Result<HttpResponse, ConsoleError> {
    let signed_in = SignedIn::of(&request, &tenant_id, &api).await?;
    let frame = signed_in.frame();
    let (page, filter, errors) = match audit_query(&request) {
        Ok((page, filter)) => (Some(page), filter, FieldErrors::default()),
        Err(invalid) if invalid.kind == ApiErrorKind::ValidationFailed => {
            (None, AuditFilter::default(), FieldErrors(invalid.field_errors))
        }
        Err(_) => return Err(ConsoleError::BadRequest("The page's address is not valid.")),
    };
    // A refused filter is shown again as typed.
    let typed = |name: &str| {
        url::form_urlencoded::parse(request.query_string().as_bytes())
            .find(|(field, _)| field == name)
            .map(|(_, value)| value.into_owned())
            .unwrap_or_default()
    };
    let events = match page {
        Some(page) => Some(page_of(&api, &signed_in.principal, filter.clone(), page).await?),
        None => None,
    };
    let path = href(&frame, "audit_log");
    let content = html! {
        (errors.summary(&["action", "actor_id"]))
        form.filters method="get" action=(path) role="search" {
            div { (text_input(&errors, "action", "Action", "text", &typed("action"), Some("e.g. api_key.created"))) }
            div { (text_input(&errors, "actor_id", "Actor", "text", &typed("actor_id"), Some("A key, user or client id"))) }
            div { button type="submit" { "Filter" } }
        }
        @if let Some(events) = &events {
            @if events.data.is_empty() {
                p { "No events." }
            } @else {
                div.scroll { table {
                    caption { "Audit events, newest first" }
                    thead { tr {
                        th scope="col" { "When" } th scope="col" { "Action" } th scope="col" { "Actor" }
                        th scope="col" { "Target" } th scope="col" { "Address" }
                    } }
                    tbody {
                        @for event in &events.data {
                            tr {
                                td { (time(event.created_at)) }
                                td { code { (event.action) } }
                                td { @if let Some(actor) = &event.actor_id { code { (actor) } } @else { "—" } }
                                td { @if let Some(target) = &event.target_id { code { (target) } } @else { "—" } }
                                td { (event.ip.as_deref().unwrap_or("—")) }
                            }
                        }
                    }
                } }
            }
            (PageLinks::of(request.query_string(), events.before.as_deref(), events.after.as_deref()).nav(&path))
        }
    };
    let status = if errors.0.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let answer = pages::framed(&frame, Section::AuditLog, status, "Audit log", content);
    Ok(signed_in.refreshed(answer, &api.oauth))
}
