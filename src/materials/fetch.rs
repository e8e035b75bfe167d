//! Fetching a material from a URL, safely: http and https only; every address the host
//! resolves to must be public (the special-purpose ranges, also inside IPv6 forms that
//! embed an IPv4 address, are refused unless STUDYHALL_URL_ALLOW_PRIVATE is set), and
//! the connection goes to the address that was checked, so that DNS cannot be changed
//! in between; redirects are followed by hand, each one checked again; time and size
//! are capped.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use ipnet::{Ipv4Net, Ipv6Net};
use reqwest::redirect::Policy;
use url::{Host, Url};

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
    let parsed =
        Url::parse(url).map_err(|_| "is not a web address (one such as https://example.org/page)".to_owned())?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("must be a web address starting with http:// or https://".to_owned());
    }
    if parsed.host().is_none() {
        return Err("has no site name in it".to_owned());
    }
    Ok(parsed)
}

/// Resolves `url`'s host and checks every address; returns one to connect to. A refusal
/// names a literal address but never what a host name resolves to (that would map the
/// private network for whoever asks).
pub async fn resolve(url: &Url, config: &MaterialsConfig) -> Result<SocketAddr, FetchError> {
    let host = url.host().ok_or_else(|| FetchError::Refused("the address has no site name in it".to_owned()))?;
    let port = url.port_or_known_default().unwrap_or(80);
    let addresses: Vec<SocketAddr> = match host {
        Host::Ipv4(ip) => vec![SocketAddr::new(ip.into(), port)],
        Host::Ipv6(ip) => vec![SocketAddr::new(ip.into(), port)],
        Host::Domain(name) => tokio::net::lookup_host((name, port))
            .await
            .map_err(|_| FetchError::Refused(format!("no site called {name} can be found; check the address")))?
            .collect(),
    };
    let first = *addresses
        .first()
        .ok_or_else(|| FetchError::Refused(format!("no site called {host} can be found; check the address")))?;
    if !config.url_allow_private && addresses.iter().any(|a| !is_public(a.ip())) {
        return Err(FetchError::Refused(match host {
            Host::Domain(name) => {
                format!(
                    "{name} is on a private network (or a reserved address), and studyhall reads only public web pages"
                )
            }
            literal => {
                format!("{literal} is a private (or reserved) address, and studyhall reads only public web pages")
            }
        }));
    }
    Ok(first)
}

/// IPv4 ranges that are not the public internet: the IANA IPv4 special-purpose address
/// registry (this network, private, shared, loopback, link-local, IETF protocol
/// assignments, documentation, 6to4 relay anycast, benchmarking), multicast, and the
/// reserved 240/4 with the broadcast address.
const SPECIAL_V4: [Ipv4Net; 15] = [
    v4(0, 0, 0, 0, 8),
    v4(10, 0, 0, 0, 8),
    v4(100, 64, 0, 0, 10),
    v4(127, 0, 0, 0, 8),
    v4(169, 254, 0, 0, 16),
    v4(172, 16, 0, 0, 12),
    v4(192, 0, 0, 0, 24),
    v4(192, 0, 2, 0, 24),
    v4(192, 88, 99, 0, 24),
    v4(192, 168, 0, 0, 16),
    v4(198, 18, 0, 0, 15),
    v4(198, 51, 100, 0, 24),
    v4(203, 0, 113, 0, 24),
    v4(224, 0, 0, 0, 4),
    v4(240, 0, 0, 0, 4),
];

/// Only global unicast IPv6 is public; this leaves out, among the rest, ::, ::1, the
/// discard prefix 100::/64, SRv6 5f00::/16, unique local fc00::/7, link-local fe80::/10,
/// site-local fec0::/10 and multicast ff00::/8.
const GLOBAL_UNICAST_V6: Ipv6Net = v6(0x2000, 0, 3);

/// The special-purpose IPv6 ranges inside global unicast: IETF protocol assignments
/// (2001::/23, but its Teredo 2001::/32 is judged by the IPv4 addresses it embeds) and
/// documentation (2001:db8::/32, 3fff::/20).
const SPECIAL_V6: [Ipv6Net; 3] = [v6(0x2001, 0, 23), v6(0x2001, 0x0db8, 32), v6(0x3fff, 0, 20)];

const fn v4(a: u8, b: u8, c: u8, d: u8, prefix: u8) -> Ipv4Net {
    Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), prefix)
}

const fn v6(first: u16, second: u16, prefix: u8) -> Ipv6Net {
    Ipv6Net::new_assert(Ipv6Addr::new(first, second, 0, 0, 0, 0, 0, 0), prefix)
}

/// The IPv4 addresses inside an IPv6 address of a form that embeds them; a packet sent
/// to it ends up at (or is relayed through) them, so they are what is judged.
fn embedded_v4(ip: Ipv6Addr) -> Option<Vec<Ipv4Addr>> {
    let v4 = |high: u16, low: u16| Ipv4Addr::from((u32::from(high) << 16) | u32::from(low));
    match ip.segments() {
        // IPv4-mapped ::ffff:0:0/96, IPv4-compatible ::/96 (also :: and ::1), NAT64 64:ff9b::/96
        [0, 0, 0, 0, 0, 0xffff | 0, high, low] | [0x64, 0xff9b, 0, 0, 0, 0, high, low] => Some(vec![v4(high, low)]),
        // 6to4 2002::/16: the site's IPv4 in bits 16-47
        [0x2002, high, low, ..] => Some(vec![v4(high, low)]),
        // Teredo 2001::/32: the server's IPv4 in bits 32-63, the client's inverted in the last 32
        [0x2001, 0, high, low, .., client_high, client_low] => Some(vec![v4(high, low), v4(!client_high, !client_low)]),
        _ => None,
    }
}

/// False for every address of the IANA IPv4 and IPv6 special-purpose address registries
/// (loopback, private, link-local, shared, documentation, benchmarking, multicast,
/// reserved and the rest), the local-use NAT64 64:ff9b:1::/48 included, and for IPv6
/// that embeds such an IPv4 address (mapped, compatible, NAT64, 6to4, Teredo).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => !SPECIAL_V4.iter().any(|net| net.contains(&ip)),
        IpAddr::V6(ip) => match embedded_v4(ip) {
            Some(embedded) => embedded.into_iter().all(|v4| is_public(v4.into())),
            None => GLOBAL_UNICAST_V6.contains(&ip) && !SPECIAL_V6.iter().any(|net| net.contains(&ip)),
        },
    }
}

/// Fetches `url`, following at most `config.url_max_redirects` redirects.
pub async fn fetch(url: &str, config: &MaterialsConfig) -> Result<Fetched, FetchError> {
    crate::tls::install_provider();
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
            FetchError::Transient(format!("{url} did not answer{}", if err.is_timeout() { " in time" } else { "" }))
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
            return Err(FetchError::Refused(format!(
                "{url} answered {status}: the page may have moved, or be only for signed-in readers"
            )));
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
            // IPv4 special-purpose registry, multicast, reserved, broadcast
            "0.0.0.0",
            "10.1.2.3",
            "100.64.0.1",
            "127.0.0.1",
            "169.254.169.254",
            "172.16.0.1",
            "192.0.0.8",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.51.100.1",
            "203.0.113.1",
            "224.0.0.1",
            "240.0.0.1",
            "255.255.255.255",
            // IPv6 special-purpose registry
            "::",
            "::1",
            "100::1",
            "2001:2::1",
            "2001:db8::1",
            "3fff::1",
            "5f00::1",
            "fc00::1",
            "fd00::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "64:ff9b:1::1.1.1.1",
            "::ffff:0:1.1.1.1",
            // IPv6 embedding a special IPv4 address
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "::7f00:1",
            "64:ff9b::7f00:1",
            "64:ff9b::169.254.169.254",
            "2002:7f00:1::1",
            "2002:a00:1::1",
            "2001::7f00:1",
            "2001:0:7f00:1::8000:1",
            "2001:0:5db8:d822::80ff:fffe",
        ] {
            assert!(!is_public(ip.parse().expect("an address")), "{ip} is not public");
        }
        for ip in [
            "93.184.216.34",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "::ffff:1.1.1.1",
            "64:ff9b::1.1.1.1",
            "2002:5db8:d822::1",
            "2001:0:5db8:d822::fefe:fefe",
        ] {
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
