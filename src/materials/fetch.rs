//! Fetching a material from a URL, safely: http and https only; every address the host
//! resolves to must be public (loopback, private, link-local and other special ranges
//! are refused unless STUDYHALL_URL_ALLOW_PRIVATE is set), and the connection goes to
//! the address that was checked, so that DNS cannot be changed in between; redirects
//! are followed by hand, each one checked again; time and size are capped.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use reqwest::redirect::Policy;
use url::Url;

use crate::config::MaterialsConfig;

/// Why a URL could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The URL or its target is refused, or the page cannot be had: retrying is useless.
    #[error("{0}")]
    Refused(String),
    /// A network failure or a server error: worth another attempt.
    #[error("{0}")]
    Transient(String),
}

/// A fetched page or file: its bytes and where they ended up coming from.
pub struct Fetched {
    pub bytes: Vec<u8>,
    pub final_url: Url,
}

/// Checks a URL's form: absolute, http or https, with a host, at most 1000 characters.
pub fn parse(url: &str) -> Result<Url, String> {
    if url.len() > 1000 {
        return Err("must be at most 1000 characters".to_owned());
    }
    let parsed = Url::parse(url).map_err(|_| "is not a valid URL".to_owned())?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("must be an http or https URL".to_owned());
    }
    if parsed.host().is_none() {
        return Err("has no host".to_owned());
    }
    Ok(parsed)
}

/// Resolves `url`'s host and checks every address; returns one to connect to.
pub async fn resolve(url: &Url, config: &MaterialsConfig) -> Result<SocketAddr, FetchError> {
    let host = url.host_str().ok_or_else(|| FetchError::Refused("the URL has no host".to_owned()))?;
    let port = url.port_or_known_default().unwrap_or(80);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|_| FetchError::Refused(format!("the host {host} cannot be found")))?
        .collect();
    let first = *addresses.first().ok_or_else(|| FetchError::Refused(format!("the host {host} has no address")))?;
    if !config.url_allow_private
        && let Some(private) = addresses.iter().find(|a| !is_public(a.ip()))
    {
        return Err(FetchError::Refused(format!(
            "{host} resolves to {}, a private or reserved address, which is not fetched",
            private.ip()
        )));
    }
    Ok(first)
}

/// False for loopback, private, link-local, shared, documentation, benchmarking,
/// multicast, broadcast, unspecified and reserved addresses (v4, v6, and v4 in v6).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
                || (a == 198 && (b == 18 || b == 19)) // benchmarking
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link-local
                || first == 0x2001 && v6.segments()[1] == 0x0db8) // documentation
        }
    }
}

/// Makes ring the process's TLS provider (as it is sqlx's), once; reqwest is built
/// without a default one. Call before building an HTTP client.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Fetches `url`, following at most `config.url_max_redirects` redirects.
pub async fn fetch(url: &str, config: &MaterialsConfig) -> Result<Fetched, FetchError> {
    install_tls_provider();
    let mut url = parse(url).map_err(|why| FetchError::Refused(format!("the URL {why}")))?;
    for _ in 0..=config.url_max_redirects {
        let address = resolve(&url, config).await?;
        let host = url.host_str().unwrap_or_default().to_owned();
        let client = reqwest::Client::builder()
            .redirect(Policy::none())
            .resolve(&host, address)
            .connect_timeout(Duration::from_secs(10))
            .timeout(config.url_timeout())
            .user_agent(concat!("studyhall/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| FetchError::Transient(format!("cannot make an HTTP client: {err}")))?;
        let mut response = client.get(url.clone()).send().await.map_err(|err| {
            FetchError::Transient(format!(
                "fetching {url} failed: {}",
                if err.is_timeout() { "timed out" } else { "no answer" }
            ))
        })?;
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .ok_or_else(|| FetchError::Refused(format!("{url} redirects nowhere")))?;
            url = url.join(location).map_err(|_| FetchError::Refused(format!("{url} redirects to a bad URL")))?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(FetchError::Refused("the page redirects to a URL that is not http or https".to_owned()));
            }
            continue;
        }
        if status.is_server_error() {
            return Err(FetchError::Transient(format!("{url} answered {status}")));
        }
        if !status.is_success() {
            return Err(FetchError::Refused(format!("{url} answered {status}")));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) =
            response.chunk().await.map_err(|_| FetchError::Transient(format!("reading {url} failed")))?
        {
            if bytes.len() + chunk.len() > config.max_upload_bytes {
                return Err(FetchError::Refused(format!(
                    "{url} is larger than the {} bytes a material may have",
                    config.max_upload_bytes
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        return Ok(Fetched { bytes, final_url: url });
    }
    Err(FetchError::Refused(format!("more than {} redirects", config.url_max_redirects)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::",
        ] {
            assert!(!is_public(ip.parse().expect("an address")), "{ip} is not public");
        }
        for ip in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(is_public(ip.parse().expect("an address")), "{ip} is public");
        }
    }

    #[test]
    fn only_http_and_https_urls() {
        assert!(parse("https://example.org/article").is_ok());
        for bad in ["ftp://example.org/x", "file:///etc/passwd", "not a url", "gopher://x", "http://"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
