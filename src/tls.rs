//! TLS for the HTTP clients studyhall makes (URL fetching, the LLM endpoint).

/// Makes ring the process's TLS provider (as it is sqlx's), once; reqwest is built
/// without a default one. Call before building an HTTP client.
pub fn install_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
