//! The loopback listener that receives the browser's redirect after sign-in. One listener on
//! 127.0.0.1 serves every concurrent sign-in (matched by `state`), on an ephemeral port unless
//! a server needs a fixed one. Each `state` is answered once; the page says in plain words
//! whether sign-in worked and that the tab can be closed. Nothing from the request is echoed.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, OnceLock},
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::oneshot,
};
use url::Url;

/// The redirect URI of sign-ins that come back through the app's deep link
/// (`auth.redirect: "deep-link"`) instead of the loopback listener.
pub const DEEP_LINK_REDIRECT: &str = "latch://oauth/callback";

/// Hand a `latch://oauth/callback?…` URL (from the app's deep-link handler) to the sign-in
/// waiting for its `state`. `false` when it is not such a URL or nothing waits for it.
pub async fn deliver_callback(url: &str) -> bool {
    let Ok(parsed) = Url::parse(url) else {
        return false;
    };
    let Ok(expected) = Url::parse(DEEP_LINK_REDIRECT) else {
        return false;
    };
    if parsed.scheme() != expected.scheme()
        || parsed.host_str() != expected.host_str()
        || parsed.path() != expected.path()
    {
        return false;
    }
    let Some(state) = parsed
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
    else {
        return false;
    };
    for listener in listeners().lock().await.values() {
        let waiting = listener.lock().remove(&state);
        if let Some(waiting) = waiting {
            return waiting.send(parsed.to_string()).is_ok();
        }
    }
    false
}

/// A running listener.
pub(crate) struct CallbackListener {
    port: u16,
    pending: Mutex<HashMap<String, oneshot::Sender<String>>>,
}

/// Listeners by requested port (0 = the shared ephemeral one).
fn listeners() -> &'static tokio::sync::Mutex<HashMap<u16, Arc<CallbackListener>>> {
    static LISTENERS: OnceLock<tokio::sync::Mutex<HashMap<u16, Arc<CallbackListener>>>> =
        OnceLock::new();
    LISTENERS.get_or_init(Default::default)
}

impl CallbackListener {
    /// The listener for `port` (`None`: the shared ephemeral one), started on first use.
    pub(crate) async fn get(port: Option<u16>) -> std::io::Result<Arc<Self>> {
        let wanted = port.unwrap_or(0);
        let mut all = listeners().lock().await;
        if let Some(existing) = all.get(&wanted) {
            return Ok(existing.clone());
        }
        let socket = TcpListener::bind(("127.0.0.1", wanted)).await?;
        let listener = Arc::new(Self {
            port: socket.local_addr()?.port(),
            pending: Mutex::new(HashMap::new()),
        });
        let serving = listener.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = socket.accept().await {
                let serving = serving.clone();
                tokio::spawn(async move { serving.answer(stream).await });
            }
        });
        all.insert(wanted, listener.clone());
        Ok(listener)
    }

    pub(crate) fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}/callback", self.port)
    }

    /// Wait for the redirect carrying `state`; the receiver gets the full callback URL.
    pub(crate) fn expect(&self, state: &str) -> oneshot::Receiver<String> {
        let (tx, rx) = oneshot::channel();
        self.lock().insert(state.to_owned(), tx);
        rx
    }

    /// Stop waiting for `state` (the flow ended another way).
    pub(crate) fn forget(&self, state: &str) {
        self.lock().remove(state);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, oneshot::Sender<String>>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn answer(&self, mut stream: TcpStream) {
        let mut buffer = vec![0u8; 8192];
        let mut read = 0;
        // Read the request head (bounded; the body, if any, is ignored).
        while read < buffer.len() {
            match tokio::time::timeout(
                std::time::Duration::from_secs(10),
                stream.read(&mut buffer[read..]),
            )
            .await
            {
                Ok(Ok(0)) | Err(_) | Ok(Err(_)) => break,
                Ok(Ok(n)) => {
                    read += n;
                    if buffer[..read].windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
            }
        }
        let head = String::from_utf8_lossy(&buffer[..read]);
        let target = head
            .lines()
            .next()
            .and_then(|line| line.strip_prefix("GET "))
            .and_then(|rest| rest.split(' ').next())
            .unwrap_or_default();
        let (status, page) = self.route(target);
        let body = page_html(page);
        let response = format!(
            "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nContent-Security-Policy: default-src 'none'; style-src 'unsafe-inline'\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = stream.write_all(response.as_bytes()).await;
        let _ = stream.shutdown().await;
    }

    fn route(&self, target: &str) -> (&'static str, Page) {
        // Only an origin-form target (`/callback?…`): `@host/…` would otherwise become the
        // authority of the URL built below (found by fuzz/callback_url).
        if !target.starts_with('/') {
            return ("400 Bad Request", Page::Unexpected);
        }
        let Ok(url) = Url::parse(&format!("http://127.0.0.1:{}{target}", self.port)) else {
            return ("400 Bad Request", Page::Unexpected);
        };
        if url.path() != "/callback" {
            return ("404 Not Found", Page::Unexpected);
        }
        let param = |name: &str| {
            url.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        let Some(state) = param("state") else {
            return ("400 Bad Request", Page::Unexpected);
        };
        let Some(waiting) = self.lock().remove(&state) else {
            return ("400 Bad Request", Page::Unexpected);
        };
        let page = if param("error").is_some() {
            Page::Refused
        } else {
            Page::Done
        };
        let _ = waiting.send(url.to_string());
        ("200 OK", page)
    }
}

enum Page {
    Done,
    Refused,
    Unexpected,
}

fn page_html(page: Page) -> String {
    let (title, text) = match page {
        Page::Done => (
            "Signed in",
            "Latch got your sign-in. You can close this tab and go back to Latch.",
        ),
        Page::Refused => (
            "Sign-in did not finish",
            "The sign-in page did not grant access. You can close this tab; Latch shows what happened and lets you try again.",
        ),
        Page::Unexpected => (
            "Nothing to do here",
            "Latch is not waiting for this sign-in: it may have finished, timed out or been used already. Close this tab and start the sign-in again from Latch.",
        ),
    };
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Latch — {title}</title></head>\
         <body style=\"font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;line-height:1.5\">\
         <h1>{title}</h1><p>{text}</p></body></html>"
    )
}

/// Fuzzing entry point (`fuzz/`, built with `--cfg fuzzing`): `target` as the request target
/// of a request to the loopback listener, and `url` as a deep link. Two sign-ins wait (`s1`,
/// `s2`); each may be answered at most once, and only by a `/callback` carrying its state.
#[cfg(fuzzing)]
#[doc(hidden)]
pub fn fuzz_callback(target: &str, url: &str) {
    let listener = CallbackListener {
        port: 8123,
        pending: Mutex::new(HashMap::new()),
    };
    let mut waiting = [listener.expect("s1"), listener.expect("s2")];
    let (status, _) = listener.route(target);
    let (again, _) = listener.route(target);
    let answered: Vec<String> = waiting
        .iter_mut()
        .filter_map(|rx| rx.try_recv().ok())
        .collect();
    assert!(answered.len() <= 1, "one request answered two sign-ins");
    assert_eq!(status.starts_with("200"), answered.len() == 1);
    assert!(
        !again.starts_with("200"),
        "a replayed callback was accepted"
    );
    if let Some(url) = answered.first() {
        let parsed = Url::parse(url).expect("the listener hands over a URL");
        assert_eq!(parsed.path(), "/callback");
        assert_eq!(
            parsed.host_str(),
            Some("127.0.0.1"),
            "{target:?} became {url}"
        );
    }
    let _ = futures::executor::block_on(deliver_callback(url));
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(port: u16, target: &str) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        stream
            .write_all(format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut out = String::new();
        stream.read_to_string(&mut out).await.unwrap();
        out
    }

    #[tokio::test]
    async fn routes_by_state_once_and_echoes_nothing() {
        let listener = CallbackListener::get(None).await.unwrap();
        let again = CallbackListener::get(None).await.unwrap();
        assert_eq!(listener.port, again.port, "one shared listener");
        assert!(listener.redirect_uri().starts_with("http://127.0.0.1:"));

        let first = listener.expect("s1");
        let second = listener.expect("s2");
        let page = get(listener.port, "/callback?code=SECRETCODE&state=s2&iss=x").await;
        assert!(page.starts_with("HTTP/1.1 200") && page.contains("close this tab"));
        assert!(!page.contains("SECRETCODE"), "the code is never echoed");
        assert!(second.await.unwrap().contains("state=s2"));

        // Replayed or unknown state: refused, and the other flow still waits.
        let replay = get(listener.port, "/callback?code=c&state=s2").await;
        assert!(replay.starts_with("HTTP/1.1 400") && replay.contains("not waiting"));
        let evil = get(listener.port, "/callback?state=<script>alert(1)</script>").await;
        let other_host = listener.expect("s3");
        let authority = get(listener.port, "@evil.example/callback?code=c&state=s3").await;
        assert!(
            authority.starts_with("HTTP/1.1 400"),
            "not an origin-form target"
        );
        drop(other_host);
        assert!(!evil.contains("<script>alert"));
        let denied = get(listener.port, "/callback?error=access_denied&state=s1").await;
        assert!(denied.contains("did not grant access"));
        assert!(first.await.unwrap().contains("error=access_denied"));
    }

    #[tokio::test]
    async fn a_deep_link_reaches_the_sign_in_waiting_for_its_state() {
        // Its own port: the shared listener lives on the runtime of the test that made it,
        // and `cargo test` runs every test of this module in one process.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let listener = CallbackListener::get(Some(port)).await.unwrap();
        let waiting = listener.expect("deep-1");
        assert!(!deliver_callback("latch://other/callback?state=deep-1").await);
        assert!(!deliver_callback("https://evil.example/oauth/callback?state=deep-1").await);
        assert!(deliver_callback("latch://oauth/callback?code=c&state=deep-1").await);
        assert!(waiting.await.unwrap().contains("code=c"));
        assert!(
            !deliver_callback("latch://oauth/callback?code=c&state=deep-1").await,
            "a replayed callback finds nobody"
        );
    }

    #[tokio::test]
    async fn a_busy_fixed_port_is_an_error_not_a_crash() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let error = CallbackListener::get(Some(port)).await.err().expect("busy");
        assert_eq!(error.kind(), std::io::ErrorKind::AddrInUse);
    }
}
