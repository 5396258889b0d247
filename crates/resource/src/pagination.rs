//! The list query (`limit`, `order`, `after`, `before`) and answer (`data`, `list_metadata`)
//! shared by every list of docs/api.md.

use actix_web::HttpRequest;
use actix_web::HttpResponse;
use actix_web::http::header::ContentType;
use serde::Serialize;
use tollbooth_storage::ids::{Id, Kind};
use tollbooth_storage::pagination::{Cursor, Order, Page, PageRequest};

use crate::error::{ApiError, FieldError};
use crate::extract::query_pairs;

pub const MAX_LIMIT: u32 = 100;

/// Parses the list query of a request for objects whose ids are of kind `K`.
pub fn page_request<K: Kind>(request: &HttpRequest) -> Result<PageRequest, ApiError> {
    page_request_filtered::<K>(request, &[]).map(|(page, _)| page)
}

/// The values of a list's filters, by name, as given.
pub type FilterValues = Vec<(&'static str, String)>;

/// Like [`page_request`], for a list that also takes the query parameters named in `filters`:
/// their values, as given, come back beside the page (each at most once).
pub fn page_request_filtered<K: Kind>(
    request: &HttpRequest,
    filters: &[&'static str],
) -> Result<(PageRequest, FilterValues), ApiError> {
    let id_prefix = K::PREFIX;
    let mut page = PageRequest::default();
    let mut errors = Vec::new();
    let (mut after, mut before) = (None, None);
    let mut filtered = FilterValues::new();
    for (name, value) in query_pairs(request)? {
        if let Some(filter) = filters.iter().find(|filter| **filter == name) {
            if filtered.iter().any(|(seen, _)| seen == filter) {
                return Err(ApiError::invalid_request(format!("Query parameter `{name}` is given twice.")));
            }
            filtered.push((filter, value));
            continue;
        }
        match name.as_str() {
            "limit" => match value.parse::<u32>() {
                Ok(limit) if (1..=MAX_LIMIT).contains(&limit) => page.limit = limit,
                _ => errors.push(FieldError::new(
                    "limit",
                    "out_of_range",
                    format!("limit must be an integer from 1 to {MAX_LIMIT}."),
                )),
            },
            "order" => match value.as_str() {
                "asc" => page.order = Order::Asc,
                "desc" => page.order = Order::Desc,
                _ => return Err(ApiError::invalid_request("order must be `asc` or `desc`.")),
            },
            "after" | "before" => {
                if Id::<K>::parse(&value).is_none() {
                    errors.push(FieldError::new(
                        &name,
                        "invalid",
                        format!("{name} must be an id starting with `{id_prefix}_`."),
                    ));
                } else if name == "after" {
                    after = Some(value);
                } else {
                    before = Some(value);
                }
            }
            _ => {
                return Err(ApiError::invalid_request(format!("Unknown query parameter `{name}`.")));
            }
        }
    }
    page.cursor = match (after, before) {
        (Some(_), Some(_)) => {
            errors.push(FieldError::new("before", "conflict", "Give either after or before, not both."));
            None
        }
        (Some(id), None) => Some(Cursor::After(id)),
        (None, Some(id)) => Some(Cursor::Before(id)),
        (None, None) => None,
    };
    if errors.is_empty() { Ok((page, filtered)) } else { Err(ApiError::validation(errors)) }
}

/// The list query every list accepts (docs/api.md), for the OpenAPI document.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ListParams {
    /// 1 to 100; default 10.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// `asc` or `desc` by creation; default `desc`.
    #[param(pattern = "^(asc|desc)$")]
    order: Option<String>,
    /// The id of an object of this list: the page after it. Not with `before`.
    #[param(pattern = "^[a-z]+_[0-7][0-9A-HJKMNP-TV-Z]{25}$")]
    after: Option<String>,
    /// The id of an object of this list: the page before it. Not with `after`.
    #[param(pattern = "^[a-z]+_[0-7][0-9A-HJKMNP-TV-Z]{25}$")]
    before: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ListMetadata {
    pub before: Option<String>,
    pub after: Option<String>,
}

/// `{"data": [...], "list_metadata": {"before", "after"}}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct List<T> {
    #[schema(example = "list")]
    pub object: &'static str,
    pub data: Vec<T>,
    pub list_metadata: ListMetadata,
}

impl<T: Serialize> List<T> {
    /// The page as the answer's body, serialized into a buffer sized for it up front: a
    /// 100-object page would otherwise grow its buffer a dozen times.
    pub fn respond(page: Page<T>) -> Result<HttpResponse, ApiError> {
        let list = List::from(page);
        let mut body = Vec::with_capacity(128 + BYTES_PER_OBJECT * list.data.len());
        serde_json::to_writer(&mut body, &list).map_err(ApiError::internal)?;
        Ok(HttpResponse::Ok().content_type(ContentType::json()).body(body))
    }
}

/// About what one object of a list takes as JSON.
const BYTES_PER_OBJECT: usize = 256;

impl<T> From<Page<T>> for List<T> {
    fn from(page: Page<T>) -> Self {
        List { object: "list", data: page.data, list_metadata: ListMetadata { before: page.before, after: page.after } }
    }
}
