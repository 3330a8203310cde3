//! The app's call history of a server: the past calls, newest first, and clearing them.

use super::{AppError, CallRecord, Latch, Result};

impl Latch {
    /// The server's past calls, newest first.
    pub async fn history(&self, name: &str) -> Result<Vec<CallRecord>> {
        let history = self.inner.history.clone();
        let name = name.to_owned();
        tokio::task::spawn_blocking(move || history.list(&name))
            .await
            .map_err(|e| AppError::new("history", e))?
            .map_err(|e| AppError::new("history", e))
    }

    pub async fn clear_history(&self, name: &str) -> Result<()> {
        let history = self.inner.history.clone();
        let name = name.to_owned();
        tokio::task::spawn_blocking(move || history.clear(&name))
            .await
            .map_err(|e| AppError::new("history", e))?
            .map_err(|e| AppError::new("history", e))
    }
}
