//! Values too large for one keychain entry. Windows caps a credential at 2,560 bytes, and a token
//! set with a long JWT and an ID token passes 4 KB, so a large value is split into parts
//! `KEY#GEN.I` and the entry `KEY` holds a small manifest naming the generation `GEN`, the part
//! count and the length.
//!
//! A write puts the new parts under a fresh generation, then the manifest (the commit point),
//! then deletes the old generation's parts. A reader therefore sees the old value or the new
//! one, never a mix, and a write that stops half-way (a crash, a killed process) leaves the old
//! value readable. Before touching anything, a write records the generations it is about to
//! create and replace under `KEY#pending`; the next write or delete of that key removes whatever
//! such an interrupted write left behind.
//!
//! Writers of one key must not run at the same time; [`super::SecretStore`] serializes them
//! inside the process and, for the keychain, across processes with a lock file.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::backend::Backend;
use super::{Secret, SecretsError};

/// Prefix of an entry that holds its value whole.
const INLINE: &[u8] = b"latch1=";
/// Prefix of an entry that holds a manifest.
const MANIFEST: &[u8] = b"latch1#";
/// The smallest per-entry limit that leaves room for a manifest.
pub(crate) const MIN_LIMIT: usize = 64;
/// More parts than this means the manifest is garbage (2,000-byte parts: 8 MB).
const MAX_PARTS: usize = 4096;
/// How often a reader retries when a concurrent writer replaced the parts it was reading.
const READ_ATTEMPTS: u32 = 5;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Generation {
    #[serde(rename = "gen")]
    id: String,
    parts: usize,
}

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    #[serde(rename = "gen")]
    id: String,
    parts: usize,
    len: usize,
}

/// What a write in progress is creating (`new`) and replacing (`old`).
#[derive(Debug, Default, Serialize, Deserialize)]
struct Pending {
    #[serde(default)]
    new: Option<Generation>,
    #[serde(default)]
    old: Option<Generation>,
}

enum Record {
    Value(Secret),
    Chunked(Manifest),
}

fn part_key(key: &str, generation: &str, index: usize) -> String {
    format!("{key}#{generation}.{index}")
}

fn pending_key(key: &str) -> String {
    format!("{key}#pending")
}

fn fresh_generation() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    hasher.write_u128(nanos);
    hasher.write_u32(std::process::id());
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    format!("{:016x}", hasher.finish())
}

fn read_record(backend: &dyn Backend, key: &str) -> Result<Option<Record>, SecretsError> {
    let Some(raw) = backend.get(key)? else {
        return Ok(None);
    };
    let bytes = raw.expose_bytes();
    if let Some(value) = bytes.strip_prefix(INLINE) {
        return Ok(Some(Record::Value(Secret::new(value.to_vec()))));
    }
    if let Some(manifest) = bytes.strip_prefix(MANIFEST) {
        return match serde_json::from_slice::<Manifest>(manifest) {
            Ok(m) if m.parts <= MAX_PARTS && !m.id.is_empty() && !m.id.contains('#') => {
                Ok(Some(Record::Chunked(m)))
            }
            _ => Err(SecretsError::Damaged {
                key: key.to_owned(),
                what: "its list of parts is unreadable",
            }),
        };
    }
    // Not framed: a value stored by hand (e.g. with `secret-tool`). Take it as it is.
    Ok(Some(Record::Value(raw)))
}

/// The generation `key` currently points to; a damaged manifest counts as none, so that a
/// write can replace it.
fn current_generation(
    backend: &dyn Backend,
    key: &str,
) -> Result<Option<Generation>, SecretsError> {
    match read_record(backend, key) {
        Ok(Some(Record::Chunked(m))) => Ok(Some(Generation {
            id: m.id,
            parts: m.parts,
        })),
        Ok(_) => Ok(None),
        Err(SecretsError::Damaged { .. }) => {
            tracing::warn!(key, "replacing a damaged split value");
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

fn read_pending(backend: &dyn Backend, key: &str) -> Result<Option<Pending>, SecretsError> {
    let Some(raw) = backend.get(&pending_key(key))? else {
        return Ok(None);
    };
    Ok(Some(
        serde_json::from_slice(raw.expose_bytes()).unwrap_or_else(|_| {
            tracing::warn!(key, "ignoring an unreadable record of an interrupted write");
            Pending::default()
        }),
    ))
}

fn delete_parts(
    backend: &dyn Backend,
    key: &str,
    generation: &Generation,
) -> Result<(), SecretsError> {
    for index in 0..generation.parts.min(MAX_PARTS) {
        backend.delete(&part_key(key, &generation.id, index))?;
    }
    Ok(())
}

/// Deletes the parts an interrupted write left behind: every generation the pending record
/// names except the one `key` points to now.
fn clean_interrupted(
    backend: &dyn Backend,
    key: &str,
    pending: Option<&Pending>,
    current: Option<&Generation>,
) -> Result<(), SecretsError> {
    let Some(pending) = pending else {
        return Ok(());
    };
    for generation in [&pending.new, &pending.old].into_iter().flatten() {
        if current.map(|c| &c.id) != Some(&generation.id) {
            tracing::debug!(key, "removing parts left by an interrupted write");
            delete_parts(backend, key, generation)?;
        }
    }
    Ok(())
}

fn read_parts(
    backend: &dyn Backend,
    key: &str,
    manifest: &Manifest,
) -> Result<Option<Secret>, SecretsError> {
    let mut value = Zeroizing::new(Vec::with_capacity(manifest.len.min(MAX_PARTS * 4096)));
    for index in 0..manifest.parts {
        match backend.get(&part_key(key, &manifest.id, index))? {
            Some(part) => value.extend_from_slice(part.expose_bytes()),
            None => return Ok(None),
        }
    }
    if value.len() != manifest.len {
        return Err(SecretsError::Damaged {
            key: key.to_owned(),
            what: "its parts do not add up to its length",
        });
    }
    Ok(Some(Secret::from(value)))
}

/// Reads `key`, joining its parts when it was split.
pub(crate) fn get(backend: &dyn Backend, key: &str) -> Result<Option<Secret>, SecretsError> {
    let mut previous: Option<String> = None;
    for attempt in 0..READ_ATTEMPTS {
        let manifest = match read_record(backend, key)? {
            None => return Ok(None),
            Some(Record::Value(value)) => return Ok(Some(value)),
            Some(Record::Chunked(manifest)) => manifest,
        };
        if let Some(value) = read_parts(backend, key, &manifest)? {
            return Ok(Some(value));
        }
        // A part is missing. Either a writer replaced the value while we read (the manifest
        // now names another generation) or the value is damaged (it names the same one).
        if previous.as_deref() == Some(manifest.id.as_str()) {
            break;
        }
        previous = Some(manifest.id);
        std::thread::sleep(Duration::from_millis(5 * u64::from(attempt + 1)));
    }
    Err(SecretsError::Damaged {
        key: key.to_owned(),
        what: "a part is missing",
    })
}

/// Writes `value` under `key`, split into parts of at most `limit` bytes when it does not fit
/// in one entry. Whole or not at all (see the module docs).
pub(crate) fn put(
    backend: &dyn Backend,
    key: &str,
    value: &[u8],
    limit: usize,
) -> Result<(), SecretsError> {
    let limit = limit.max(MIN_LIMIT);
    let current = current_generation(backend, key)?;
    let pending = read_pending(backend, key)?;
    clean_interrupted(backend, key, pending.as_ref(), current.as_ref())?;

    let fits = INLINE.len() + value.len() <= limit;
    if fits && current.is_none() {
        // The common case: one entry replaced by one entry, nothing to clean up after.
        backend.put(key, &Zeroizing::new([INLINE, value].concat()))?;
        if pending.is_some() {
            backend.delete(&pending_key(key))?;
        }
        return Ok(());
    }

    let new = (!fits).then(|| Generation {
        id: fresh_generation(),
        parts: value.len().div_ceil(limit),
    });
    let plan = Pending {
        new: new.clone(),
        old: current.clone(),
    };
    backend.put(&pending_key(key), &to_json(&plan))?;
    let record = match &new {
        Some(generation) => {
            for (index, chunk) in value.chunks(limit).enumerate() {
                backend.put(&part_key(key, &generation.id, index), chunk)?;
            }
            let manifest = Manifest {
                id: generation.id.clone(),
                parts: generation.parts,
                len: value.len(),
            };
            Zeroizing::new([MANIFEST, &to_json(&manifest)].concat())
        }
        None => Zeroizing::new([INLINE, value].concat()),
    };
    backend.put(key, &record)?; // the commit point: from here on readers see the new value
    if let Some(old) = &current {
        delete_parts(backend, key, old)?;
    }
    backend.delete(&pending_key(key))
}

/// Deletes `key` and its parts, with the same crash safety as [`put`].
pub(crate) fn delete(backend: &dyn Backend, key: &str) -> Result<(), SecretsError> {
    let current = current_generation(backend, key)?;
    let pending = read_pending(backend, key)?;
    clean_interrupted(backend, key, pending.as_ref(), current.as_ref())?;
    if let Some(old) = &current {
        let plan = Pending {
            new: None,
            old: Some(old.clone()),
        };
        backend.put(&pending_key(key), &to_json(&plan))?;
    }
    backend.delete(key)?;
    if let Some(old) = &current {
        delete_parts(backend, key, old)?;
    }
    if current.is_some() || pending.is_some() {
        backend.delete(&pending_key(key))?;
    }
    Ok(())
}

fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    // Plain structs of strings and numbers always serialize.
    serde_json::to_vec(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::super::memory::MemoryBackend;
    use super::*;

    const LIMIT: usize = 100;

    fn value(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| seed.wrapping_add((i % 251) as u8))
            .collect()
    }

    fn read(backend: &MemoryBackend) -> Option<Vec<u8>> {
        get(backend, "k")
            .unwrap()
            .map(|s| s.expose_bytes().to_vec())
    }

    #[test]
    fn small_values_are_one_entry_and_large_ones_are_split() {
        let backend = MemoryBackend::default();
        put(&backend, "k", b"small", LIMIT).unwrap();
        assert_eq!(backend.keys(), ["k"]);
        assert_eq!(read(&backend).unwrap(), b"small");

        let big = value(450, 1);
        put(&backend, "k", &big, LIMIT).unwrap();
        let keys = backend.keys();
        assert_eq!(keys.len(), 1 + 5, "{keys:?}");
        assert!(keys.iter().all(|k| k == "k" || k.starts_with("k#")));
        assert!(!keys.iter().any(|k| k.ends_with("#pending")));
        assert_eq!(read(&backend).unwrap(), big);

        // Exactly at the limit: the inline prefix pushes it over, so it is split.
        let edge = value(LIMIT, 2);
        put(&backend, "k", &edge, LIMIT).unwrap();
        assert_eq!(read(&backend).unwrap(), edge);

        put(&backend, "k", b"small again", LIMIT).unwrap();
        assert_eq!(backend.keys(), ["k"]);
        assert_eq!(read(&backend).unwrap(), b"small again");

        delete(&backend, "k").unwrap();
        assert!(backend.keys().is_empty());
        assert_eq!(read(&backend), None);
    }

    #[test]
    fn unframed_values_are_read_as_they_are() {
        let backend = MemoryBackend::default();
        backend.put("k", b"stored by hand").unwrap();
        assert_eq!(read(&backend).unwrap(), b"stored by hand");
    }

    #[test]
    fn a_missing_part_is_reported_as_damage() {
        let backend = MemoryBackend::default();
        put(&backend, "k", &value(300, 3), LIMIT).unwrap();
        let part = backend
            .keys()
            .into_iter()
            .find(|k| k.ends_with(".1"))
            .unwrap();
        backend.delete(&part).unwrap();
        let err = get(&backend, "k").unwrap_err();
        assert!(err.is_damaged(), "{err}");
        // A write replaces the damaged value and cleans up.
        put(&backend, "k", b"fresh", LIMIT).unwrap();
        assert_eq!(read(&backend).unwrap(), b"fresh");
    }

    /// Runs `operation` with a crash after each possible number of writes, then checks that
    /// the value read is `before` or `after` (switching exactly once, at the commit point),
    /// and that the next write leaves no parts or records behind.
    fn crash_everywhere(
        before: Option<&[u8]>,
        operation: &dyn Fn(&MemoryBackend) -> Result<(), SecretsError>,
        after: Option<&[u8]>,
    ) {
        let mut saw_after = false;
        for crash_after in 0.. {
            let backend = MemoryBackend::default();
            if let Some(before) = before {
                put(&backend, "k", before, LIMIT).unwrap();
            }
            backend.crash_after_writes(Some(crash_after));
            let finished = operation(&backend).is_ok();
            backend.crash_after_writes(None);

            let seen = read(&backend);
            if seen.as_deref() == after {
                saw_after = true;
            } else {
                assert!(
                    !saw_after,
                    "went back to the old value after {crash_after} writes"
                );
                assert_eq!(seen.as_deref(), before, "a mix after {crash_after} writes");
            }

            // The next write cleans up whatever the crash left.
            let next = value(250, 9);
            put(&backend, "k", &next, LIMIT).unwrap();
            assert_eq!(read(&backend).unwrap(), next);
            let keys = backend.keys();
            assert_eq!(
                keys.len(),
                1 + 3,
                "orphans after {crash_after} writes: {keys:?}"
            );
            assert!(!keys.iter().any(|k| k.ends_with("#pending")));

            if finished {
                assert!(saw_after);
                assert!(crash_after > 0);
                return;
            }
        }
    }

    #[test]
    fn crash_while_replacing_a_split_value_with_a_split_value() {
        let old = value(350, 10);
        let new = value(420, 20);
        crash_everywhere(Some(&old), &|b| put(b, "k", &new, LIMIT), Some(&new));
    }

    #[test]
    fn crash_while_replacing_a_small_value_with_a_split_value() {
        let new = value(420, 20);
        crash_everywhere(Some(b"small"), &|b| put(b, "k", &new, LIMIT), Some(&new));
    }

    #[test]
    fn crash_while_replacing_a_split_value_with_a_small_one() {
        let old = value(350, 10);
        crash_everywhere(
            Some(&old),
            &|b| put(b, "k", b"small", LIMIT),
            Some(b"small"),
        );
    }

    #[test]
    fn crash_while_writing_a_new_split_value() {
        let new = value(420, 20);
        crash_everywhere(None, &|b| put(b, "k", &new, LIMIT), Some(&new));
    }

    #[test]
    fn crash_while_deleting_a_split_value() {
        let old = value(350, 10);
        crash_everywhere(Some(&old), &|b| delete(b, "k"), None);
    }

    #[test]
    fn crash_then_delete_leaves_nothing() {
        let backend = MemoryBackend::default();
        put(&backend, "k", &value(350, 1), LIMIT).unwrap();
        backend.crash_after_writes(Some(3)); // pending record and two of four new parts
        assert!(put(&backend, "k", &value(380, 2), LIMIT).is_err());
        backend.crash_after_writes(None);
        assert_eq!(read(&backend).unwrap(), value(350, 1));
        delete(&backend, "k").unwrap();
        assert!(backend.keys().is_empty(), "{:?}", backend.keys());
    }
}
