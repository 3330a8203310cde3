//! The headless sign-in agent, for automated tests only (`--browser headless`): Latch's own
//! HTTP client fetches the authorization URL with a cookie jar and follows GET redirects, a
//! bounded number of hops, until one reaches the redirect URI — then hands that callback URL to
//! the flow. A page that wants a person (a form, a login) stops it with a clear error.

use std::sync::Arc;

use reqwest::{cookie::Jar, redirect::Policy};
use url::Url;

use crate::net::check_url_to_open;

const MAX_HOPS: usize = 20;

/// Follow `authorization_url` until a redirect reaches `redirect_uri`; return that URL.
pub(crate) async fn follow(authorization_url: &str, redirect_uri: &str) -> Result<String, String> {
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .cookie_provider(Arc::new(Jar::default()))
        .user_agent(concat!("latch-headless/", env!("CARGO_PKG_VERSION")))
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())?;
    let mut current = check_url_to_open(authorization_url)?;
    let first = current.clone();
    for _ in 0..MAX_HOPS {
        let response = client
            .get(current.clone())
            .send()
            .await
            .map_err(|e| format!("could not load {}: {}", where_(&current), e.without_url()))?;
        let status = response.status();
        if !status.is_redirection() {
            return Err(format!(
                "{} answered HTTP {} instead of redirecting: this sign-in needs a person — use --browser system",
                where_(&current),
                status.as_u16()
            ));
        }
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| format!("{} redirected without a Location", where_(&current)))?;
        let next = current
            .join(location)
            .map_err(|e| format!("{} redirected to an invalid URL ({e})", where_(&current)))?;
        if same_endpoint(&next, redirect_uri) {
            return Ok(next.to_string());
        }
        current = check_url_to_open(next.as_str())?;
        // The sign-in pages may not send the agent to this machine or the local network
        // unless they are there themselves, nor ever to a metadata service.
        crate::net::check_hop(&first, &current)
            .map_err(|e| format!("{} redirected elsewhere: {e}", where_(&first)))?;
    }
    Err(format!(
        "gave up after {MAX_HOPS} redirects without reaching the redirect URI"
    ))
}

/// Does `url` point at the redirect URI (same scheme, host, port and path)?
fn same_endpoint(url: &Url, redirect_uri: &str) -> bool {
    Url::parse(redirect_uri).is_ok_and(|r| {
        r.scheme() == url.scheme()
            && r.host_str() == url.host_str()
            && r.port_or_known_default() == url.port_or_known_default()
            && r.path() == url.path()
    })
}

/// Scheme, host and path of a URL — never its query, which may carry codes.
fn where_(url: &Url) -> String {
    format!(
        "{}://{}{}",
        url.scheme(),
        url.host_str().unwrap_or_default(),
        url.path()
    )
}
