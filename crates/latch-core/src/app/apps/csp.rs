//! The Content-Security-Policy an MCP App's page is served with. The app names the origins
//! it needs in its resource's `_meta.ui.csp` (SEP-1865); Latch keeps only plain origins
//! (`https://cdn.example`, `https://*.example`, `wss://live.example:8443`) and builds a policy
//! that is never looser than the default: no network, no nested frames, no plugins, no form
//! posts, inline script and style only, and the page may be framed by Latch's window alone.
//! `'self'` is never granted: the page's own scheme serves other apps' pages too.

use serde::Serialize;
use serde_json::Value;

/// The origins an app asked for and Latch accepted, by what they are used for.
#[derive(Debug, Clone, Default, Serialize, PartialEq, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct AppCsp {
    /// fetch / XHR / WebSocket (`connect-src`).
    pub connect_domains: Vec<String>,
    /// Scripts, styles, images, fonts, media.
    pub resource_domains: Vec<String>,
    /// Nested frames (`frame-src`).
    pub frame_domains: Vec<String>,
    /// `base-uri`.
    pub base_uri_domains: Vec<String>,
    /// What the app asked for that is not a plain origin, and was left out.
    pub refused: Vec<String>,
}

/// The origins of Latch's own window (the only documents that may frame an app), on Linux
/// and macOS (`tauri://localhost`) and on Windows (`http(s)://tauri.localhost`).
pub const HOST_ORIGINS: &str = "tauri://localhost http://tauri.localhost https://tauri.localhost";

impl AppCsp {
    /// From the resource's `_meta.ui.csp` (absent or malformed: nothing).
    pub fn from_meta(csp: Option<&Value>) -> Self {
        let mut out = Self::default();
        let Some(csp) = csp else { return out };
        let mut take = |key: &str| -> Vec<String> {
            let mut kept = Vec::new();
            for item in csp.get(key).and_then(Value::as_array).into_iter().flatten() {
                match item.as_str().and_then(plain_origin) {
                    Some(origin) if !kept.contains(&origin) => kept.push(origin),
                    Some(_) => {}
                    None => out.refused.push(shown(item)),
                }
            }
            kept
        };
        let connect = take("connectDomains");
        let resource = take("resourceDomains");
        let frame = take("frameDomains");
        let base = take("baseUriDomains");
        out.connect_domains = connect;
        out.resource_domains = resource;
        out.frame_domains = frame;
        out.base_uri_domains = base;
        out
    }

    /// The policy the page is served with.
    pub fn policy(&self) -> String {
        let list = |fixed: &str, origins: &[String]| {
            let mut parts: Vec<&str> = fixed.split_whitespace().collect();
            parts.extend(origins.iter().map(String::as_str));
            if parts.is_empty() {
                "'none'".to_owned()
            } else {
                parts.join(" ")
            }
        };
        let r = &self.resource_domains;
        [
            "default-src 'none'".to_owned(),
            format!("script-src {}", list("'unsafe-inline'", r)),
            format!("style-src {}", list("'unsafe-inline'", r)),
            format!("img-src {}", list("data:", r)),
            format!("font-src {}", list("data:", r)),
            format!("media-src {}", list("data:", r)),
            format!("connect-src {}", list("", &self.connect_domains)),
            format!("frame-src {}", list("", &self.frame_domains)),
            format!("base-uri {}", list("", &self.base_uri_domains)),
            "object-src 'none'".to_owned(),
            "form-action 'none'".to_owned(),
            format!("frame-ancestors {HOST_ORIGINS}"),
        ]
        .join("; ")
    }
}

/// An asked-for item as it may be shown: short, one line.
fn shown(item: &Value) -> String {
    let text = item
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| item.to_string());
    let one_line: String = text.chars().filter(|c| !c.is_control()).take(80).collect();
    one_line
}

/// `scheme://host[:port]` with a web scheme, an optional `*.` wildcard on the first label
/// only, and nothing else (no path, query, user, quotes, spaces or separators); `None`
/// otherwise. A lone `*`, `data:`, `blob:`, `'unsafe-eval'` and the like are refused.
pub fn plain_origin(asked: &str) -> Option<String> {
    let asked = asked.trim().trim_end_matches('/');
    let (scheme, rest) = asked.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if !matches!(scheme.as_str(), "https" | "http" | "wss" | "ws") {
        return None;
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (rest, None),
    };
    if let Some(port) = port
        && (!port.bytes().all(|b| b.is_ascii_digit()) || port.parse::<u16>().is_err())
    {
        return None;
    }
    let bare = host.strip_prefix("*.").unwrap_or(host);
    let label_ok = |l: &str| {
        !l.is_empty() && l.len() <= 63 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if bare.is_empty() || bare.len() > 253 || !bare.split('.').all(label_ok) {
        return None;
    }
    let mut origin = format!("{scheme}://{}", host.to_ascii_lowercase());
    if let Some(port) = port {
        origin.push(':');
        origin.push_str(port);
    }
    Some(origin)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn without_a_csp_the_app_gets_no_network_and_only_inline_code() {
        let policy = AppCsp::from_meta(None).policy();
        assert_eq!(
            policy,
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
             img-src data:; font-src data:; media-src data:; connect-src 'none'; \
             frame-src 'none'; base-uri 'none'; object-src 'none'; form-action 'none'; \
             frame-ancestors tauri://localhost http://tauri.localhost https://tauri.localhost"
        );
        assert!(
            !policy.contains("'self'"),
            "the scheme serves other apps' pages too"
        );
    }

    #[test]
    fn the_origins_an_app_asks_for_are_added_where_they_belong() {
        let csp = AppCsp::from_meta(Some(&json!({
            "connectDomains": ["https://api.example", "wss://live.example:8443/"],
            "resourceDomains": ["https://*.cdn.example", "https://api.example"],
        })));
        let policy = csp.policy();
        assert!(policy.contains("connect-src https://api.example wss://live.example:8443;"));
        assert!(
            policy
                .contains("script-src 'unsafe-inline' https://*.cdn.example https://api.example;")
        );
        assert!(policy.contains("img-src data: https://*.cdn.example https://api.example;"));
        assert!(policy.contains("frame-src 'none';"));
        assert!(csp.refused.is_empty());
    }

    /// Whatever an app writes, the policy never gets looser than an origin list: no
    /// wildcard, no scheme source, no keyword, no extra directive smuggled in.
    #[test]
    fn anything_but_a_plain_origin_is_refused() {
        let hostile = [
            "*",
            "https://*",
            "data:",
            "blob:",
            "'unsafe-eval'",
            "'self'",
            "https:",
            "https://a.example; script-src *",
            "https://a.example 'unsafe-eval'",
            "https://a.example/path",
            "https://user@a.example",
            "javascript://a.example",
            "https://a.*.example",
            "https://a.example:99999x",
            "latch-app://localhost",
            "tauri://localhost",
        ];
        let csp = AppCsp::from_meta(Some(&json!({
            "connectDomains": hostile,
            "resourceDomains": hostile,
            "frameDomains": hostile,
            "baseUriDomains": [42, null],
        })));
        assert!(csp.connect_domains.is_empty(), "{:?}", csp.connect_domains);
        assert!(csp.resource_domains.is_empty());
        assert!(csp.frame_domains.is_empty());
        assert!(csp.base_uri_domains.is_empty());
        assert_eq!(csp.refused.len(), hostile.len() * 3 + 2);
        assert_eq!(csp.policy(), AppCsp::default().policy());
    }
}
