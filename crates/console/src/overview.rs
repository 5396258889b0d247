//! The overview: the tenant, its plan, and how much of each window of the plan is used now,
//! drawn as bars in SVG on the server (docs/console.md). Reading the usage counts nothing.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use tollbooth_resource::ManagementApi;
use tollbooth_storage::rate_limit::{Budget, WindowClass, WindowUsage};
use tollbooth_storage::tenants;

use crate::error::ConsoleError;
use crate::pages::{self, Section, href};
use crate::signed_in::SignedIn;

/// `GET /console/{tenant_id}/overview`.
pub async fn show(
    request: HttpRequest,
    tenant_id: web::Path<String>,
    api: web::Data<ManagementApi>,
) -> Result<HttpResponse, ConsoleError> {
    let signed_in = SignedIn::of(&request, &tenant_id, &api).await?;
    let id = signed_in.user.tenant_id.clone();
    let tenant = api.db.run(move |conn| tenants::get(conn, &id)).await?;
    let usage = match &api.rate_limiter {
        Some(limiter) => {
            let budget = Budget::Tenant { tenant_id: &tenant.id, plan: &tenant.plan, write: false };
            Some(limiter.read(budget).await.windows)
        }
        None => None,
    };
    let frame = signed_in.frame();
    let content = html! {
        dl.facts {
            dt { "Tenant" } dd { (tenant.name) " " code { (tenant.id) } }
            dt { "Environment" } dd { (tenant.environment) }
            dt { "Plan" } dd { (tenant.plan) }
        }
        h2 { "Usage of the plan" }
        @match &usage {
            None => p { "Rate limiting is off on this server." },
            Some(windows) if windows.is_empty() => p { "The plan has no limits." },
            Some(windows) => {
                p.hint { "Requests to the management API counted in each window of the plan, as of now." }
                (usage_bars(windows))
            }
        }
        h2 { "Get started" }
        ul {
            li { a href=(href(&frame, "api_keys/new")) { "Create an API key" } " and call " code { "/api/v1" } " with it." }
            li { a href=(href(&frame, "api_keys")) { "See the API keys" } }
        }
    };
    let answer = pages::framed(&frame, Section::Overview, StatusCode::OK, "Overview", content);
    Ok(signed_in.refreshed(answer, &api.oauth))
}

const ROW_HEIGHT: u64 = 44;
const LABEL_WIDTH: u64 = 110;
const BAR_WIDTH: u64 = 360;
const WIDTH: u64 = LABEL_WIDTH + BAR_WIDTH + 150;

/// One bar per window: the share used, with the count written beside it. A window at 90% or
/// more is drawn in the warning colour.
fn usage_bars(windows: &[WindowUsage]) -> Markup {
    let height = ROW_HEIGHT * windows.len() as u64;
    let summary: Vec<String> =
        windows.iter().map(|w| format!("{}: {} of {}", window_label(w), w.used, w.window.limit)).collect();
    html! {
        svg.usage viewBox={ "0 0 " (WIDTH) " " (height) } role="img" aria-labelledby="usage-title" xmlns="http://www.w3.org/2000/svg" {
            title #usage-title { "Plan usage. " (summary.join("; ")) }
            @for (row, window) in windows.iter().enumerate() {
                @let y = row as u64 * ROW_HEIGHT;
                @let limit = window.window.limit.max(1);
                @let filled = (BAR_WIDTH * window.used.min(limit)) / limit;
                @let full = window.used * 10 >= limit * 9;
                text x="0" y=(y + 27) fill="#1d2433" font-size="15" { (window_label(window)) }
                rect x=(LABEL_WIDTH) y=(y + 10) width=(BAR_WIDTH) height="24" rx="4" fill="#e5e7eb" {}
                rect x=(LABEL_WIDTH) y=(y + 10) width=(filled) height="24" rx="4" fill=(if full { "#b42318" } else { "#2454d6" }) {}
                text x=(LABEL_WIDTH + BAR_WIDTH + 10) y=(y + 27) fill="#1d2433" font-size="15" {
                    (window.used) " / " (window.window.limit)
                }
            }
        }
    }
}

/// `per 1m`, or `writes per 1h` for a window that counts writes only.
fn window_label(window: &WindowUsage) -> String {
    match window.class {
        WindowClass::All => format!("per {}", window.window.label()),
        WindowClass::Writes => format!("writes per {}", window.window.label()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tollbooth_storage::rate_limit::Window;

    fn usage(class: WindowClass, seconds: u64, limit: u64, used: u64) -> WindowUsage {
        WindowUsage { name: String::new(), class, window: Window { seconds, limit }, counted: true, used, reset_at: 0 }
    }

    /// One bar per window, as long as its share used, in the warning colour from 90%; the
    /// counts are written beside the bars and in the chart's accessible title.
    #[test]
    fn each_window_is_a_bar_of_its_share() {
        let svg =
            usage_bars(&[usage(WindowClass::All, 60, 100, 25), usage(WindowClass::Writes, 3600, 10, 9)]).into_string();
        assert_eq!(svg.matches("<rect").count(), 4, "a track and a bar per window: {svg}");
        assert!(svg.contains(&format!("width=\"{}\"", BAR_WIDTH / 4)), "a quarter used: {svg}");
        assert!(svg.contains("25 / 100") && svg.contains("9 / 10"));
        assert!(svg.contains("per 1m") && svg.contains("writes per 1h"));
        assert!(svg.contains("#b42318"), "90% is drawn as a warning");
        assert!(svg.contains("Plan usage. per 1m: 25 of 100; writes per 1h: 9 of 10"));
        let over = usage_bars(&[usage(WindowClass::All, 10, 5, 8)]).into_string();
        assert_eq!(over.matches(&format!("width=\"{BAR_WIDTH}\"")).count(), 2, "full, not past its track: {over}");
    }
}
