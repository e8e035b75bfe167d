//! The HTTP interface: the router every resource adds its routes to, and the
//! middleware around it (request ids, tracing, timeout, body limit, problem+json,
//! security headers, the same-origin check of writes).

pub mod extract;
mod health;
mod openapi;
pub mod page;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router, middleware};
use tower::ServiceBuilder;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::config::HttpConfig;
use crate::error::{Error, PROBLEM_JSON, Problem};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Most bytes of a plain-text client error kept as a problem's detail.
const MAX_DETAIL_BYTES: usize = 1024;

#[derive(OpenApi)]
#[openapi(
    info(title = "studyhall", description = "A self-hostable learning platform."),
    modifiers(&BearerAuth),
    tags(
        (name = "accounts", description = "Registration, sign-in and the caller's own account"),
        (name = "admin", description = "Administration (administrators only)"),
        (name = "materials", description = "Study materials and their chunks"),
        (name = "assets", description = "Generated flashcards, quiz items and summaries"),
        (name = "jobs", description = "Background work: ingestion and generation"),
        (name = "sessions", description = "Study, review and quiz sessions, answers, and reviews due"),
        (name = "progress", description = "Accuracy, speed, retention and streaks over time"),
        (name = "operations", description = "Health, readiness and the API description"),
    )
)]
struct ApiDoc;

/// Declares the `bearer` security scheme the authenticated operations name.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI document, rendered once when the router is built.
#[derive(Clone)]
struct OpenApiJson(Arc<str>);

/// The whole application: every route, with its middleware.
pub fn router(state: AppState, config: &HttpConfig) -> Router {
    crate::metrics::handle(); // recording starts now, not at the first scrape
    let max_upload = state.materials.max_upload_bytes;
    let secure = state.web_secure_cookies;
    let (routes, mut openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(openapi_json))
        .routes(routes!(crate::metrics::metrics))
        .merge(crate::accounts::routes())
        .merge(crate::audit::http::routes())
        .merge(crate::materials::routes(max_upload))
        .merge(crate::search::routes())
        .merge(crate::generate::http::routes())
        .merge(crate::jobs::http::routes())
        .merge(crate::learn::routes())
        .merge(crate::feedback::routes())
        .merge(crate::progress::routes())
        .split_for_parts();
    utoipa::Modify::modify(&openapi::FinishDocument, &mut openapi);
    let openapi = OpenApiJson(openapi.to_json().expect("the OpenAPI document serializes").into());

    routes
        .merge(crate::web::routes())
        .fallback(|| async { Error::NotFound })
        .with_state(state)
        .layer(Extension(openapi))
        // Innermost first: each of these sees only what the layers below let through.
        // Bodies are read up to max_body_bytes, except where a route allows more (material
        // uploads); nothing larger than the largest allowance is even read.
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(RequestBodyLimitLayer::new(config.max_body_bytes.max(max_upload)))
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, config.request_timeout()))
        .layer(middleware::from_fn(extract::refuse_nul_in_query))
        .layer(middleware::map_response(problem_for_bare_errors))
        .layer(middleware::from_fn_with_state(secure, crate::web::same_origin))
        .layer(middleware::map_response_with_state(secure, security_headers))
        .layer(middleware::from_fn(crate::metrics::track))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<Body>| {
                    let request_id = request.headers().get(&REQUEST_ID).and_then(|id| id.to_str().ok());
                    tracing::info_span!("request", method = %request.method(), path = %request.uri().path(),
                        request_id = request_id.unwrap_or_default(), user_id = tracing::field::Empty)
                }))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID)),
        )
}

/// This document: the OpenAPI 3 description of the whole HTTP API.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json")))]
async fn openapi_json(Extension(OpenApiJson(json)): Extension<OpenApiJson>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], json.to_string())
}

/// The policy of every response: the app's own scripts, stylesheet, images and API only,
/// nothing inline, no plugins, forms posted only to studyhall, and never in a frame.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Adds the security headers a response's handler did not set itself: the Content
/// Security Policy, no framing, no type sniffing, referrers only to studyhall, no-store
/// (pages and API answers hold personal data; static assets set their own max-age), and
/// with secure cookies (served over TLS) Strict-Transport-Security.
async fn security_headers(State(secure): State<bool>, mut response: Response) -> Response {
    let headers = response.headers_mut();
    let mut default = |name: HeaderName, value: &'static str| {
        headers.entry(name).or_insert(HeaderValue::from_static(value));
    };
    default(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
    default(header::X_FRAME_OPTIONS, "DENY");
    default(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    default(header::REFERRER_POLICY, "same-origin");
    default(header::CACHE_CONTROL, "no-store");
    if secure {
        default(header::STRICT_TRANSPORT_SECURITY, "max-age=31536000");
    }
    response
}

/// Gives every error response a problem+json body, including those made outside the
/// handlers (unknown method, timeout, body too large, rejected JSON). A client error's
/// plain-text explanation becomes the detail; a server error's body is never passed on.
async fn problem_for_bare_errors(response: Response) -> Response {
    let status = response.status();
    // Problems already, and the web app's pages (which explain themselves in HTML).
    let explained = response.headers().get(header::CONTENT_TYPE).is_some_and(|value| {
        value.as_bytes().starts_with(PROBLEM_JSON.as_bytes()) || value.as_bytes().starts_with(b"text/html")
    });
    if explained || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let detail = if status.is_client_error() {
        axum::body::to_bytes(body, MAX_DETAIL_BYTES)
            .await
            .ok()
            .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_owned())
            .filter(|text| !text.is_empty())
    } else {
        None
    };
    let mut problem = Problem::new(status, detail).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            problem.headers_mut().insert(name.clone(), value.clone());
        }
    }
    problem.headers_mut().entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    problem
}
