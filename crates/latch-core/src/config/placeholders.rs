//! `${env:NAME}` and `${secret:NAME}` placeholders, which keep secrets out of the servers file.
//! They are expanded only at the moment a header is sent or a program started, from the
//! environment and from a [`SecretSource`] (the keychain in the app, a map in tests). Errors
//! name the variable or secret that is missing, never the value that was expanded.

use std::collections::{BTreeMap, HashMap};

use super::model::check_header_value;
use super::{CommandServer, ConfigError, RemoteServer};

/// Where `${secret:NAME}` values come from.
pub trait SecretSource: Send + Sync {
    /// The secret stored under `name`, if any.
    fn secret(&self, name: &str) -> Option<String>;

    /// The named client credentials `name` (a JSON document: client id and secret or key),
    /// kept for servers whose `auth.credentials` names them. None by default.
    fn credentials(&self, name: &str) -> Option<String> {
        let _ = name;
        None
    }

    /// The secret store behind this source, when it is one: a company sign-in (`auth.org`)
    /// keeps its identity provider session there. None by default.
    fn secret_store(&self) -> Option<crate::secrets::SecretStore> {
        None
    }
}

/// A [`SecretSource`] with nothing in it: every `${secret:…}` is reported missing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSecrets;

impl SecretSource for NoSecrets {
    fn secret(&self, _: &str) -> Option<String> {
        None
    }
}

impl SecretSource for HashMap<String, String> {
    fn secret(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

impl SecretSource for BTreeMap<String, String> {
    fn secret(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

/// Replaces every `${env:NAME}` and `${secret:NAME}` in `value`. Text outside placeholders,
/// including a `$` not followed by `{`, is kept as it is.
pub fn expand(value: &str, secrets: &dyn SecretSource) -> Result<String, ConfigError> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            let at = value.len() - rest.len() + start;
            return Err(ConfigError::BadPlaceholder {
                reason: format!(
                    "the `${{` at character {} is never closed with `}}`",
                    value[..at].chars().count() + 1
                ),
            });
        };
        out.push_str(&resolve(&after[..end], secrets)?);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn resolve(inner: &str, secrets: &dyn SecretSource) -> Result<String, ConfigError> {
    let bad = |reason: String| Err(ConfigError::BadPlaceholder { reason });
    match inner.split_once(':') {
        Some((kind @ ("env" | "secret"), name)) if !is_name(name) => bad(format!(
            "`${{{kind}:…}}` needs a name without spaces, like `${{{kind}:NAME}}`"
        )),
        Some(("env", name)) => match std::env::var(name) {
            Ok(v) => Ok(v),
            Err(std::env::VarError::NotPresent) => Err(ConfigError::MissingEnv {
                name: name.to_owned(),
            }),
            Err(std::env::VarError::NotUnicode(_)) => {
                bad(format!("environment variable {name} is not valid UTF-8"))
            }
        },
        Some(("secret", name)) => secrets
            .secret(name)
            .ok_or_else(|| ConfigError::MissingSecret {
                name: name.to_owned(),
            }),
        Some(("input", id)) => bad(format!(
            "`${{input:{}}}` is a VS Code input, which Latch cannot ask for — store the value with `latch credentials set NAME` and write `${{secret:NAME}}` instead",
            shorten(id)
        )),
        _ => bad(format!(
            "`${{{}}}` is not a placeholder Latch knows",
            shorten(inner)
        )),
    }
}

fn is_name(name: &str) -> bool {
    !name.is_empty() && !name.contains(|c: char| c.is_whitespace() || c == '=' || c == '$')
}

fn shorten(s: &str) -> String {
    const MAX: usize = 40;
    if s.chars().count() <= MAX {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(MAX).collect::<String>())
    }
}

impl RemoteServer {
    /// The headers to send, placeholders expanded, in name order.
    pub fn resolved_headers(
        &self,
        secrets: &dyn SecretSource,
    ) -> Result<Vec<(String, String)>, ConfigError> {
        self.headers
            .iter()
            .map(|(name, template)| {
                let value = expand(template, secrets)?;
                check_header_value(&value).map_err(|_| ConfigError::InvalidHeaderValue {
                    header: name.clone(),
                })?;
                Ok((name.clone(), value))
            })
            .collect()
    }
}

impl CommandServer {
    /// The environment variables to set, placeholders expanded, in name order.
    pub fn resolved_env(
        &self,
        secrets: &dyn SecretSource,
    ) -> Result<Vec<(String, String)>, ConfigError> {
        self.env
            .iter()
            .map(|(name, template)| Ok((name.clone(), expand(template, secrets)?)))
            .collect()
    }

    /// The arguments to pass, placeholders expanded.
    pub fn resolved_args(&self, secrets: &dyn SecretSource) -> Result<Vec<String>, ConfigError> {
        self.args.iter().map(|a| expand(a, secrets)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets() -> HashMap<String, String> {
        HashMap::from([("figma".to_owned(), "s3cr3t".to_owned())])
    }

    #[test]
    fn expands_secrets_and_keeps_other_text() {
        assert_eq!(
            expand("Bearer ${secret:figma}!", &secrets()).unwrap(),
            "Bearer s3cr3t!"
        );
        assert_eq!(
            expand("cost $5 and $x", &NoSecrets).unwrap(),
            "cost $5 and $x"
        );
        assert_eq!(expand("", &NoSecrets).unwrap(), "");
        assert_eq!(
            expand("${secret:figma}${secret:figma}", &secrets()).unwrap(),
            "s3cr3ts3cr3t"
        );
    }

    #[test]
    fn malformed() {
        let e = expand("ab${secret:figma", &secrets()).unwrap_err();
        assert!(e.to_string().contains("character 3 is never closed"), "{e}");
        let e = expand("${foo}", &NoSecrets).unwrap_err();
        assert!(
            e.to_string().contains("`${foo}` is not a placeholder"),
            "{e}"
        );
        let e = expand("${env:}", &NoSecrets).unwrap_err();
        assert!(e.to_string().contains("needs a name"), "{e}");
        let e = expand("${input:key}", &NoSecrets).unwrap_err();
        assert!(e.to_string().contains("VS Code input"), "{e}");
    }
}
