//! How any front end (the app, the CLI, the bridge) reaches one server with its stored
//! sign-in: where the grant is kept and the connect options that use it. One place, so the
//! tray, the CLI and the bridge share the same grant and the same refresh lock.
//!
//! A server can have several accounts (two Notion workspaces): each is a label, and each has
//! its own grant under (server, "", label). `None` is the account [`DEFAULT_ACCOUNT`], the key
//! every sign-in used before labels, so existing sign-ins keep working. The issuer is not part
//! of the key: it is only known after discovery, while the grant must be chosen before the
//! first request; it is recorded inside the grant instead, and a grant from another
//! authorization server is discarded on use.

use std::sync::Arc;

use crate::{
    ConnectOptions,
    auth::{AuthSettings, BrowserMode, Flow, SharedCredentialStore},
    config::ServerConfig,
    connection::EraMemory,
    secrets::{
        DEFAULT_ACCOUNT, GrantStore, InvalidAccount, SecretStore, account_label, list_accounts,
        validate_account,
    },
};

/// The grant of `name`'s `account` (`None`: the default account).
pub fn grant(secrets: &SecretStore, name: &str, account: Option<&str>) -> GrantStore {
    GrantStore::for_grant(secrets.clone(), name, "", account_label(account))
}

/// Where the sign-in of server `name` for `account` is kept (`None`: the default account).
pub fn grant_store(
    secrets: &SecretStore,
    name: &str,
    account: Option<&str>,
) -> SharedCredentialStore {
    SharedCredentialStore::for_grant(grant(secrets, name, account))
}

/// An account label as given by a person (`--account`, the app's dialog), checked: `None`
/// and `"default"` are the default account (returned as `None`).
pub fn parse_account(label: Option<&str>) -> Result<Option<String>, InvalidAccount> {
    match label {
        None => Ok(None),
        Some(label) if label == DEFAULT_ACCOUNT => Ok(None),
        Some(label) => validate_account(label).map(|()| Some(label.to_owned())),
    }
}

/// The labels signed in to `name` (the default account first when it has a grant). A store
/// that cannot be read lists none.
pub fn accounts(secrets: &SecretStore, name: &str) -> Vec<String> {
    list_accounts(secrets, name).unwrap_or_else(|error| {
        tracing::warn!(server = name, %error, "could not list the accounts");
        Vec::new()
    })
}

/// The refresh keeper's name for `name`'s `account`: `name` for the default account,
/// `name#account` otherwise (server names never contain `#`).
pub fn watch_key(name: &str, account: Option<&str>) -> String {
    match account {
        None => name.to_owned(),
        Some(label) if label == DEFAULT_ACCOUNT => name.to_owned(),
        Some(label) => format!("{name}#{label}"),
    }
}

/// The server and account of a keeper name made by [`watch_key`].
pub fn split_watch_key(key: &str) -> (&str, Option<&str>) {
    match key.split_once('#') {
        Some((name, account)) => (name, Some(account)),
        None => (key, None),
    }
}

/// Connect options that use the stored sign-in of `name` (the default account) and resolve
/// `${secret:…}`; see [`connect_options_for`].
pub fn connect_options(secrets: &SecretStore, name: &str, server: &ServerConfig) -> ConnectOptions {
    connect_options_for(secrets, name, None, server)
}

/// Connect options that use the stored sign-in of `name`'s `account` and resolve `${secret:…}`.
///
/// A server that signs in with client credentials needs no person, and its grant usually
/// has no refresh token: when the token expires, the server's 401 is answered by exchanging
/// the credentials again. So for such a server (and only such a server) the connection may
/// sign in by itself; every other server's 401 stays an error that asks for a sign-in.
pub fn connect_options_for(
    secrets: &SecretStore,
    name: &str,
    account: Option<&str>,
    server: &ServerConfig,
) -> ConnectOptions {
    ConnectOptions {
        secrets: Arc::new(secrets.clone()),
        credentials: Some(grant_store(secrets, name, account)),
        sign_in: signs_in_unattended(secrets, name, server).then_some(BrowserMode::Print),
        eras: EraMemory::in_home(),
        ..ConnectOptions::default()
    }
}

/// Whether the server signs in without a person (client credentials, workload identity). The
/// mode given to the connection is never used for such a server; `Print` is the harmless one.
pub fn signs_in_unattended(secrets: &SecretStore, name: &str, server: &ServerConfig) -> bool {
    let ServerConfig::Remote(remote) = server else {
        return false;
    };
    AuthSettings::from_server(name, remote, secrets).is_ok_and(|settings| {
        matches!(
            settings.effective_flow(),
            Flow::ClientCredentials | Flow::Workload | Flow::Enterprise
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_the_old_key_and_labels_are_checked() {
        let secrets = SecretStore::memory();
        assert_eq!(
            grant(&secrets, "notion", None).key(),
            crate::secrets::grant_key("notion", "", "default")
        );
        assert_ne!(
            grant(&secrets, "notion", Some("work")).key(),
            grant(&secrets, "notion", None).key()
        );
        assert_eq!(parse_account(Some("default")).unwrap(), None);
        assert_eq!(
            parse_account(Some("work")).unwrap().as_deref(),
            Some("work")
        );
        assert!(parse_account(Some("two words")).is_err());
        assert_eq!(watch_key("notion", None), "notion");
        assert_eq!(watch_key("notion", Some("default")), "notion");
        assert_eq!(watch_key("notion", Some("work")), "notion#work");
        assert_eq!(split_watch_key("notion#work"), ("notion", Some("work")));
        assert_eq!(split_watch_key("notion"), ("notion", None));
    }
}
