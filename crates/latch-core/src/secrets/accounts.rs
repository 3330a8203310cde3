//! Several accounts on one server (two Notion workspaces, two ad accounts): each sign-in
//! carries an account label, and its grant is kept under [`grant_key`]`(server, "", label)`.
//! The sign-in without a label is the account [`DEFAULT_ACCOUNT`], the key every sign-in used
//! before labels existed, so those keep working.
//!
//! A keychain cannot list its entries, so the labels signed in to a server are kept in a small
//! index beside the grants: a JSON list of labels under `accounts:<server>` in the same
//! [`SecretStore`] (no secret in it, but it lives and dies with the grants it names, in every
//! kind of store). Sign-in adds a label, sign-out removes it; listing checks each label still
//! has a grant, so a grant deleted behind Latch's back drops out of the list. The app, the CLI
//! and the bridge may sign in at the same moment, so an index update (read, change, write)
//! holds `accounts.lock` beside the store: two sign-ins never drop each other's label.

use std::fs::File;
use std::sync::{Mutex, MutexGuard};

use super::{SecretStore, SecretsError, file::lock_named, grant_key, keys::encode};

/// The account of a sign-in made without a label.
pub const DEFAULT_ACCOUNT: &str = "default";

/// The longest account label.
pub const MAX_ACCOUNT_LEN: usize = 64;

/// An account label that is not allowed, with why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "“{label}” is not a usable account label: use 1 to {MAX_ACCOUNT_LEN} letters, digits or \
     `-` `_` `.` `@` (like `work` or `me@example.com`)"
)]
pub struct InvalidAccount {
    pub label: String,
}

/// Checks an account label: 1 to 64 ASCII letters, digits, `-`, `_`, `.` or `@`.
pub fn validate_account(label: &str) -> Result<(), InvalidAccount> {
    let ok = (1..=MAX_ACCOUNT_LEN).contains(&label.len())
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'@'));
    if ok {
        Ok(())
    } else {
        Err(InvalidAccount {
            label: label.to_owned(),
        })
    }
}

/// The label of `account`: [`DEFAULT_ACCOUNT`] for `None`.
pub fn account_label(account: Option<&str>) -> &str {
    account.unwrap_or(DEFAULT_ACCOUNT)
}

/// The key of `server`'s account index.
pub fn accounts_key(server: &str) -> String {
    format!("accounts:{}", encode(server))
}

/// The grant key of `server`'s `account` (`None`: the default account).
pub fn account_grant_key(server: &str, account: Option<&str>) -> String {
    grant_key(server, "", account_label(account))
}

/// Index updates are read-modify-write: one at a time in this process…
static INDEX_WRITES: Mutex<()> = Mutex::new(());

/// …and across processes, with this file beside the store (the keychain's: in Latch's folder).
const INDEX_LOCK: &str = "accounts.lock";

/// Held while the index of a store is read, changed and written.
struct IndexGuard {
    _in_process: MutexGuard<'static, ()>,
    _across_processes: Option<File>,
}

fn index_guard(store: &SecretStore) -> Result<IndexGuard, SecretsError> {
    let in_process = INDEX_WRITES.lock().unwrap_or_else(|e| e.into_inner());
    // A memory store lives in this process only: the mutex is enough.
    let across_processes = match store.refresh_lock_dir() {
        Some(dir) => Some(lock_named(&dir, INDEX_LOCK)?),
        None => None,
    };
    Ok(IndexGuard {
        _in_process: in_process,
        _across_processes: across_processes,
    })
}

/// The labels signed in to `server`, the default account first (when it has a grant), then
/// the others in the order they were first signed in. Only labels whose grant is still stored
/// are listed.
pub fn list_accounts(store: &SecretStore, server: &str) -> Result<Vec<String>, SecretsError> {
    let mut out = Vec::new();
    // A default entry holding only the client registration (kept at sign-out for the next
    // sign-in) is not a signed-in account.
    let default = super::GrantStore::new(store.clone(), account_grant_key(server, None));
    let signed_in = match default.load_blocking() {
        Ok(grant) => grant.is_some_and(|g| g.token_response.is_some()),
        Err(_) => store.get(&account_grant_key(server, None))?.is_some(),
    };
    if signed_in {
        out.push(DEFAULT_ACCOUNT.to_owned());
    }
    for label in read_index(store, server)? {
        if label != DEFAULT_ACCOUNT
            && !out.contains(&label)
            && store
                .get(&account_grant_key(server, Some(&label)))?
                .is_some()
        {
            out.push(label);
        }
    }
    Ok(out)
}

/// Records that `account` of `server` is signed in (idempotent). The default account needs no
/// entry: its grant is always looked at.
pub fn add_account(store: &SecretStore, server: &str, account: &str) -> Result<(), SecretsError> {
    if account == DEFAULT_ACCOUNT {
        return Ok(());
    }
    let _guard = index_guard(store)?;
    let mut labels = read_index(store, server)?;
    if labels.iter().any(|l| l == account) {
        return Ok(());
    }
    labels.push(account.to_owned());
    write_index(store, server, &labels)
}

/// Forgets `account` of `server` (its grant is deleted by the caller).
pub fn remove_account(
    store: &SecretStore,
    server: &str,
    account: &str,
) -> Result<(), SecretsError> {
    let _guard = index_guard(store)?;
    let mut labels = read_index(store, server)?;
    let before = labels.len();
    labels.retain(|l| l != account);
    if labels.len() == before {
        return Ok(());
    }
    write_index(store, server, &labels)
}

/// Forgets every account of `server` (the server was removed).
pub fn clear_accounts(store: &SecretStore, server: &str) -> Result<(), SecretsError> {
    let _guard = index_guard(store)?;
    store.delete(&accounts_key(server))
}

/// The index as stored; an unreadable index counts as empty (it holds no secret and is
/// rebuilt by the next sign-in).
fn read_index(store: &SecretStore, server: &str) -> Result<Vec<String>, SecretsError> {
    let Some(value) = store.get(&accounts_key(server))? else {
        return Ok(Vec::new());
    };
    match serde_json::from_slice::<Vec<String>>(value.expose_bytes()) {
        Ok(labels) => Ok(labels
            .into_iter()
            .filter(|l| validate_account(l).is_ok())
            .collect()),
        Err(error) => {
            tracing::warn!(server, %error, "the account list is unreadable; starting a new one");
            Ok(Vec::new())
        }
    }
}

fn write_index(store: &SecretStore, server: &str, labels: &[String]) -> Result<(), SecretsError> {
    if labels.is_empty() {
        return store.delete(&accounts_key(server));
    }
    let json = serde_json::to_vec(labels).unwrap_or_default();
    store.put(&accounts_key(server), &json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_checked() {
        for good in [
            "work",
            "home",
            "me@example.com",
            "a-b_c.d",
            "X1",
            &"a".repeat(64),
        ] {
            assert!(validate_account(good).is_ok(), "{good}");
        }
        for bad in ["", "two words", "a#b", "a:b", "é", "a/b", &"a".repeat(65)] {
            let error = validate_account(bad).unwrap_err();
            assert!(error.to_string().contains("account label"), "{error}");
        }
    }

    #[test]
    fn the_index_lists_only_accounts_with_a_grant() {
        let store = SecretStore::memory();
        assert!(list_accounts(&store, "notion").unwrap().is_empty());
        store
            .put(&account_grant_key("notion", Some("work")), b"{}")
            .unwrap();
        add_account(&store, "notion", "work").unwrap();
        add_account(&store, "notion", "home").unwrap(); // no grant (yet)
        add_account(&store, "notion", "work").unwrap();
        assert_eq!(list_accounts(&store, "notion").unwrap(), ["work"]);
        store
            .put(&account_grant_key("notion", None), b"{}")
            .unwrap();
        store
            .put(&account_grant_key("notion", Some("home")), b"{}")
            .unwrap();
        assert_eq!(
            list_accounts(&store, "notion").unwrap(),
            ["default", "work", "home"]
        );
        assert!(list_accounts(&store, "figma").unwrap().is_empty());
        remove_account(&store, "notion", "work").unwrap();
        assert_eq!(
            list_accounts(&store, "notion").unwrap(),
            ["default", "home"]
        );
        clear_accounts(&store, "notion").unwrap();
        assert_eq!(list_accounts(&store, "notion").unwrap(), ["default"]);
    }

    #[test]
    fn the_default_account_keeps_the_old_key() {
        assert_eq!(
            account_grant_key("notion", None),
            grant_key("notion", "", "default")
        );
        assert_ne!(
            account_grant_key("notion", Some("work")),
            account_grant_key("notion", None)
        );
    }
}
