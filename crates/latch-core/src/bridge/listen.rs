//! `subscriptions/listen` for an agent on 2026-07-28: from that version on, a server sends list
//! changes and resource updates only on a listen request the client keeps open, each carrying
//! the request's id as its subscription id — never on their own. The bridge answers the
//! agent's listen itself (whatever era the remote server speaks: the connection hears the
//! server's changes its own way and hands them to the relay), acknowledges the categories the
//! server offers, and passes each change on to the listens that opted in. Resource URIs are
//! subscribed on the server with `resources/subscribe` (2025-11-25 servers); a URI the server
//! refuses is left out of the acknowledgment.

use std::sync::Mutex;

#[allow(deprecated)]
use rmcp::model::{SubscribeRequest, SubscribeRequestParams};
use rmcp::{
    ErrorData, Peer, RoleServer,
    model::{
        ClientRequest, GetMeta, NotificationMetaObject, RequestId, ServerCapabilities,
        ServerNotification, ServerResult, SubscriptionFilter,
        SubscriptionsAcknowledgedNotification, SubscriptionsAcknowledgedNotificationParams,
        SubscriptionsListenRequest, SubscriptionsListenResult,
    },
    service::RequestContext,
};

use super::remote::{Remote, Retry};

/// One open listen of the agent.
struct Listen {
    id: RequestId,
    peer: Peer<RoleServer>,
    accepted: SubscriptionFilter,
}

/// The agent's open listens.
#[derive(Default)]
pub(crate) struct Listens {
    open: Mutex<Vec<Listen>>,
}

impl Listens {
    /// Serve one `subscriptions/listen` until the agent cancels it.
    pub(crate) async fn listen(
        &self,
        remote: &Remote,
        request: SubscriptionsListenRequest,
        offered: Option<ServerCapabilities>,
        context: RequestContext<RoleServer>,
    ) -> Result<ServerResult, ErrorData> {
        let requested = request.params.notifications;
        let mut accepted = match &offered {
            Some(capabilities) => requested.supported_by(capabilities),
            None => SubscriptionFilter::default(),
        };
        if let Some(uris) = accepted.resource_subscriptions.take() {
            let mut subscribed = Vec::new();
            for uri in uris {
                if subscribe(remote, &uri).await {
                    subscribed.push(uri);
                }
            }
            accepted.resource_subscriptions = Some(subscribed);
        }
        let mut acknowledgment = SubscriptionsAcknowledgedNotification::new(
            SubscriptionsAcknowledgedNotificationParams::new(accepted.clone()),
        );
        let mut meta = NotificationMetaObject::new();
        meta.set_subscription_id(context.id.clone());
        acknowledgment.extensions.insert(meta);
        context
            .peer
            .send_notification(ServerNotification::SubscriptionsAcknowledgedNotification(
                acknowledgment,
            ))
            .await
            .map_err(|error| {
                ErrorData::internal_error(
                    format!("Latch: could not acknowledge the subscription: {error}"),
                    None,
                )
            })?;
        self.open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Listen {
                id: context.id.clone(),
                peer: context.peer.clone(),
                accepted,
            });
        context.ct.cancelled().await;
        self.open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|listen| listen.id != context.id);
        Ok(ServerResult::SubscriptionsListenResult(
            SubscriptionsListenResult::complete(context.id),
        ))
    }

    /// Pass a change on to every listen that opted in to it. `false`: not a change a listen
    /// carries (the caller decides what to do with it).
    pub(crate) async fn deliver(&self, notification: &ServerNotification) -> bool {
        if !carried(notification) {
            return false;
        }
        let targets: Vec<(RequestId, Peer<RoleServer>)> = self
            .open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|listen| wanted(&listen.accepted, notification))
            .map(|listen| (listen.id.clone(), listen.peer.clone()))
            .collect();
        for (id, peer) in targets {
            let mut notification = notification.clone();
            notification.get_meta_mut().set_subscription_id(id);
            if let Err(error) = peer.send_notification(notification).await {
                tracing::debug!(%error, "could not pass a change to the agent");
            }
        }
        true
    }
}

/// Subscribe `uri` on the server; whether it took it.
#[allow(deprecated)]
async fn subscribe(remote: &Remote, uri: &str) -> bool {
    let request =
        ClientRequest::SubscribeRequest(SubscribeRequest::new(SubscribeRequestParams::new(uri)));
    remote.remember(&request);
    match remote
        .forward(request, Default::default(), Retry::Idempotent)
        .await
    {
        Ok(_) => true,
        Err(error) => {
            tracing::debug!(uri, error = %error.message, "the server did not take a resource subscription");
            false
        }
    }
}

/// The notifications a listen carries.
fn carried(notification: &ServerNotification) -> bool {
    matches!(
        notification,
        ServerNotification::ToolListChangedNotification(_)
            | ServerNotification::PromptListChangedNotification(_)
            | ServerNotification::ResourceListChangedNotification(_)
            | ServerNotification::ResourceUpdatedNotification(_)
    )
}

/// Whether a listen that accepted `filter` wants `notification`.
fn wanted(filter: &SubscriptionFilter, notification: &ServerNotification) -> bool {
    match notification {
        ServerNotification::ToolListChangedNotification(_) => {
            filter.tools_list_changed == Some(true)
        }
        ServerNotification::PromptListChangedNotification(_) => {
            filter.prompts_list_changed == Some(true)
        }
        ServerNotification::ResourceListChangedNotification(_) => {
            filter.resources_list_changed == Some(true)
        }
        ServerNotification::ResourceUpdatedNotification(update) => filter
            .resource_subscriptions
            .as_ref()
            .is_some_and(|uris| uris.contains(&update.params.uri)),
        _ => false,
    }
}
