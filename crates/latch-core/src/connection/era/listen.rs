//! How a 2026-07-28 connection hears that the server's lists changed, and that a resource it
//! follows was updated. That era has no GET event stream: the client opens a
//! `subscriptions/listen` request whose response stream stays open and carries the
//! notifications it opted in to — list changes, and updates of the resource URIs it names.
//! rmcp's `Peer::listen` opens one, but notifications routed to a subscription never reach the
//! [`rmcp::ClientHandler`] callbacks, so this module does what those callbacks do on a 2025
//! connection (drop the cached tool list, publish [`Event::ToolsChanged`] or
//! [`Event::ResourceUpdated`], pass the notification to a bridge's agent), and listens again
//! when the stream breaks — streams are not resumable, and changes made while it was down are
//! unknown, so the tool list is dropped and every followed resource is said to have changed.
//! A stream's filter is fixed when it opens: following or leaving a resource ([`Followed`])
//! closes it and opens one with the new set.

use std::{
    collections::BTreeSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use rmcp::{
    RoleClient,
    model::{
        ErrorCode, PromptListChangedNotification, ResourceListChangedNotification,
        ResourceUpdatedNotification, ServerNotification, SubscriptionFilter,
        ToolListChangedNotification,
    },
    service::{Peer, ServiceError, SubscriptionEnd},
};
use tokio::{sync::watch, task::JoinHandle};
use tokio_util::sync::CancellationToken;

use crate::connection::Shared;
use crate::events::Event;

/// The first wait before listening again after the stream broke; doubled up to [`MAX_WAIT`].
const FIRST_WAIT: Duration = Duration::from_millis(250);
const MAX_WAIT: Duration = Duration::from_secs(30);

/// The resources a connection follows, shared between the connection (which changes the set)
/// and its listener (which opens a stream for it).
#[derive(Clone)]
pub(crate) struct Followed {
    uris: Arc<watch::Sender<BTreeSet<String>>>,
    /// Whether a listener runs; changed only with this lock held, together with the set, so
    /// a URI added just as a listener with nothing to do stops still gets one.
    listening: Arc<Mutex<bool>>,
}

impl Default for Followed {
    fn default() -> Self {
        Self {
            uris: Arc::new(watch::Sender::new(BTreeSet::new())),
            listening: Arc::default(),
        }
    }
}

impl Followed {
    /// Follow `uri`; true when no listener runs, so the caller must start one.
    pub(crate) fn add(&self, uri: &str) -> bool {
        let mut listening = self.listening.lock().unwrap();
        self.uris
            .send_if_modified(|uris| uris.insert(uri.to_owned()));
        !std::mem::replace(&mut *listening, true)
    }

    /// Stop following `uri`; false when it was not followed.
    pub(crate) fn remove(&self, uri: &str) -> bool {
        let _listening = self.listening.lock().unwrap();
        self.uris.send_if_modified(|uris| uris.remove(uri))
    }

    /// Whether `uri` is followed.
    pub(crate) fn contains(&self, uri: &str) -> bool {
        self.uris.borrow().contains(uri)
    }

    /// A listener with nothing to listen for stops, unless a URI came meanwhile.
    fn stop_if_idle(&self) -> bool {
        let mut listening = self.listening.lock().unwrap();
        if self.uris.borrow().is_empty() {
            *listening = false;
            true
        } else {
            false
        }
    }
}

/// Listen for list changes and updates of the `followed` resources on `peer` (a connection on
/// protocol 2026-07-28 or later) until `ct` is cancelled or the connection closes. Returns at
/// once when there is nothing to listen for (the server announces no list changes and no
/// resource is followed); [`Followed::add`] says when one must be started again.
pub(crate) fn spawn(
    peer: Peer<RoleClient>,
    shared: Arc<Shared>,
    ct: CancellationToken,
    followed: Followed,
) -> JoinHandle<()> {
    *followed.listening.lock().unwrap() = true;
    tokio::spawn(async move {
        tokio::select! {
            () = run(peer, shared, ct.clone(), followed.clone()) => {}
            () = ct.cancelled() => {}
        }
        *followed.listening.lock().unwrap() = false;
    })
}

/// What to ask for: every list change the server says it announces, and the followed URIs.
fn filter_for(peer: &Peer<RoleClient>, uris: &BTreeSet<String>) -> Option<SubscriptionFilter> {
    let info = peer.peer_info()?;
    let capabilities = &info.capabilities;
    let mut filter = SubscriptionFilter::builder();
    let mut any = false;
    if capabilities
        .tools
        .as_ref()
        .is_some_and(|t| t.list_changed == Some(true))
    {
        filter = filter.tools_list_changed();
        any = true;
    }
    if capabilities
        .prompts
        .as_ref()
        .is_some_and(|p| p.list_changed == Some(true))
    {
        filter = filter.prompts_list_changed();
        any = true;
    }
    if capabilities
        .resources
        .as_ref()
        .is_some_and(|r| r.list_changed == Some(true))
    {
        filter = filter.resources_list_changed();
        any = true;
    }
    if !uris.is_empty() {
        filter = filter.resource_subscriptions(uris.iter().cloned());
        any = true;
    }
    any.then(|| filter.build())
}

async fn run(
    peer: Peer<RoleClient>,
    shared: Arc<Shared>,
    ct: CancellationToken,
    followed: Followed,
) {
    let mut changes = followed.uris.subscribe();
    let mut wait = FIRST_WAIT;
    let mut again = false;
    loop {
        if ct.is_cancelled() || peer.is_transport_closed() {
            return;
        }
        let uris = changes.borrow_and_update().clone();
        let Some(filter) = filter_for(&peer, &uris) else {
            if followed.stop_if_idle() {
                tracing::debug!(server = %shared.server, "nothing to listen for");
                return;
            }
            continue;
        };
        match peer.listen(filter).await {
            Ok(mut subscription) => {
                if again {
                    // What changed while no stream was open is unknown.
                    tools_changed(&shared).await;
                    for uri in &uris {
                        resource_updated(&shared, uri);
                    }
                }
                wait = FIRST_WAIT;
                let dropped = subscription
                    .acknowledged()
                    .resource_subscriptions
                    .as_ref()
                    .map_or(uris.len(), |kept| uris.len().saturating_sub(kept.len()));
                if dropped > 0 {
                    tracing::warn!(
                        server = %shared.server,
                        "the server declined updates for {dropped} of the followed resources"
                    );
                }
                tokio::select! {
                    end = follow(&mut subscription, &shared) => {
                        tracing::debug!(server = %shared.server, ?end, "the list-change stream ended");
                    }
                    changed = changes.changed() => {
                        if changed.is_err() {
                            return;
                        }
                        // A new set of resources: the old stream closes (dropping it cancels
                        // the request), a new one opens at once with the new filter.
                        again = false;
                        continue;
                    }
                }
            }
            Err(ServiceError::McpError(error))
                if error.code == ErrorCode::METHOD_NOT_FOUND
                    || error.code == ErrorCode::INVALID_PARAMS =>
            {
                tracing::info!(
                    server = %shared.server,
                    "the server does not take subscriptions/listen ({}); list changes go unheard",
                    error.message
                );
                return;
            }
            Err(ServiceError::TransportClosed) => return,
            Err(error) => {
                tracing::warn!(
                    server = %shared.server,
                    "could not listen for list changes: {}",
                    crate::words::without_type_paths(&error.to_string())
                );
            }
        }
        again = true;
        if ct.is_cancelled() || peer.is_transport_closed() {
            return;
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(MAX_WAIT);
    }
}

/// Pass on every notification of one subscription; returns how it ended.
async fn follow(
    subscription: &mut rmcp::service::Subscription,
    shared: &Shared,
) -> Option<SubscriptionEnd> {
    loop {
        match subscription.next().await {
            Ok(Some(notification)) => notified(notification, shared).await,
            Ok(None) => return subscription.end().cloned(),
            Err(error) => {
                tracing::warn!(
                    server = %shared.server,
                    "the list-change stream broke: {}",
                    crate::words::without_type_paths(&error.to_string())
                );
                return subscription.end().cloned();
            }
        }
    }
}

/// Do what the 2025 handler callbacks do for the same notification.
async fn notified(notification: ServerNotification, shared: &Shared) {
    // Relayed as fresh notifications: the subscription id in `_meta` is this connection's,
    // not the agent's.
    let relayed: ServerNotification = match notification {
        ServerNotification::ToolListChangedNotification(_) => {
            tools_changed(shared).await;
            ToolListChangedNotification::default().into()
        }
        ServerNotification::PromptListChangedNotification(_) => {
            PromptListChangedNotification::default().into()
        }
        ServerNotification::ResourceListChangedNotification(_) => {
            ResourceListChangedNotification::default().into()
        }
        ServerNotification::ResourceUpdatedNotification(updated) => {
            resource_updated(shared, &updated.params.uri);
            ResourceUpdatedNotification::new(updated.params).into()
        }
        _ => return,
    };
    if let Some(relay) = &shared.relay {
        relay.notify(relayed).await;
    }
}

fn resource_updated(shared: &Shared, uri: &str) {
    shared.events.publish(Event::ResourceUpdated {
        server: shared.server.clone(),
        uri: uri.to_owned(),
    });
}

async fn tools_changed(shared: &Shared) {
    *shared.tools.write().await = None;
    shared.events.publish(Event::ToolsChanged {
        server: shared.server.clone(),
    });
}

#[cfg(test)]
#[path = "listen/tests.rs"]
mod tests;
