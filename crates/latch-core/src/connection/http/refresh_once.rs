//! One refresh per token, however many requests meet its expiry. rmcp's `AuthClient` refreshes
//! once per 401 and its proactive path once per caller that found the token nearly expired,
//! each time with whatever grant it loads — so when several requests (or the app, the CLI and
//! the bridge) meet one expiry, the grant is refreshed several times in a row. Here every
//! refresh of a connection names the token it means to replace, and under the grant's refresh
//! lock (across processes) a stored grant holding another token means someone refreshed
//! meanwhile: nothing is sent, and the stored token is used.
//!
//! Two pieces: [`RefreshOnce`], the `StreamableHttpClient` a connection uses (rmcp's
//! `AuthClient`'s reaction to a 401, with the token named), and [`OnceStore`], the credential
//! store the connection's `AuthorizationManager` sees, which applies the rule when the guard is
//! taken. The refresh itself stays rmcp's, so `on_refresh_token_rejected`, scopes and the
//! client registration work as before.
//!
//! rmcp asks its manager for the token on every request, and the manager reads the store each
//! time: a file read or a keychain call per request, one request at a time behind the manager's
//! lock. [`RefreshOnce`] reuses the answer for [`RECHECK`] instead (never for a token within
//! [`NEAR_EXPIRY`] of its end, so rmcp still refreshes in time), and forgets it on a 401.

use std::{
    future::Future,
    sync::{Arc, Mutex},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use async_trait::async_trait;
use oauth2::TokenResponse as _;
use rmcp::transport::{
    auth::{AuthError, CredentialRefreshGuard, CredentialStore, StoredCredentials},
    streamable_http_client::{StreamableHttpError, StreamableHttpPostResponse},
};
use tokio::time::Instant;
use zeroize::Zeroizing;

use super::{
    GrantClient,
    dpop::DpopHttp,
    layer::{Delete, Error, Events, Get, Kind, Layer, Post, Request, streamable_http_client},
};
use crate::auth::SharedCredentialStore;

tokio::task_local! {
    /// The refresh this task may make, while it asks the manager for a token.
    static ROUND: Arc<Round>;
}

/// How long a connection reuses the token (or the absence of one) it got last before it reads
/// the store again — which is how it notices a grant another program refreshed, replaced or
/// removed.
const RECHECK: Duration = Duration::from_secs(5);

/// A token with less than this left is never reused: each request then goes through rmcp's
/// manager, which refreshes it ahead of its end.
const NEAR_EXPIRY: Duration = Duration::from_secs(60);

/// One request for a token: which token a refresh would replace, the newer one found instead
/// under the lock, and until when the answer may be reused.
#[derive(Default)]
struct Round {
    replacing: Mutex<Option<Zeroizing<String>>>,
    newer: Mutex<Option<String>>,
    reusable_until: Mutex<Option<Instant>>,
}

impl Round {
    /// The first grant loaded in the round, when none was named: rmcp's proactive refresh
    /// loads the grant, finds it nearly expired, then refreshes — that load is what it replaces,
    /// and its lifetime says how long the answer may be reused.
    fn remember(&self, stored: Option<&StoredCredentials>) {
        let mut replacing = self.replacing.lock().unwrap_or_else(|e| e.into_inner());
        if replacing.is_none() {
            *replacing = access_token(stored).map(|t| Zeroizing::new(t.to_owned()));
            *self
                .reusable_until
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = reusable_until(stored);
        }
    }

    /// Under the lock: the stored token, when it is not the one this round replaces.
    fn superseded_by(&self, stored: Option<&StoredCredentials>) -> Option<String> {
        let replacing = self.replacing.lock().unwrap_or_else(|e| e.into_inner());
        let old = replacing.as_ref()?;
        access_token(stored)
            .filter(|now| *now != old.as_str())
            .map(str::to_owned)
    }
}

/// Until when a token loaded now may be reused: [`RECHECK`] from now, but never within
/// [`NEAR_EXPIRY`] of the token's end (an answer of "no token" is reused for [`RECHECK`] too).
fn reusable_until(stored: Option<&StoredCredentials>) -> Option<Instant> {
    let recheck = Instant::now() + RECHECK;
    let Some(stored) = stored else {
        return Some(recheck);
    };
    let Some(token) = stored.token_response.as_ref() else {
        return Some(recheck);
    };
    let (Some(lifetime), Some(received_at)) = (token.expires_in(), stored.token_received_at) else {
        return Some(recheck);
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let left = (received_at + lifetime.as_secs()).saturating_sub(now);
    let reusable = Duration::from_secs(left).checked_sub(NEAR_EXPIRY)?;
    Some(Instant::now() + reusable.min(RECHECK))
}

fn access_token(stored: Option<&StoredCredentials>) -> Option<&str> {
    stored?
        .token_response
        .as_ref()
        .map(|t| t.access_token().secret().as_str())
}

/// Run `get` (which asks the manager for a token) as a round replacing `replacing` — or, with
/// `None`, the first grant it loads. A refresh that found a newer token under the lock gives
/// that token. Also says until when the answer may be reused (when `get` loaded the grant).
async fn round(
    replacing: Option<&str>,
    get: impl Future<Output = Result<String, AuthError>>,
) -> (Result<String, AuthError>, Option<Instant>) {
    let round = Arc::new(Round {
        replacing: Mutex::new(replacing.map(|t| Zeroizing::new(t.to_owned()))),
        ..Round::default()
    });
    let result = ROUND.scope(round.clone(), get).await;
    let newer = round.newer.lock().unwrap_or_else(|e| e.into_inner()).take();
    let reusable_until = *round
        .reusable_until
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    match (result, newer) {
        (Err(_), Some(newer)) => {
            tracing::debug!("the token was refreshed meanwhile; using the stored one");
            // Found under the lock after a load that was (nearly) expired: not reused.
            (Ok(newer), None)
        }
        (result, _) => (result, reusable_until),
    }
}

/// The grant's store as a connection's `AuthorizationManager` sees it: the same store, and
/// under the refresh lock, a refresh whose token was replaced meanwhile is refused (the round
/// takes the stored token instead). Outside a round — the keeper, sign-in — it changes nothing.
pub(super) struct OnceStore(pub(super) SharedCredentialStore);

#[async_trait]
impl CredentialStore for OnceStore {
    async fn load(&self) -> Result<Option<StoredCredentials>, AuthError> {
        let stored = self.0.load().await?;
        let _ = ROUND.try_with(|round| round.remember(stored.as_ref()));
        Ok(stored)
    }

    async fn save(&self, credentials: StoredCredentials) -> Result<(), AuthError> {
        self.0.save(credentials).await
    }

    async fn clear(&self) -> Result<(), AuthError> {
        self.0.clear().await
    }

    async fn on_refresh_token_rejected(
        &self,
        credentials: &StoredCredentials,
    ) -> Result<(), AuthError> {
        self.0.on_refresh_token_rejected(credentials).await
    }

    async fn acquire_refresh_guard(&self) -> Result<Option<CredentialRefreshGuard>, AuthError> {
        let guard = self.0.acquire_refresh_guard().await?;
        let Ok(round) = ROUND.try_with(Arc::clone) else {
            return Ok(guard);
        };
        let stored = self.0.load().await?;
        if let Some(newer) = round.superseded_by(stored.as_ref()) {
            *round.newer.lock().unwrap_or_else(|e| e.into_inner()) = Some(newer);
            return Err(AuthError::CredentialStoreError(
                "the token was refreshed meanwhile".into(),
            ));
        }
        Ok(guard)
    }
}

/// rmcp's `AuthClient` as a connection's HTTP client, reacting to a 401 with a refresh that
/// names the rejected token, and reusing its last token for a moment (see the module docs).
#[derive(Clone)]
pub(crate) struct RefreshOnce {
    grant: GrantClient,
    last: Arc<Mutex<Option<Reusable>>>,
}

/// The last answer about the token, and until when it stands.
struct Reusable {
    token: Option<Zeroizing<String>>,
    until: Instant,
}

impl RefreshOnce {
    pub(crate) fn new(grant: GrantClient) -> Self {
        Self {
            grant,
            last: Arc::default(),
        }
    }

    /// The token to send: the stored one, refreshed first when it is (nearly) expired — by
    /// rmcp's rule — unless another program already did.
    pub(crate) async fn access_token(&self) -> Result<String, AuthError> {
        if let Some(token) = self.reused() {
            return token.ok_or(AuthError::AuthorizationRequired);
        }
        let mut answer = self.stored_or_refreshed().await;
        // The manager is set up for refreshing only when a refresh is first due.
        if matches!(answer.0, Err(AuthError::InternalError(_))) {
            answer = match self.grant.ready().await {
                Ok(()) => self.stored_or_refreshed().await,
                Err(error) => (Err(error), None),
            };
        }
        let (token, until) = match answer {
            (Err(error), until) => (Err(self.grant.refresh_failed(error).await), until),
            answer => answer,
        };
        let reusable = match &token {
            Ok(token) => Some(Some(Zeroizing::new(token.clone()))),
            Err(AuthError::AuthorizationRequired) => Some(None),
            Err(_) => None,
        };
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = reusable
            .zip(until)
            .map(|(token, until)| Reusable { token, until });
        token
    }

    /// The stored token, refreshed first when it is (nearly) expired, by rmcp's rule.
    async fn stored_or_refreshed(&self) -> (Result<String, AuthError>, Option<Instant>) {
        round(None, async {
            let manager = self.grant.client.auth_manager.lock().await;
            manager.get_access_token().await
        })
        .await
    }

    /// The last answer, while it stands.
    fn reused(&self) -> Option<Option<String>> {
        let last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let last = last.as_ref().filter(|l| Instant::now() < l.until)?;
        Some(last.token.as_ref().map(|t| t.as_str().to_owned()))
    }

    /// Read the store again at the next request.
    fn forget(&self) {
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// A token to use instead of `rejected`: the stored one if it already differs, else a
    /// refreshed one.
    async fn replace(&self, rejected: &str) -> Result<String, AuthError> {
        self.forget();
        if let Err(error) = self.grant.ready().await {
            // Not set up to refresh (discovery failed): a newer stored token still helps.
            return match self.grant.store.load().await.ok().flatten() {
                Some(stored) => match access_token(Some(&stored)) {
                    Some(newer) if newer != rejected => Ok(newer.to_owned()),
                    _ => Err(error),
                },
                None => Err(AuthError::AuthorizationRequired),
            };
        }
        let (refreshed, _) = round(Some(rejected), async {
            let manager = self.grant.client.auth_manager.lock().await;
            let token = manager.refresh_token().await?;
            Ok(token.access_token().secret().clone())
        })
        .await;
        match refreshed {
            Err(AuthError::TokenRefreshRejected(_)) => Err(AuthError::AuthorizationRequired),
            Err(error) => Err(self.grant.refresh_failed(error).await),
            ok => ok,
        }
    }

    /// `call` with the token; on a 401, once more with a newer token when there is one. With
    /// no token the request goes out bare, and the 401's challenge starts a sign-in.
    async fn call<T, F, Fut>(&self, token: Option<String>, call: F) -> Result<T, Error>
    where
        F: Fn(Option<String>) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let token = match token {
            Some(token) => Some(token),
            None => match self.access_token().await {
                Ok(token) => Some(token),
                Err(AuthError::AuthorizationRequired) => None,
                Err(error) => return Err(error.into()),
            },
        };
        match call(token.clone()).await {
            Err(StreamableHttpError::AuthRequired(challenge)) => {
                let Some(sent) = token else {
                    // Sent bare on a reused "no token": a grant stored since (a sign-in in
                    // another program) gets its one try.
                    self.forget();
                    return match self.access_token().await {
                        Ok(token) => call(Some(token)).await,
                        Err(_) => Err(StreamableHttpError::AuthRequired(challenge)),
                    };
                };
                match self.replace(&sent).await {
                    Ok(newer) if newer != sent => call(Some(newer)).await,
                    Ok(_) | Err(AuthError::AuthorizationRequired) => {
                        Err(StreamableHttpError::AuthRequired(challenge))
                    }
                    Err(error) => Err(error.into()),
                }
            }
            result => result,
        }
    }
}

impl RefreshOnce {
    /// `request` through rmcp's `AuthClient`'s HTTP client, by [`Self::call`].
    async fn send<K: Kind>(&self, request: Request<K>) -> Result<K::Answer, Error> {
        let token = request.token.clone();
        self.call(token, |token| {
            let request = request.with(token, request.headers.clone());
            request.send(&self.grant.client.http_client)
        })
        .await
    }
}

impl Layer for RefreshOnce {
    type Inner = DpopHttp;

    fn inner(&self) -> &DpopHttp {
        &self.grant.client.http_client
    }

    fn post(
        &self,
        request: Request<Post>,
    ) -> impl Future<Output = Result<StreamableHttpPostResponse, Error>> + Send + '_ {
        self.send(request)
    }

    fn get(
        &self,
        request: Request<Get>,
    ) -> impl Future<Output = Result<Events, Error>> + Send + '_ {
        self.send(request)
    }

    fn delete(
        &self,
        request: Request<Delete>,
    ) -> impl Future<Output = Result<(), Error>> + Send + '_ {
        self.send(request)
    }
}

streamable_http_client!(RefreshOnce);
