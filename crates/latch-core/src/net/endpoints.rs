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
//! - public addresses and host names pass here; what a name resolves to is checked by the same
//!   rule when Latch connects ([`super::resolver`], and rmcp's resolver for its own requests).
//!
//! It mirrors rmcp's metadata address policy, so one rule covers what rmcp fetches, what Latch
//! fetches (the legacy metadata, the headless agent, revocation), what the browser is sent to,
//! and where Latch's HTTP clients follow a redirect ([`redirect_policy`]). For a server with
//! secret headers, a redirect also stays on the server's own origin: reqwest would carry the
//! headers to the next host.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// Refuse anything but a plain http(s) URL.
pub fn check_url_to_open(url: &str) -> Result<Url, String> {
    let parsed = Url::parse(url).map_err(|e| format!("not a URL ({e})"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "refusing to open a `{}:` URL; only http and https are opened",
            parsed.scheme()
        ));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("refusing to open a URL with credentials in it".to_owned());
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("refusing to open a URL without a host".to_owned());
    }
    Ok(parsed)
}

/// Host names of cloud instance metadata services.
const METADATA_HOSTS: &[&str] = &[
    "metadata",
    "metadata.google.internal",
    "metadata.azure.internal",
    "instance-data",
    "instance-data.ec2.internal",
];

/// The address class of a host: what it may be reached from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Class {
    Public,
    Loopback,
    Private,
    Blocked,
}

pub(super) fn class_of_ip(ip: IpAddr) -> Class {
    match ip {
        IpAddr::V4(v4) => class_of_v4(v4),
        IpAddr::V6(v6) => class_of_v6(v6),
    }
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

/// The IPv4 address inside an IPv4-mapped, IPv4-compatible, NAT64 (`64:ff9b::/96`) or 6to4
/// (`2002::/16`) address, which reaches that IPv4 address (as rmcp's policy reads them).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let [a, b, c, d, e, f, g, h] = ip.segments();
    let low = Ipv4Addr::from((u32::from(g) << 16) | u32::from(h));
    match [a, b, c, d, e, f] {
        [0, 0, 0, 0, 0, 0xffff] | [0x64, 0xff9b, 0, 0, 0, 0] => Some(low),
        [0, 0, 0, 0, 0, 0] if !ip.is_loopback() && !ip.is_unspecified() => Some(low),
        [0x2002, ..] => Some(Ipv4Addr::from((u32::from(b) << 16) | u32::from(c))),
        _ => None,
    }
}

fn class_of_v6(ip: Ipv6Addr) -> Class {
    if let Some(v4) = embedded_v4(ip) {
        return class_of_v4(v4);
    }
    let segments = ip.segments();
    let first = segments[0];
    if ip.is_loopback() {
        Class::Loopback
    } else if first & 0xfe00 == 0xfc00 {
        Class::Private
    } else if ip.is_unspecified()
        || ip.is_multicast()
        || first & 0xffc0 == 0xfe80
        // Teredo (it tunnels to an IPv4 address it hides) and local-use NAT64.
        || segments[..2] == [0x2001, 0]
        || segments[..3] == [0x64, 0xff9b, 1]
    {
        Class::Blocked
    } else {
        Class::Public
    }
}

/// The class of a URL's host: `None` for a host name that is neither `localhost` nor a
/// metadata service (it is resolved later, and the resolver filters what it resolves to).
pub(super) fn class_of(url: &Url) -> Option<Class> {
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
                Some(class_of_ip(ip))
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

/// The most redirects one request follows.
pub(crate) const MAX_REDIRECTS: usize = 5;

/// How Latch's HTTP clients (MCP requests, the add-server probe, revocation) follow redirects:
/// at most [`MAX_REDIRECTS`] hops, each to an `http`/`https` URL without credentials that
/// [`check_hop`] allows from the first URL — a server on the internet cannot bounce Latch to
/// this machine, the local network or a cloud metadata service. With `same_origin_only` (a
/// server with secret headers, which reqwest would send on to the next host), every hop also
/// stays on the first URL's scheme, host and port. The refusal ends the request with an error
/// that says why (the hop's host, never its query).
pub(crate) fn redirect_policy(same_origin_only: bool) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        match check_redirect(attempt.previous(), attempt.url(), same_origin_only) {
            Ok(()) => attempt.follow(),
            Err(reason) => attempt.error(RedirectRefused(reason)),
        }
    })
}

/// May a request that went through `previous` (the first URL first) be redirected to `next`?
fn check_redirect(previous: &[Url], next: &Url, same_origin_only: bool) -> Result<(), String> {
    const FIX: &str = "check the server's URL (if it moved, use its new address)";
    if previous.len() > MAX_REDIRECTS {
        return Err(format!(
            "stopped after {MAX_REDIRECTS} redirects (the next one went to {}) — {FIX}",
            shown(next.as_str())
        ));
    }
    if !matches!(next.scheme(), "http" | "https") {
        return Err(format!(
            "refusing a redirect to a `{}:` URL; only http and https are followed — {FIX}",
            next.scheme()
        ));
    }
    if same_origin_only
        && let Some(first) = previous.first()
        && first.origin() != next.origin()
    {
        return Err(format!(
            "refusing a redirect to {}: the server has secret headers, which Latch sends only to its own address — {FIX}",
            origin_shown(next)
        ));
    }
    let checked = check_url_to_open(next.as_str()).and_then(|next| match previous.first() {
        Some(first) => check_hop(first, &next),
        None => Ok(()),
    });
    checked.map_err(|reason| format!("{reason} — {FIX}"))
}

/// `scheme://host[:port]` of a URL, control characters replaced (no path, no query).
fn origin_shown(url: &Url) -> String {
    cut(&origin_text(url))
}

fn origin_text(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    }
}

/// Why a redirect was not followed: the source of reqwest's "error following redirect", which
/// the connection errors look for to say so plainly.
#[derive(Debug)]
pub(crate) struct RedirectRefused(pub(crate) String);

impl std::fmt::Display for RedirectRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RedirectRefused {}

/// An untrusted endpoint for an error message: a URL without its query, fragment and
/// credentials (its port kept); anything else cut to 80 characters, control characters
/// replaced.
pub(crate) fn shown(endpoint: &str) -> String {
    let text = match Url::parse(endpoint) {
        Ok(url) if url.host_str().is_some() => format!("{}{}", origin_text(&url), url.path()),
        Ok(url) => format!("{}:…", url.scheme()),
        Err(_) => endpoint.to_owned(),
    };
    cut(&text)
}

/// `text` with control characters replaced, cut to 80 characters.
fn cut(text: &str) -> String {
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

    #[test]
    fn only_plain_http_urls_are_opened() {
        assert!(check_url_to_open("https://as.example/authorize?x=1").is_ok());
        assert!(check_url_to_open("http://127.0.0.1:8080/authorize").is_ok());
        for bad in [
            "file:///etc/passwd",
            "javascript:alert(1)",
            "data:text/html,hi",
            "https://user:pw@as.example/authorize",
            "calc.exe",
            "https://$(touch /tmp/pwned)",
        ] {
            assert!(check_url_to_open(bad).is_err(), "{bad} must be refused");
        }
    }

    fn check(server: &str, endpoint: &str) -> Result<Url, String> {
        check_endpoint(&Url::parse(server).unwrap(), endpoint)
    }

    #[test]
    fn shown_keeps_the_port_and_drops_the_query() {
        assert_eq!(
            shown("http://u:p@127.0.0.1:8080/revoke?token=secret#x"),
            "http://127.0.0.1:8080/revoke"
        );
        assert_eq!(
            shown("https://as.example.com:443/t"),
            "https://as.example.com/t"
        );
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
            // IPv6 forms that reach the metadata service: NAT64, 6to4, Teredo.
            ("http://127.0.0.1:3000/mcp", "http://[64:ff9b::a9fe:a9fe]/x"),
            ("http://127.0.0.1:3000/mcp", "http://[2002:a9fe:a9fe::]/x"),
            (
                "http://127.0.0.1:3000/mcp",
                "http://[2001:0:4136:e378::1]/x",
            ),
            ("https://mcp.example.com/mcp", "http://[64:ff9b::7f00:1]/x"),
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

    fn redirect(chain: &[&str], next: &str) -> Result<(), String> {
        let chain: Vec<Url> = chain.iter().map(|u| Url::parse(u).unwrap()).collect();
        check_redirect(&chain, &Url::parse(next).unwrap(), false)
    }

    fn strict_redirect(chain: &[&str], next: &str) -> Result<(), String> {
        let chain: Vec<Url> = chain.iter().map(|u| Url::parse(u).unwrap()).collect();
        check_redirect(&chain, &Url::parse(next).unwrap(), true)
    }

    #[test]
    fn secret_headers_keep_redirects_on_the_first_origin() {
        let first = "https://mcp.example.com/mcp";
        assert_eq!(
            strict_redirect(&[first], "https://mcp.example.com/v2/mcp"),
            Ok(())
        );
        assert_eq!(
            strict_redirect(
                &[first, "https://mcp.example.com/a"],
                "https://mcp.example.com/b"
            ),
            Ok(())
        );
        for other in [
            "https://other.example.org/mcp?key=secret",
            "http://mcp.example.com/mcp",
            "https://mcp.example.com:8443/mcp",
            "https://sub.mcp.example.com/mcp",
        ] {
            let error = strict_redirect(&[first], other).unwrap_err();
            assert!(error.contains("secret headers"), "{other}: {error}");
            assert!(error.contains("check the server's URL"), "{error}");
            assert!(!error.contains("key="), "{error}");
            assert_eq!(error.lines().count(), 1, "{error}");
        }
        let error =
            strict_redirect(&[first], "https://other.example.org:444/x?key=secret").unwrap_err();
        assert!(error.contains("https://other.example.org:444"), "{error}");
        assert!(!error.contains("/x"), "no path, no query: {error}");
        // Without secret headers, the same hop is followed (as before).
        assert_eq!(redirect(&[first], "https://other.example.org/mcp"), Ok(()));
    }

    #[test]
    fn redirects_stay_within_the_first_urls_address_class() {
        let public = "https://mcp.example.com/mcp";
        let local = "http://127.0.0.1:3000/mcp";
        for (from, to) in [
            (public, "https://mcp.example.com/v2/mcp"),
            (public, "https://other.example.org/mcp"),
            (public, "http://mcp.example.com/mcp"),
            (local, "http://127.0.0.1:3001/mcp"),
            (local, "http://localhost/mcp"),
            (local, "https://mcp.example.com/mcp"),
            ("http://10.0.0.5/mcp", "http://10.0.0.6/mcp"),
        ] {
            assert_eq!(redirect(&[from], to), Ok(()), "{from} -> {to}");
        }
        for (from, to, words) in [
            (
                public,
                "http://169.254.169.254/latest/meta-data/",
                "link-local",
            ),
            (
                local,
                "http://169.254.169.254/latest/meta-data/",
                "link-local",
            ),
            (public, "http://metadata.google.internal/x", "metadata"),
            (public, "http://127.0.0.1:8080/admin", "not on this machine"),
            (public, "http://localhost/admin", "not on this machine"),
            (public, "http://[::1]/admin", "not on this machine"),
            (public, "http://192.168.1.1/", "private address"),
            (public, "http://[fd00::1]/", "private address"),
            (local, "http://10.0.0.1/mcp", "private address"),
            (public, "http://u:p@mcp.example.com/mcp", "credentials"),
            (public, "file:///etc/passwd", "only http and https"),
            (public, "ftp://mcp.example.com/x", "only http and https"),
        ] {
            let error = redirect(&[from], to).unwrap_err();
            assert!(error.contains(words), "{from} -> {to}: {error}");
            assert!(error.contains("check the server's URL"), "{error}");
        }
        // A chain is judged from its first URL: public → public → loopback is refused.
        assert!(redirect(&[public, "https://other.example.org/"], "http://127.0.0.1/").is_err());
    }

    #[test]
    fn at_most_five_redirects_are_followed() {
        let mut chain = vec!["http://127.0.0.1:3000/mcp".to_owned()];
        for hop in 1..=MAX_REDIRECTS {
            let next = format!("http://127.0.0.1:3000/hop/{hop}");
            let refs: Vec<&str> = chain.iter().map(String::as_str).collect();
            assert_eq!(redirect(&refs, &next), Ok(()), "redirect {hop}");
            chain.push(next);
        }
        let refs: Vec<&str> = chain.iter().map(String::as_str).collect();
        let error = redirect(&refs, "http://127.0.0.1:3000/hop/6?code=secret").unwrap_err();
        assert!(error.contains("stopped after 5 redirects"), "{error}");
        assert!(
            !error.contains("secret"),
            "the query is never shown: {error}"
        );
    }
}
