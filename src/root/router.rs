//! The router: every area's routes and the web app, with the middleware around them
//! (request ids, tracing, timeout, body limit, problem+json, security headers, the
//! same-origin check of writes).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderName, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router, middleware};
use tower::ServiceBuilder;
use tower_http::LatencyUnit;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::config::HttpConfig;
use crate::error::Error;
use crate::http::{explorer, extract, health, openapi, problem_for_bare_errors, security_headers};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

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
        .merge(crate::jobs::admin::routes())
        .merge(crate::upkeep::http::routes())
        .merge(crate::learn::routes())
        .merge(crate::feedback::routes())
        .merge(crate::progress::routes())
        .split_for_parts();
    utoipa::Modify::modify(&openapi::FinishDocument, &mut openapi);
    let openapi = OpenApiJson(openapi.to_json().expect("the OpenAPI document serializes").into());

    routes
        .merge(crate::web::routes())
        .merge(explorer::routes())
        .fallback(not_found)
        .with_state(state.clone())
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
        .layer(middleware::from_fn_with_state(state, crate::web::error_pages))
        .layer(middleware::map_response_with_state(secure, security_headers))
        .layer(middleware::from_fn(crate::metrics::track))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(|request: &Request<Body>| {
                            let request_id = request.headers().get(&REQUEST_ID).and_then(|id| id.to_str().ok());
                            // The route as declared ("/api/v1/materials/{id}"): what to count and grep by.
                            let route = request.extensions().get::<MatchedPath>().map(MatchedPath::as_str);
                            tracing::info_span!("request", method = %request.method(), path = %request.uri().path(),
                        route = %route.unwrap_or_default(), request_id = %request_id.unwrap_or_default(),
                        user_id = tracing::field::Empty)
                        })
                        // A line per request at info (status and latency, in the request's span), so
                        // that refusals leave a trace too.
                        .on_response(
                            DefaultOnResponse::new().level(tracing::Level::INFO).latency_unit(LatencyUnit::Millis),
                        ),
                )
                .layer(PropagateRequestIdLayer::new(REQUEST_ID)),
        )
}

/// An unknown address: problem+json under /api/, the web app's 404 page elsewhere.
async fn not_found(uri: Uri) -> Response {
    if uri.path() == "/api" || uri.path().starts_with("/api/") {
        Error::NotFound.into_response()
    } else {
        crate::web::not_found()
    }
}

/// This document: the OpenAPI 3 description of the whole HTTP API.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json")))]
async fn openapi_json(Extension(OpenApiJson(json)): Extension<OpenApiJson>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], json.to_string())
}
