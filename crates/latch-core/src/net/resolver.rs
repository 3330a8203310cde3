//! Where a host *name* may take Latch. [`super::endpoints`] judges IP literals and `localhost`
//! before a request goes out; a name like `internal.attacker.example` passes there, so this
//! resolver judges what it resolves to, by the same rule, for every request of Latch's HTTP
//! clients: link-local, metadata-service and reserved addresses are dropped always, loopback
//! and private ones unless the origin — the MCP server the request started at — is itself a
//! loopback or private address (or `localhost`). reqwest connects to the addresses returned
//! here, so a second lookup (DNS rebinding) cannot swap in another.
//!
//! It mirrors rmcp's resolver for its own OAuth requests (`MetadataAddressResolver`, private
//! to rmcp, so not reusable): a name's DNS answers never widen the policy, and hosts of proxies
//! set in the environment are not filtered (a proxied request resolves only the proxy). One
//! difference: the origin's own name may resolve to loopback or private addresses — the person
//! chose that server (an intranet `mcp.corp`) — though never to blocked ones.

use std::{
    net::{SocketAddr, ToSocketAddrs},
    sync::Arc,
};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

use super::endpoints::{Class, class_of, class_of_ip};

const PROXY_ENV_VARS: [&str; 6] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// Names resolved by the operating system.
struct SystemLookup;

impl Resolve for SystemLookup {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs =
                tokio::task::spawn_blocking(move || (host.as_str(), 0).to_socket_addrs()).await??;
            Ok(Box::new(addrs) as Addrs)
        })
    }
}

/// Why no address of a name was used: the source of reqwest's connect error, which the
/// connection errors look for to say so plainly (the host, never a path or query).
#[derive(Debug)]
pub(crate) struct AddressRefused {
    /// The name, lower-cased, without a trailing dot.
    pub(crate) host: String,
    pub(crate) reason: String,
}

impl std::fmt::Display for AddressRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for AddressRefused {}

/// The resolver of the HTTP client for requests that start at one origin.
#[derive(Clone)]
pub(crate) struct CheckedResolver {
    /// The origin's host when it is a name other than `localhost`, lower-cased.
    origin_name: Option<String>,
    /// Loopback or private, when the origin is an address of that class (or `localhost`).
    origin_class: Option<Class>,
    unfiltered: Arc<[String]>,
    lookup: Arc<dyn Resolve>,
}

impl CheckedResolver {
    /// For requests that start at `origin`, through the system's resolver.
    pub(crate) fn for_origin(origin: &Url) -> Self {
        let proxies = PROXY_ENV_VARS
            .iter()
            .filter_map(|var| std::env::var(var).ok());
        Self::with_lookup(origin, Arc::new(SystemLookup)).with_proxies(proxies)
    }

    /// For requests that start at `origin`, names looked up by `lookup` (tests).
    pub(crate) fn with_lookup(origin: &Url, lookup: Arc<dyn Resolve>) -> Self {
        let origin_class =
            class_of(origin).filter(|c| matches!(c, Class::Loopback | Class::Private));
        let origin_name = match origin.host() {
            Some(Host::Domain(name)) if origin_class.is_none() => Some(normalize(name)),
            _ => None,
        };
        Self {
            origin_name,
            origin_class,
            unfiltered: Arc::new([]),
            lookup,
        }
    }

    fn with_proxies(mut self, proxies: impl IntoIterator<Item = String>) -> Self {
        self.unfiltered = proxies
            .into_iter()
            .filter_map(|proxy| {
                let proxy = if proxy.contains("://") {
                    proxy
                } else {
                    format!("http://{proxy}")
                };
                Url::parse(&proxy).ok()?.host_str().map(normalize)
            })
            .collect();
        self
    }

    /// What the policy says of one address of `host`: `Ok` to use it, else why not.
    fn judge(&self, host: &str, addr: &SocketAddr) -> Result<(), String> {
        let class = class_of_ip(addr.ip());
        match class {
            Class::Public => Ok(()),
            Class::Blocked => Err(format!(
                "refusing {host}: it resolves to a link-local, metadata-service or reserved address"
            )),
            _ if self.origin_class == Some(class) => Ok(()),
            // The person chose this server; its own name may point at this machine or the LAN.
            _ if self.origin_name.as_deref() == Some(host) => Ok(()),
            Class::Loopback => Err(format!(
                "refusing {host}: it resolves to this machine, and a server that is not on this machine cannot send Latch there"
            )),
            Class::Private => Err(format!(
                "refusing {host}: it resolves to a private address, and a server that is not on the local network cannot send Latch there"
            )),
        }
    }
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let this = self.clone();
        Box::pin(async move {
            let host = normalize(name.as_str());
            let resolved: Vec<SocketAddr> = this.lookup.resolve(name).await?.collect();
            if this.unfiltered.contains(&host) {
                return Ok(Box::new(resolved.into_iter()) as Addrs);
            }
            let mut refusal = None;
            let allowed: Vec<SocketAddr> = resolved
                .into_iter()
                .filter(|addr| match this.judge(&host, addr) {
                    Ok(()) => true,
                    Err(reason) => {
                        refusal.get_or_insert(reason);
                        false
                    }
                })
                .collect();
            match (allowed.is_empty(), refusal) {
                (true, Some(reason)) => {
                    tracing::debug!("{reason}");
                    Err(Box::new(AddressRefused { host, reason }) as _)
                }
                (false, Some(reason)) => {
                    tracing::debug!("dropped some addresses: {reason}");
                    Ok(Box::new(allowed.into_iter()) as Addrs)
                }
                _ => Ok(Box::new(allowed.into_iter()) as Addrs),
            }
        })
    }
}

fn normalize(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use std::{collections::HashMap, net::IpAddr};

    use super::*;

    /// Answers each name with fixed addresses (none for unknown names).
    pub(crate) struct StaticLookup(pub(crate) HashMap<String, Vec<IpAddr>>);

    impl StaticLookup {
        pub(crate) fn with(entries: &[(&str, &[&str])]) -> Arc<Self> {
            Arc::new(Self(
                entries
                    .iter()
                    .map(|(name, ips)| {
                        let ips = ips.iter().map(|ip| ip.parse().unwrap()).collect();
                        (name.to_string(), ips)
                    })
                    .collect(),
            ))
        }
    }

    impl Resolve for StaticLookup {
        fn resolve(&self, name: Name) -> Resolving {
            let addrs: Vec<SocketAddr> = self
                .0
                .get(name.as_str())
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(|ip| (ip, 0).into())
                .collect();
            Box::pin(async move { Ok(Box::new(addrs.into_iter()) as Addrs) })
        }
    }

    fn lookup() -> Arc<StaticLookup> {
        StaticLookup::with(&[
            ("mcp.example.com", &["93.184.216.34"]),
            ("as.example.com", &["93.184.216.35", "2606:4700::1111"]),
            ("loopback.attacker.test", &["127.0.0.1"]),
            ("v6-loopback.attacker.test", &["::1"]),
            ("private.attacker.test", &["10.0.0.9"]),
            ("imds.attacker.test", &["169.254.169.254"]),
            ("nat64-imds.attacker.test", &["64:ff9b::a9fe:a9fe"]),
            ("rebind.attacker.test", &["93.184.216.36", "127.0.0.1"]),
            ("mcp.corp", &["10.0.0.5"]),
            ("sso.corp", &["10.0.0.9"]),
            ("mcp.broken.test", &["169.254.169.254"]),
        ])
    }

    async fn resolve(origin: &str, name: &str) -> Result<Vec<IpAddr>, String> {
        let resolver = CheckedResolver::with_lookup(&Url::parse(origin).unwrap(), lookup());
        resolver
            .resolve(name.parse().unwrap())
            .await
            .map(|addrs| addrs.map(|a| a.ip()).collect())
            .map_err(|e| e.to_string())
    }

    #[tokio::test]
    async fn a_public_server_cannot_send_latch_to_names_of_internal_addresses() {
        let origin = "https://mcp.example.com/mcp";
        for (name, words) in [
            ("loopback.attacker.test", "resolves to this machine"),
            ("v6-loopback.attacker.test", "resolves to this machine"),
            ("private.attacker.test", "resolves to a private address"),
            ("imds.attacker.test", "metadata-service"),
            ("nat64-imds.attacker.test", "metadata-service"),
        ] {
            let error = resolve(origin, name).await.unwrap_err();
            assert!(error.starts_with(&format!("refusing {name}: ")), "{error}");
            assert!(error.contains(words), "{name}: {error}");
        }
        assert_eq!(resolve(origin, "as.example.com").await.unwrap().len(), 2);
        // A name with a public and an internal address: only the public one is used.
        assert_eq!(
            resolve(origin, "rebind.attacker.test").await.unwrap(),
            vec!["93.184.216.36".parse::<IpAddr>().unwrap()]
        );
    }

    #[tokio::test]
    async fn local_and_intranet_servers_keep_their_class_but_never_reach_metadata() {
        for origin in ["http://127.0.0.1:3000/mcp", "http://localhost:3000/mcp"] {
            assert!(resolve(origin, "loopback.attacker.test").await.is_ok());
            assert!(resolve(origin, "v6-loopback.attacker.test").await.is_ok());
            assert!(resolve(origin, "private.attacker.test").await.is_err());
            assert!(resolve(origin, "imds.attacker.test").await.is_err());
            assert!(resolve(origin, "as.example.com").await.is_ok());
        }
        let private = "http://10.0.0.4/mcp";
        assert!(resolve(private, "sso.corp").await.is_ok());
        assert!(resolve(private, "loopback.attacker.test").await.is_err());
        assert!(resolve(private, "imds.attacker.test").await.is_err());
    }

    #[tokio::test]
    async fn a_named_server_reaches_its_own_addresses_and_its_answers_widen_nothing() {
        let origin = "http://mcp.corp/mcp";
        assert_eq!(
            resolve(origin, "mcp.corp").await.unwrap(),
            vec!["10.0.0.5".parse::<IpAddr>().unwrap()]
        );
        assert!(resolve("http://MCP.corp./mcp", "mcp.corp").await.is_ok());
        // Another name on the LAN is refused: a DNS answer is not a reason to trust more.
        assert!(resolve(origin, "sso.corp").await.is_err());
        assert!(resolve(origin, "loopback.attacker.test").await.is_err());
        // Not even the server's own name may lead to the metadata service.
        let error = resolve("http://mcp.broken.test/mcp", "mcp.broken.test")
            .await
            .unwrap_err();
        assert!(error.contains("metadata-service"), "{error}");
    }

    #[tokio::test]
    async fn proxies_are_not_filtered_and_unknown_names_stay_unknown() {
        let resolver = CheckedResolver::with_lookup(
            &Url::parse("https://mcp.example.com/").unwrap(),
            lookup(),
        )
        .with_proxies(["loopback.attacker.test:3128".to_owned()]);
        let addrs: Vec<_> = resolver
            .resolve("loopback.attacker.test".parse().unwrap())
            .await
            .unwrap()
            .collect();
        assert_eq!(addrs.len(), 1);
        // No answer at all is not a refusal: reqwest says the name did not resolve.
        assert!(
            resolve("https://mcp.example.com/", "nowhere.test")
                .await
                .unwrap()
                .is_empty()
        );
    }
}
