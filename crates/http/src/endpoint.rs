//! One path with a handler per method. Any other method is answered 405 Method Not Allowed with
//! `Allow` (RFC 9110 §15.5.6), not 404: the path exists, only the method is wrong.
//! HEAD is served wherever GET is (RFC 9110 §9.3.2); actix sends no body for it.

use actix_web::http::Method;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{FromRequest, Handler, HttpResponse, Resource, Responder, web};

/// One builder method per HTTP method (or methods) it routes to the handler.
macro_rules! serve_methods {
    ($($(#[$doc:meta])* $name:ident => [$($method:ident),+];)+) => {$(
        $(#[$doc])*
        pub fn $name<F, Args>(mut self, handler: F) -> Self
        where
            F: Handler<Args>,
            Args: FromRequest + 'static,
            F::Output: Responder + 'static,
        {
            $(
                self.resource = self.resource.route(web::method(Method::$method).to(handler.clone()));
                self.allow.push(Method::$method);
            )+
            self
        }
    )+};
}

pub struct Endpoint {
    resource: Resource,
    allow: Vec<Method>,
}

impl Endpoint {
    pub fn new(path: &str) -> Self {
        Endpoint { resource: web::resource(path), allow: Vec::new() }
    }

    serve_methods! {
        /// Serves GET, and HEAD with it, with `handler`.
        get => [GET, HEAD];
        post => [POST];
        patch => [PATCH];
        delete => [DELETE];
    }

    /// The finished resource: other methods get `refusal(allow)` (the caller's error format,
    /// with a 405 status) and the `Allow` header.
    pub fn refusing_others_with(self, refusal: fn(&str) -> HttpResponse) -> Resource {
        let allow = self.allow.iter().map(Method::as_str).collect::<Vec<_>>().join(", ");
        self.resource.default_service(web::to(move || {
            let mut response = refusal(&allow);
            if let Ok(value) = HeaderValue::from_str(&allow) {
                response.headers_mut().insert(header::ALLOW, value);
            }
            std::future::ready(response)
        }))
    }
}
