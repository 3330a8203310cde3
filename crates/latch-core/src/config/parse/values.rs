//! The leaf values of a server entry — `url`, `command`, `env`, `headers` — read by visitors
//! that check them where they are written, so a bad URL or header name is reported at its own
//! line and column. Nothing here repeats a header or env value in an error: they are often
//! secrets.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, DeserializeSeed, Error as _, MapAccess, Visitor};

use super::{TrailCell, set_key};
use crate::config::model::{check_header_name, check_header_value, check_url};

/// A `url` value: an http(s) URL, checked where it is written.
pub(super) struct UrlSeed;

impl<'de> DeserializeSeed<'de> for UrlSeed {
    type Value = String;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for UrlSeed {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an http:// or https:// URL as a string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        check_url(v).map_err(E::custom)?;
        Ok(v.to_owned())
    }
}

/// A `command` value: a non-empty string.
pub(super) struct CommandSeed;

impl<'de> DeserializeSeed<'de> for CommandSeed {
    type Value = String;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for CommandSeed {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the program to run, as a string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        if v.trim().is_empty() {
            return Err(E::custom("the command is empty — name the program to run"));
        }
        Ok(v.to_owned())
    }
}

/// `env` or `headers`: an object of strings. For headers the names and values are checked,
/// and nothing in an error repeats a value (they are often secrets).
pub(super) struct StringMapSeed<'a> {
    trail: &'a TrailCell,
    field: &'static str,
    headers: bool,
}

impl<'a> StringMapSeed<'a> {
    pub(super) fn env(trail: &'a TrailCell) -> Self {
        Self {
            trail,
            field: "env",
            headers: false,
        }
    }

    pub(super) fn headers(trail: &'a TrailCell) -> Self {
        Self {
            trail,
            field: "headers",
            headers: true,
        }
    }
}

impl<'de> DeserializeSeed<'de> for StringMapSeed<'_> {
    type Value = BTreeMap<String, String>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        // `any`, so that a string reaches `visit_str` (which does not echo it).
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StringMapSeed<'_> {
    type Value = BTreeMap<String, String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "an object of names to string values, like {{\"NAME\": \"value\"}}"
        )
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Err(E::custom(format!(
            "`{}` must be an object of names to string values, like {{\"NAME\": \"value\"}}, not a string",
            self.field
        )))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = BTreeMap::new();
        while let Some(name) = map.next_key_seed(NameSeed {
            headers: self.headers,
        })? {
            set_key(self.trail, Some(format!("{}.{name}", self.field)));
            if out.contains_key(&name) {
                return Err(A::Error::custom("this name appears twice — keep one"));
            }
            let value = map.next_value_seed(ValueSeed {
                headers: self.headers,
            })?;
            out.insert(name, value);
        }
        set_key(self.trail, Some(self.field.to_owned()));
        Ok(out)
    }
}

struct NameSeed {
    headers: bool,
}

impl<'de> DeserializeSeed<'de> for NameSeed {
    type Value = String;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for NameSeed {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a name")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        if self.headers {
            check_header_name(v).map_err(E::custom)?;
        }
        Ok(v.to_owned())
    }
}

struct ValueSeed {
    headers: bool,
}

impl<'de> DeserializeSeed<'de> for ValueSeed {
    type Value = String;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for ValueSeed {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string value")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        if self.headers {
            check_header_value(v).map_err(E::custom)?;
        }
        Ok(v.to_owned())
    }
}
