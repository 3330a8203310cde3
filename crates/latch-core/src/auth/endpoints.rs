//! Which addresses a server's metadata may send Latch (or the person's browser) to.
//!
//! Every endpoint is first a plain `http`/`https` URL with a host and no credentials
//! ([`check_url_to_open`]). Then, by the address class of an IP-literal host (or `localhost`):
//! - link-local (169.254.0.0/16, the cloud instance metadata service, `fe80::/10`), unspecified,
//!   broadcast, multicast and reserved addresses, and the cloud metadata host names, are never
//!   used;
//! - a loopback endpoint is used only when the MCP server itself is on loopback, and a private
//!   one (10/8, 172.16/12, 192.168/16, 100.64/10, `fc00::/7`) only when the server is on a
//!   private address: local and intranet servers are legitimate, but a public server cannot
//!   point Latch at this machine or at the local network;
//! - public addresses and host names are used (rmcp's resolver applies the same rule to the
//!   addresses names resolve to, for the requests it makes).
//!
//! It mirrors rmcp's metadata address policy, so one rule covers what rmcp fetches, what Latch
//! fetches (the legacy metadata, the headless agent) and what the browser is sent to.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

use super::browser::check_url_to_open;

/// Host names of cloud instance metadata services.
const METADATA_HOSTS: &[&str] = &[
    "metadata",
    "metadata.google.internal",
    "metadata.azure.internal",
    "instance-data",
    "instance-data.ec2.internal",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Public,
    Loopback,
    Private,
    Blocked,
}

fn class_of_v4(ip: Ipv4Addr) -> Class {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Class::Loopback
    } else if ip.is_private() || (a == 100 && (64..=127).contains(&b)) {
        Class::Private
    } else if ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || a >= 240
        || (a == 198 && matches!(b, 18 | 19))
    {
        Class::Blocked
    } else {
        Class::Public
    }
}

fn class_of_v6(ip: Ipv6Addr) -> Class {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return class_of_v4(v4);
    }
    let first = ip.segments()[0];
    if ip.is_loopback() {
        Class::Loopback
    } else if first & 0xfe00 == 0xfc00 {
        Class::Private
    } else if ip.is_unspecified() || ip.is_multicast() || first & 0xffc0 == 0xfe80 {
        Class::Blocked
    } else {
        Class::Public
    }
}

/// The class of a URL's host: `None` for a host name that is neither `localhost` nor a
/// metadata service (it is resolved later, and rmcp filters what it resolves to).
fn class_of(url: &Url) -> Option<Class> {
    match url.host()? {
        Host::Ipv4(ip) => Some(class_of_v4(ip)),
        Host::Ipv6(ip) => Some(class_of_v6(ip)),
        Host::Domain(name) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            if name == "localhost" || name.ends_with(".localhost") {
                Some(Class::Loopback)
            } else if METADATA_HOSTS.contains(&name.as_str()) {
                Some(Class::Blocked)
            } else if let Ok(ip) = name.parse::<IpAddr>() {
                Some(match ip {
                    IpAddr::V4(v4) => class_of_v4(v4),
                    IpAddr::V6(v6) => class_of_v6(v6),
                })
            } else {
                None
            }
        }
    }
}

/// Check `endpoint`, named by the metadata of the server at `server`, before anything uses it.
pub(crate) fn check_endpoint(server: &Url, endpoint: &str) -> Result<Url, String> {
    let url = check_url_to_open(endpoint)?;
    check_hop(server, &url)?;
    Ok(url)
}

/// May a request that started at `origin` (the MCP server, or the first page of a sign-in) go
/// to `next`?
pub(crate) fn check_hop(origin: &Url, next: &Url) -> Result<(), String> {
    let host = next.host_str().unwrap_or_default();
    match class_of(next) {
        None | Some(Class::Public) => Ok(()),
        Some(Class::Blocked) => Err(format!(
            "refusing {host}: a link-local, metadata-service or reserved address"
        )),
        Some(class) if class_of(origin) == Some(class) => Ok(()),
        Some(Class::Loopback) => Err(format!(
            "refusing {host}: a server that is not on this machine cannot send Latch to it"
        )),
        Some(_) => Err(format!(
            "refusing {host}: a server that is not on the local network cannot send Latch to a private address"
        )),
    }
}

/// An untrusted endpoint for an error message: a URL without its query, fragment and
/// credentials; anything else cut to 80 characters, control characters replaced.
pub(crate) fn shown(endpoint: &str) -> String {
    let text = match Url::parse(endpoint) {
        Ok(url) if url.host_str().is_some() => format!(
            "{}://{}{}",
            url.scheme(),
            url.host_str().unwrap_or_default(),
            url.path()
        ),
        Ok(url) => format!("{}:…", url.scheme()),
        Err(_) => endpoint.to_owned(),
    };
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .take(81)
        .collect();
    if out.chars().count() > 80 {
        out.pop();
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(server: &str, endpoint: &str) -> Result<Url, String> {
        check_endpoint(&Url::parse(server).unwrap(), endpoint)
    }

    #[test]
    fn local_servers_may_use_local_endpoints() {
        assert!(check("http://127.0.0.1:3000/mcp", "http://127.0.0.1:4000/token").is_ok());
        assert!(check("http://localhost:3000/mcp", "http://127.0.0.1:4000/token").is_ok());
        assert!(check("http://10.1.2.3/mcp", "http://10.9.9.9/token").is_ok());
        assert!(check("https://mcp.example.com/mcp", "https://as.example.com/t").is_ok());
        assert!(check("http://127.0.0.1:3000/mcp", "https://as.example.com/t").is_ok());
    }

    #[test]
    fn metadata_and_cross_class_addresses_are_refused() {
        for (server, endpoint) in [
            ("http://127.0.0.1:3000/mcp", "http://169.254.169.254/latest"),
            ("http://127.0.0.1:3000/mcp", "http://[fe80::1]/x"),
            (
                "http://127.0.0.1:3000/mcp",
                "http://[::ffff:169.254.169.254]/x",
            ),
            (
                "http://127.0.0.1:3000/mcp",
                "http://metadata.google.internal/x",
            ),
            ("http://127.0.0.1:3000/mcp", "http://0.0.0.0:80/x"),
            ("http://127.0.0.1:3000/mcp", "http://10.0.0.1/token"),
            ("https://mcp.example.com/mcp", "http://127.0.0.1:8080/token"),
            ("https://mcp.example.com/mcp", "http://localhost/token"),
            ("https://mcp.example.com/mcp", "http://192.168.1.1/token"),
            ("https://mcp.example.com/mcp", "javascript:alert(1)"),
            (
                "https://mcp.example.com/mcp",
                "https://u:p@as.example.com/t",
            ),
        ] {
            assert!(check(server, endpoint).is_err(), "{endpoint} from {server}");
        }
    }
}
