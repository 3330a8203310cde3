//! Which of a server's signed-in accounts the app's connection uses ("Switch account"):
//! remembered while the app runs, the default account when none was chosen.

use super::{AppError, Latch, Result, ServerView, accounts, parse_account};
use crate::{ConnectionState, secrets::DEFAULT_ACCOUNT};

impl Latch {
    /// The account the app's connection to `name` uses; `None` is the default account.
    pub fn active_account(&self, name: &str) -> Option<String> {
        self.inner
            .active_accounts
            .lock()
            .unwrap()
            .get(name)
            .cloned()
    }

    pub(super) fn set_active_account(&self, name: &str, account: Option<&str>) {
        let mut active = self.inner.active_accounts.lock().unwrap();
        match account {
            Some(label) if label != DEFAULT_ACCOUNT => {
                active.insert(name.to_owned(), label.to_owned());
            }
            _ => {
                active.remove(name);
            }
        }
    }

    /// The labels signed in to `name`, the default account first.
    pub(super) async fn accounts_of(&self, name: &str) -> Vec<String> {
        let secrets = self.inner.secrets.clone();
        let owned = name.to_owned();
        tokio::task::spawn_blocking(move || accounts(&secrets, &owned))
            .await
            .unwrap_or_default()
    }

    /// Make the app's connection to `name` use `account` (`None` or `"default"`: the default
    /// account), which must be signed in; remembered while the app runs. Reconnects with it.
    pub async fn use_account(&self, name: &str, account: Option<String>) -> Result<ServerView> {
        let account = parse_account(account.as_deref().map(str::trim))
            .map_err(|e| AppError::new("invalidAccount", e))?;
        let label = account.as_deref().unwrap_or(DEFAULT_ACCOUNT);
        if !self.accounts_of(name).await.iter().any(|a| a == label) {
            return Err(AppError::new(
                "unknownAccount",
                format!(
                    "{name} has no account “{label}” signed in — add it with “Add another account”."
                ),
            ));
        }
        if self.active_account(name) == account {
            return self.server_view(name).await;
        }
        let lock = self.busy_lock(name);
        {
            let _guard = lock.lock().await;
            self.drop_connection(name).await;
            self.set_active_account(name, account.as_deref());
            let mut live = self.inner.live.lock().unwrap();
            let live = live.entry(name.to_owned()).or_default();
            live.problem = None;
            live.challenge = None;
            live.open = false;
            live.server_info = None;
            live.state = Some(ConnectionState::Disconnected);
        }
        // The card shows the outcome (connected, or needs sign-in); either is a good answer.
        if let Err(error) = self.connection(name).await {
            tracing::debug!(server = name, %error, "could not connect with the chosen account");
        }
        self.publish(name).await
    }
}
