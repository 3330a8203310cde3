//! How a 2026-07-28 connection hears that the server's lists changed. That era has no GET
//! event stream: the client opens a `subscriptions/listen` request whose response stream stays
//! open and carries the change notifications it opted in to. rmcp's `Peer::listen` opens one,
//! but notifications routed to a subscription never reach the [`rmcp::ClientHandler`]
//! callbacks, so this module does what those callbacks do on a 2025 connection (drop the cached
//! tool list, publish [`Event::ToolsChanged`], pass the notification to a bridge's agent), and
//! listens again when the stream breaks — streams are not resumable, and changes made while it
//! was down are unknown, so the tool list is dropped then too.

use std::{sync::Arc, time::Duration};

use rmcp::{
    RoleClient,
    model::{
        ErrorCode, PromptListChangedNotification, ResourceListChangedNotification,
        ResourceUpdatedNotification, ServerNotification, SubscriptionFilter,
        ToolListChangedNotification,
    },
    service::{Peer, ServiceError, SubscriptionEnd},
};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::connection::Shared;
use crate::events::Event;

/// The first wait before listening again after the stream broke; doubled up to [`MAX_WAIT`].
const FIRST_WAIT: Duration = Duration::from_millis(250);
const MAX_WAIT: Duration = Duration::from_secs(30);

/// Listen for list changes on `peer` (a connection on protocol 2026-07-28 or later) until `ct`
/// is cancelled or the connection closes. Does nothing when the server announces no list
/// changes at all.
pub(crate) fn spawn(
    peer: Peer<RoleClient>,
    shared: Arc<Shared>,
    ct: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        tokio::select! {
            () = run(peer, shared, ct.clone()) => {}
            () = ct.cancelled() => {}
        }
    })
}

/// What to ask for: every list change the server says it announces.
fn filter_for(peer: &Peer<RoleClient>) -> Option<SubscriptionFilter> {
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
    any.then(|| filter.build())
}

async fn run(peer: Peer<RoleClient>, shared: Arc<Shared>, ct: CancellationToken) {
    let Some(filter) = filter_for(&peer) else {
        tracing::debug!(server = %shared.server, "the server announces no list changes");
        return;
    };
    let mut wait = FIRST_WAIT;
    let mut again = false;
    loop {
        if ct.is_cancelled() || peer.is_transport_closed() {
            return;
        }
        match peer.listen(filter.clone()).await {
            Ok(mut subscription) => {
                if again {
                    // What changed while no stream was open is unknown.
                    tools_changed(&shared).await;
                }
                wait = FIRST_WAIT;
                let end = follow(&mut subscription, &shared).await;
                tracing::debug!(server = %shared.server, ?end, "the list-change stream ended");
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
            ResourceUpdatedNotification::new(updated.params).into()
        }
        _ => return,
    };
    if let Some(relay) = &shared.relay {
        relay.notify(relayed).await;
    }
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
