//! The API keys page: the keys within the signed-in admin's reach, newest first, paginated like
//! the API's list (docs/api.md), shown by their redacted forms only.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use tollbooth_oauth::OAuth;
use tollbooth_storage::{api_keys, ids};

use crate::pages::{self, Frame};
use crate::signed_in::{self, SignedIn};

/// The query of the page `direction` (`after` or `before`) the key `id`, keeping the request's
/// other list parameters (`limit`, `order`).
fn link(request: &HttpRequest, direction: &str, id: &str) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in url::form_urlencoded::parse(request.query_string().as_bytes()) {
        if name != "after" && name != "before" {
            query.append_pair(&name, &value);
        }
    }
    query.append_pair(direction, id).finish()
}

/// `GET /console/{tenant_id}/api_keys`.
pub async fn list(request: HttpRequest, tenant_id: web::Path<String>, oauth: web::Data<OAuth>) -> HttpResponse {
    let signed_in = match SignedIn::of(&request, &tenant_id, &oauth).await {
        Ok(signed_in) => signed_in,
        Err(answer) => return answer,
    };
    let Ok(page_request) = tollbooth_resource::pagination::page_request::<ids::ApiKey>(&request) else {
        return pages::message(StatusCode::BAD_REQUEST, "Cannot continue", "The page's address is not valid.");
    };
    let reach = signed_in.reach();
    let page = match oauth.db.run(move |conn| api_keys::list(conn, &reach, &page_request)).await {
        Ok(page) => page,
        Err(err) => return signed_in::failed(&err),
    };
    let csrf = signed_in.csrf_token(&oauth);
    let frame = Frame {
        tenant_id: &signed_in.user.tenant_id,
        email: &signed_in.user.email,
        organization_id: signed_in.user.organization_id.as_deref(),
        csrf: &csrf,
    };
    let links = pages::PageLinks {
        previous: page.before.as_deref().map(|id| link(&request, "before", id)),
        next: page.after.as_deref().map(|id| link(&request, "after", id)),
    };
    let answer = pages::api_keys(&frame, &page.data, &links);
    signed_in.refreshed(answer, &oauth)
}
