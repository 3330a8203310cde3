//! The `latch-app:` scheme: it serves the MCP App pages the core keeps (`Latch::app_page`) to
//! the sandboxed frames the UI makes for them, each with its Content-Security-Policy as a
//! header (and again as the page's first `<meta>`, for engines that read only that). The
//! scheme's pages are on their own origin, which no capability lists: Tauri injects its IPC
//! into the main frame only, and a call without the main frame's invoke key is refused.

use latch_core::app::Latch;
use tauri::{
    Manager, Runtime, UriSchemeContext, UriSchemeResponder,
    http::{Request, Response, header},
};

/// The scheme's name (`latch-app://localhost/<id>`; `http://latch-app.localhost/<id>` on
/// Windows).
pub const SCHEME: &str = "latch-app";

/// Answer one request of the scheme: the page whose id is the path, or 404.
pub fn serve<R: Runtime>(
    ctx: UriSchemeContext<'_, R>,
    request: Request<Vec<u8>>,
    responder: UriSchemeResponder,
) {
    let id = request.uri().path().trim_start_matches('/').to_owned();
    let page = ctx
        .app_handle()
        .try_state::<Latch>()
        .and_then(|latch| latch.app_page(&id));
    let response = match page {
        Some(page) => Response::builder()
            .status(200)
            .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
            .header("Content-Security-Policy", &page.policy)
            .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
            .header(header::REFERRER_POLICY, "no-referrer")
            .header(header::CACHE_CONTROL, "no-store")
            .header(
                "Permissions-Policy",
                "camera=(), microphone=(), geolocation=(), clipboard-write=()",
            )
            .body(with_policy_meta(&page.html, &page.policy).into_bytes()),
        None => Response::builder()
            .status(404)
            .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .body(b"No such app page.".to_vec()),
    };
    match response {
        Ok(response) => responder.respond(response),
        Err(error) => tracing::warn!(%error, "could not build an app page's response"),
    }
}

/// The page with its policy as a `<meta http-equiv>` right after `<head>` (or first, when it
/// has no head). `frame-ancestors` is header-only; the header carries it.
fn with_policy_meta(html: &str, policy: &str) -> String {
    let meta_policy: String = policy
        .split("; ")
        .filter(|d| !d.starts_with("frame-ancestors"))
        .collect::<Vec<_>>()
        .join("; ");
    let meta = format!(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"{}\">",
        meta_policy.replace('"', "&quot;")
    );
    let lower = html.to_ascii_lowercase();
    // `<head>` or `<head …>`, not `<header>`.
    let at = lower
        .match_indices("<head")
        .map(|(start, _)| start)
        .find(|&start| {
            lower[start + 5..]
                .chars()
                .next()
                .is_some_and(|c| c == '>' || c.is_ascii_whitespace())
        })
        .and_then(|start| lower[start..].find('>').map(|end| start + end + 1));
    match at {
        Some(at) => format!("{}{meta}{}", &html[..at], &html[at..]),
        None => format!("{meta}{html}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_goes_first_in_the_head() {
        let page = with_policy_meta(
            "<!doctype html><HTML><Head lang=en><script>x()</script></head></html>",
            "default-src 'none'; frame-ancestors tauri://localhost",
        );
        assert_eq!(
            page,
            "<!doctype html><HTML><Head lang=en><meta http-equiv=\"Content-Security-Policy\" \
             content=\"default-src 'none'\"><script>x()</script></head></html>"
        );
        assert!(with_policy_meta("<p>hi</p>", "default-src 'none'").starts_with("<meta "));
        assert!(
            with_policy_meta("<header>x</header>", "default-src 'none'").starts_with("<meta "),
            "a <header> is no <head>"
        );
    }
}
