//! Latch's HTTP clients. Where a request may go depends on where it started: a name that
//! resolves to this machine is fine for a server on this machine and not for one on the
//! internet ([`super::CheckedResolver`]), and a server with secret headers may not be
//! redirected to another origin. reqwest takes one resolver and one redirect policy per
//! client, so there is one client per origin host and header kind, built on first use and
//! shared after (connection pooling, a user agent, sane timeouts).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, OnceLock},
    time::Duration,
};

use url::Url;

use super::{CheckedResolver, redirect_policy};

/// The client for requests that start at `origin` (the MCP server's URL): pooled, with a user
/// agent and sane timeouts; names resolved and their addresses checked against the server's
/// ([`CheckedResolver`]); redirects bounded and kept off private and metadata addresses, and,
/// with `secret_headers` (the server has custom headers), on the server's own origin
/// ([`redirect_policy`]).
pub(crate) fn client_for(origin: &Url, secret_headers: bool) -> reqwest::Client {
    static CLIENTS: OnceLock<Mutex<HashMap<(String, bool), reqwest::Client>>> = OnceLock::new();
    let key = (
        origin.host_str().unwrap_or_default().to_ascii_lowercase(),
        secret_headers,
    );
    let clients = CLIENTS.get_or_init(Default::default);
    if let Some(client) = clients.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return client.clone();
    }
    // Built outside the lock: loading the root certificates takes a while.
    let built = build(CheckedResolver::for_origin(origin), secret_headers);
    clients
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(key)
        .or_insert(built)
        .clone()
}

fn build(resolver: CheckedResolver, same_origin_only: bool) -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(concat!("latch/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10))
        .redirect(redirect_policy(same_origin_only))
        .dns_resolver(Arc::new(resolver))
        .build()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    //! The clients against real sockets on 127.0.0.1, with names answered by a fixed lookup
    //! (the system resolver cannot be told that a name is on the internet).

    use std::net::{IpAddr, SocketAddr};

    use reqwest::dns::{Addrs, Name, Resolve, Resolving};
    use tokio::{
        io::{AsyncReadExt, AsyncWriteExt},
        net::TcpListener,
    };

    use super::*;
    use crate::net::{AddressRefused, RedirectRefused};

    /// Every name answers 127.0.0.1.
    struct AllLoopback;

    impl Resolve for AllLoopback {
        fn resolve(&self, _: Name) -> Resolving {
            let addr: SocketAddr = (IpAddr::from([127, 0, 0, 1]), 0).into();
            Box::pin(async move { Ok(Box::new(std::iter::once(addr)) as Addrs) })
        }
    }

    /// A server on 127.0.0.1 that answers every request with `answer` and keeps each request's
    /// head (request line and headers, lower-cased).
    struct Peer {
        port: u16,
        seen: Arc<Mutex<Vec<String>>>,
        task: tokio::task::JoinHandle<()>,
    }

    impl Peer {
        async fn start(answer: String) -> Self {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = listener.local_addr().unwrap().port();
            let seen = Arc::new(Mutex::new(Vec::new()));
            let log = seen.clone();
            let task = tokio::spawn(async move {
                while let Ok((mut socket, _)) = listener.accept().await {
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n")
                        && socket.read(&mut byte).await.is_ok_and(|n| n == 1)
                    {
                        head.push(byte[0]);
                    }
                    log.lock()
                        .unwrap()
                        .push(String::from_utf8_lossy(&head).to_ascii_lowercase());
                    let _ = socket.write_all(answer.as_bytes()).await;
                    let _ = socket.shutdown().await;
                }
            });
            Self { port, seen, task }
        }

        fn seen(&self) -> Vec<String> {
            self.seen.lock().unwrap().clone()
        }
    }

    impl Drop for Peer {
        fn drop(&mut self) {
            self.task.abort();
        }
    }

    fn ok() -> String {
        "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok".to_owned()
    }

    fn redirect(to: &str) -> String {
        format!(
            "HTTP/1.1 307 Temporary Redirect\r\nlocation: {to}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        )
    }

    /// Is `T` among the causes of `error`?
    fn caused_by<T: std::error::Error + 'static>(error: &reqwest::Error) -> Option<String> {
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
        while let Some(e) = cause {
            if let Some(found) = e.downcast_ref::<T>() {
                return Some(found.to_string());
            }
            cause = e.source();
        }
        None
    }

    #[tokio::test]
    async fn a_public_server_cannot_reach_this_machine_by_name_directly_or_by_redirect() {
        let internal = Peer::start(ok()).await;
        let internal_url = format!("http://internal.attacker.test:{}/admin", internal.port);
        let server = Peer::start(redirect(&internal_url)).await;
        // The server's own name is on the internet as far as the policy knows; it answers on
        // loopback here because the person chose it (its own name may resolve anywhere).
        let origin = Url::parse(&format!("http://mcp.example.test:{}/mcp", server.port)).unwrap();
        let client = build(
            CheckedResolver::with_lookup(&origin, Arc::new(AllLoopback)),
            false,
        );

        let error = client.get(internal_url.as_str()).send().await.unwrap_err();
        let reason = caused_by::<AddressRefused>(&error).expect("refused by the resolver");
        assert!(
            reason.starts_with("refusing internal.attacker.test: it resolves to this machine"),
            "{reason}"
        );

        let error = client.get(origin.as_str()).send().await.unwrap_err();
        assert!(caused_by::<AddressRefused>(&error).is_some(), "{error:?}");
        assert_eq!(server.seen().len(), 1, "the server was reached");
        assert!(
            internal.seen().is_empty(),
            "the internal service got {:?}",
            internal.seen()
        );

        // From a server on this machine, the same name is fine.
        let local = Url::parse(&format!("http://127.0.0.1:{}/mcp", server.port)).unwrap();
        let client = build(
            CheckedResolver::with_lookup(&local, Arc::new(AllLoopback)),
            false,
        );
        let answer = client.get(local.as_str()).send().await.unwrap();
        assert_eq!(answer.text().await.unwrap(), "ok");
        assert_eq!(internal.seen().len(), 1);
    }

    #[tokio::test]
    async fn secret_headers_never_follow_a_redirect_to_another_origin() {
        let other = Peer::start(ok()).await;
        let other_url = format!("http://127.0.0.1:{}/collect?x=1", other.port);
        let server = Peer::start(redirect(&other_url)).await;
        let origin = Url::parse(&format!("http://127.0.0.1:{}/mcp", server.port)).unwrap();
        let resolver = || CheckedResolver::with_lookup(&origin, Arc::new(AllLoopback));

        let strict = build(resolver(), true);
        let error = strict
            .post(origin.as_str())
            .header("x-api-key", "sekrit-value")
            .send()
            .await
            .unwrap_err();
        let reason = caused_by::<RedirectRefused>(&error).expect("the hop was refused");
        assert!(
            reason.contains(&format!("http://127.0.0.1:{}", other.port)),
            "{reason}"
        );
        assert!(reason.contains("secret headers"), "{reason}");
        assert!(
            !reason.contains("collect") && !reason.contains("x=1"),
            "{reason}"
        );
        assert!(other.seen().is_empty(), "{:?}", other.seen());
        assert!(server.seen()[0].contains("x-api-key: sekrit-value"));

        // Without secret headers the hop is followed, as before (and shows what was at stake:
        // reqwest carries custom headers along).
        let lenient = build(resolver(), false);
        let answer = lenient
            .post(origin.as_str())
            .header("x-api-key", "sekrit-value")
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
        assert!(other.seen()[0].contains("x-api-key: sekrit-value"));
    }
}
