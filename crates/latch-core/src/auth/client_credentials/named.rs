//! Named client credentials: the JSON document `latch credentials set NAME` stores whole in the
//! token store (under `credential_key(NAME)`), which every server whose `auth.credentials` is
//! NAME signs in with — the Madgicx pair serves both its Facebook Ads and its Google Ads
//! server. Either a secret, `{"clientId": "…", "clientSecret": "…"}`, or a private key for
//! `private_key_jwt`, `{"clientId": "…", "privateKeyPem": "-----BEGIN PRIVATE KEY-----…",
//! "signingAlgorithm": "ES256"}`. Parsing and validation errors never quote a secret or a key,
//! and the `Debug` output shows neither.

use std::{fmt, str::FromStr};

use rmcp::transport::auth::JwtSigningAlgorithm;
use serde::{Deserialize, Serialize};

/// The algorithm a `private_key_jwt` assertion is signed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SigningAlgorithm {
    /// ECDSA with P-256 and SHA-256 (an EC key).
    ES256,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (an RSA key).
    RS256,
}

impl SigningAlgorithm {
    /// `ES256` or `RS256`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ES256 => "ES256",
            Self::RS256 => "RS256",
        }
    }

    pub(crate) fn to_rmcp(self) -> JwtSigningAlgorithm {
        match self {
            Self::ES256 => JwtSigningAlgorithm::ES256,
            Self::RS256 => JwtSigningAlgorithm::RS256,
        }
    }
}

impl fmt::Display for SigningAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SigningAlgorithm {
    type Err = String;

    /// Case-insensitive: `es256` works too.
    fn from_str(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_uppercase().as_str() {
            "ES256" => Ok(Self::ES256),
            "RS256" => Ok(Self::RS256),
            _ => Err(format!(
                "the signing algorithm `{}` is not supported; use ES256 or RS256",
                text.trim()
            )),
        }
    }
}

/// How the client proves who it is at the token endpoint.
#[derive(Clone, PartialEq, Eq)]
pub enum ClientProof {
    /// A client secret (`client_secret_basic` or `client_secret_post`, as the server says).
    Secret(String),
    /// A private key that signs a JWT assertion (`private_key_jwt`, RFC 7523).
    PrivateKey {
        pem: String,
        algorithm: SigningAlgorithm,
    },
}

/// A client id with its secret or key, validated. `Debug` hides the secret and the key.
#[derive(Clone, PartialEq, Eq)]
pub struct NamedCredentials {
    client_id: String,
    proof: ClientProof,
}

/// The stored document, as written and read.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Document {
    client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    private_key_pem: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    signing_algorithm: Option<String>,
}

impl NamedCredentials {
    /// A client id and secret. The secret is taken as given (trim it first): it must be
    /// non-empty and on one line.
    pub fn with_secret(
        client_id: impl Into<String>,
        secret: impl Into<String>,
    ) -> Result<Self, String> {
        let client_id = check_client_id(client_id.into())?;
        let secret = secret.into();
        if secret.is_empty() {
            return Err("the client secret is empty".into());
        }
        if secret.chars().any(char::is_control) {
            return Err(
                "the client secret has a line break or another control character in it".into(),
            );
        }
        Ok(Self {
            client_id,
            proof: ClientProof::Secret(secret),
        })
    }

    /// A client id and a private key in PEM (PKCS#8 `PRIVATE KEY`, or `RSA`/`EC PRIVATE
    /// KEY`), unencrypted.
    pub fn with_private_key(
        client_id: impl Into<String>,
        pem: impl Into<String>,
        algorithm: SigningAlgorithm,
    ) -> Result<Self, String> {
        let client_id = check_client_id(client_id.into())?;
        let pem = pem.into();
        let pem = pem.trim();
        if pem.contains("ENCRYPTED PRIVATE KEY") {
            return Err(
                "the private key is encrypted; give it without a passphrase (e.g. `openssl pkcs8 -topk8 -nocrypt`)"
                    .into(),
            );
        }
        let has_begin = pem.starts_with("-----BEGIN ") && pem.contains("PRIVATE KEY-----");
        if !has_begin || !pem.contains("-----END ") {
            return Err(
                "the private key is not a PEM private key (`-----BEGIN PRIVATE KEY-----` …)".into(),
            );
        }
        Ok(Self {
            client_id,
            proof: ClientProof::PrivateKey {
                pem: format!("{pem}\n"),
                algorithm,
            },
        })
    }

    /// Read a stored document. The reason for a refusal names fields, never their values.
    pub fn parse(json: &str) -> Result<Self, String> {
        let document: Document = serde_json::from_str(json).map_err(|e| {
            // serde's messages quote unknown field names and types, not string values.
            format!("the stored document is not valid credentials JSON ({e})")
        })?;
        match (
            document.client_secret,
            document.private_key_pem,
            document.signing_algorithm,
        ) {
            (Some(_), Some(_), _) => {
                Err("it has both `clientSecret` and `privateKeyPem`; keep one".into())
            }
            (Some(secret), None, _) => Self::with_secret(document.client_id, secret),
            (None, Some(pem), Some(algorithm)) => {
                Self::with_private_key(document.client_id, pem, algorithm.parse()?)
            }
            (None, Some(_), None) => {
                Err("it has `privateKeyPem` without `signingAlgorithm` (ES256 or RS256)".into())
            }
            (None, None, _) => Err("it has neither `clientSecret` nor `privateKeyPem`".into()),
        }
    }

    /// The document to store (whole) under `credential_key(NAME)`.
    pub fn to_json(&self) -> String {
        let (client_secret, private_key_pem, signing_algorithm) = match &self.proof {
            ClientProof::Secret(secret) => (Some(secret.clone()), None, None),
            ClientProof::PrivateKey { pem, algorithm } => {
                (None, Some(pem.clone()), Some(algorithm.as_str().to_owned()))
            }
        };
        serde_json::to_string(&Document {
            client_id: self.client_id.clone(),
            client_secret,
            private_key_pem,
            signing_algorithm,
        })
        .unwrap_or_default()
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The secret or the key.
    pub fn proof(&self) -> &ClientProof {
        &self.proof
    }

    /// `client secret` or `private key`, for messages.
    pub fn kind(&self) -> &'static str {
        match self.proof {
            ClientProof::Secret(_) => "client secret",
            ClientProof::PrivateKey { .. } => "private key",
        }
    }
}

impl fmt::Debug for NamedCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("NamedCredentials");
        debug.field("client_id", &self.client_id);
        match &self.proof {
            ClientProof::Secret(_) => debug.field("client_secret", &"[REDACTED]"),
            ClientProof::PrivateKey { algorithm, .. } => debug
                .field("private_key_pem", &"[REDACTED]")
                .field("signing_algorithm", algorithm),
        };
        debug.finish()
    }
}

fn check_client_id(client_id: String) -> Result<String, String> {
    let client_id = client_id.trim().to_owned();
    if client_id.is_empty() {
        return Err("the client id is empty".into());
    }
    if client_id.chars().any(char::is_control) {
        return Err("the client id has a control character in it".into());
    }
    Ok(client_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEM: &str = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n";

    #[test]
    fn round_trips_a_secret_and_a_key() {
        let secret = NamedCredentials::with_secret("m2m", "s3cr3t-value").unwrap();
        let json = secret.to_json();
        assert_eq!(json, r#"{"clientId":"m2m","clientSecret":"s3cr3t-value"}"#);
        assert_eq!(NamedCredentials::parse(&json).unwrap(), secret);

        let key =
            NamedCredentials::with_private_key("m2m-jwt", PEM, SigningAlgorithm::ES256).unwrap();
        let parsed = NamedCredentials::parse(&key.to_json()).unwrap();
        assert_eq!(parsed, key);
        assert_eq!(parsed.kind(), "private key");
        assert!(key.to_json().contains(r#""signingAlgorithm":"ES256""#));
    }

    #[test]
    fn refusals_name_the_problem_never_the_secret() {
        let secret = "do-not-print-me";
        let cases = [
            format!(r#"{{"clientId":"a","clientSecret":"{secret}","privateKeyPem":"x"}}"#),
            format!(r#"{{"clientId":"","clientSecret":"{secret}"}}"#),
            format!(r#"{{"clientId":"a","clientSecret":"{secret}\n"}}"#),
            format!(r#"{{"clientId":"a","privateKeyPem":"{secret}","signingAlgorithm":"ES256"}}"#),
            format!(r#"{{"clientId":"a","privateKeyPem":"{secret}"}}"#),
            format!(r#"{{"clientId":"a","clientSecret":"{secret}","extra":1}}"#),
            format!(r#"{{"clientId":"a","clientSecret":{{"{secret}":1}}}}"#),
            r#"{"clientId":"a"}"#.to_owned(),
            "not json".to_owned(),
        ];
        for case in cases {
            let error = NamedCredentials::parse(&case).unwrap_err();
            assert!(!error.contains(secret), "{case} → {error}");
        }
        assert!(
            NamedCredentials::parse(
                r#"{"clientId":"a","privateKeyPem":"x","signingAlgorithm":"HS256"}"#
            )
            .unwrap_err()
            .contains("ES256 or RS256")
        );
    }

    #[test]
    fn debug_hides_the_secret_and_the_key() {
        let secret = NamedCredentials::with_secret("m2m", "s3cr3t-value").unwrap();
        let printed = format!("{secret:?}");
        assert!(printed.contains("m2m") && !printed.contains("s3cr3t"));
        let key = NamedCredentials::with_private_key("k", PEM, SigningAlgorithm::RS256).unwrap();
        assert!(!format!("{key:?}").contains("MIGHAgEA"));
    }

    #[test]
    fn algorithms_parse_in_any_case() {
        assert_eq!(
            "es256".parse::<SigningAlgorithm>(),
            Ok(SigningAlgorithm::ES256)
        );
        assert_eq!(
            " RS256 ".parse::<SigningAlgorithm>(),
            Ok(SigningAlgorithm::RS256)
        );
        assert!("none".parse::<SigningAlgorithm>().is_err());
    }
}
