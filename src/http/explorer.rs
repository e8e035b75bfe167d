//! The API explorer at /api/docs: Swagger UI rendering /api/v1/openapi.json, with "try it
//! out" against this server. Its files are compiled into the binary (utoipa-swagger-ui's
//! vendored bundle), so the page loads nothing from any other host and works offline.

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use utoipa_swagger_ui::{Config, SwaggerUi};

/// Where the explorer is served; /api/docs redirects to /api/docs/, whose page loads its
/// files by relative address.
pub const PATH: &str = "/api/docs";

/// The explorer's routes. Anyone may view it, as anyone may read the document; trying an
/// operation takes a bearer token, given with the Authorize button and kept only in the
/// page (not persisted in the browser's storage).
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    let config = Config::new(["/api/v1/openapi.json"])
        // Swagger UI would otherwise send the document to validator.swagger.io.
        .validator_url("none")
        // Without Swagger's top bar: its logo's inline <style> breaks the app's Content
        // Security Policy (which the page keeps), and its address box would offer to
        // explore other hosts' documents.
        .use_base_layout()
        .persist_authorization(false)
        .filter(true);
    Router::from(SwaggerUi::new(PATH).config(config)).layer(axum::middleware::map_response(cached))
}

/// The explorer's files are the same for everyone and change only with the binary: they
/// may be cached for an hour, like the web app's own assets (the bundle is 1.5 MB).
async fn cached(mut response: Response) -> Response {
    if response.status() == StatusCode::OK {
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    }
    response
}
