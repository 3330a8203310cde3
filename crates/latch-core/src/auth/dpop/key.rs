//! A grant's DPoP key (RFC 9449): an ES256 (P-256) key pair made with aws-lc-rs, and the proofs
//! it signs — a JWS with `typ: dpop+jwt` and the public key as `jwk`, whose claims say which
//! request it is for (`htm`, `htu`), when (`iat`), once (`jti`), with the server's `nonce` when
//! one is held and, on a resource request, which token (`ath`). The private half never leaves
//! this type except as the PKCS#8 bytes the key store keeps; neither is ever printed.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::{
    rand::{SecureRandom, SystemRandom},
    signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use serde_json::json;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// One grant's key pair. Debug shows the thumbprint only (it is public: tokens carry it).
pub(crate) struct DpopKey {
    pair: EcdsaKeyPair,
    /// The public key as a JWK: `kty`, `crv`, `x`, `y`.
    jwk: serde_json::Value,
    thumbprint: String,
}

impl std::fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DpopKey")
            .field("thumbprint", &self.thumbprint)
            .finish_non_exhaustive()
    }
}

/// What a proof is for: the request and, on resource requests, the token it carries.
#[derive(Clone, Copy)]
pub(crate) struct ProofFor<'a> {
    pub(crate) method: &'a str,
    pub(crate) url: &'a str,
    pub(crate) access_token: Option<&'a str>,
    pub(crate) nonce: Option<&'a str>,
}

impl DpopKey {
    /// A new key, and its PKCS#8 form for the key store.
    pub(crate) fn generate() -> Result<(Self, Zeroizing<Vec<u8>>), String> {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
            .map_err(|_| "the system could not make a key pair".to_owned())?;
        let pkcs8 = pair
            .to_pkcs8v1()
            .map_err(|_| "the new key pair could not be encoded".to_owned())?;
        let pkcs8 = Zeroizing::new(pkcs8.as_ref().to_vec());
        Ok((Self::from_pair(pair)?, pkcs8))
    }

    /// The key kept as PKCS#8 bytes.
    pub(crate) fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, String> {
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8)
            .map_err(|_| "the kept key is not a P-256 key pair".to_owned())?;
        Self::from_pair(pair)
    }

    fn from_pair(pair: EcdsaKeyPair) -> Result<Self, String> {
        // Uncompressed point: 0x04 || X (32 bytes) || Y (32 bytes).
        let point = pair.public_key().as_ref();
        if point.len() != 65 || point[0] != 4 {
            return Err("the public key is not an uncompressed P-256 point".into());
        }
        let (x, y) = (B64.encode(&point[1..33]), B64.encode(&point[33..]));
        // RFC 7638: the required members, in lexicographic order, no whitespace.
        let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        let thumbprint = B64.encode(Sha256::digest(canonical.as_bytes()));
        Ok(Self {
            pair,
            jwk: json!({ "kty": "EC", "crv": "P-256", "x": x, "y": y }),
            thumbprint,
        })
    }

    /// The RFC 7638 SHA-256 thumbprint: what a bound token names as `cnf.jkt`.
    pub(crate) fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// A fresh proof for one request.
    pub(crate) fn proof(&self, request: ProofFor<'_>) -> Result<String, String> {
        let rng = SystemRandom::new();
        let mut jti = [0u8; 16];
        rng.fill(&mut jti)
            .map_err(|_| "the system could not make random bytes".to_owned())?;
        let iat = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let mut claims = json!({
            "jti": B64.encode(jti),
            "htm": request.method,
            "htu": htu(request.url),
            "iat": iat,
        });
        if let Some(token) = request.access_token {
            claims["ath"] = json!(ath(token));
        }
        if let Some(nonce) = request.nonce {
            claims["nonce"] = json!(nonce);
        }
        let header = json!({ "typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk });
        let signing_input = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(claims.to_string())
        );
        let signature = self
            .pair
            .sign(&rng, signing_input.as_bytes())
            .map_err(|_| "the proof could not be signed".to_owned())?;
        Ok(format!(
            "{signing_input}.{}",
            B64.encode(signature.as_ref())
        ))
    }
}

/// `htu`: the request's URL without its query and fragment (RFC 9449 §4.2).
pub(crate) fn htu(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            parsed.set_query(None);
            parsed.set_fragment(None);
            parsed.to_string()
        }
        Err(_) => url.split(['?', '#']).next().unwrap_or_default().to_owned(),
    }
}

/// `ath`: base64url SHA-256 of the access token (RFC 9449 §4.2).
pub(crate) fn ath(access_token: &str) -> String {
    B64.encode(Sha256::digest(access_token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};

    use super::*;

    fn decode(part: &str) -> serde_json::Value {
        serde_json::from_slice(&B64.decode(part).unwrap()).unwrap()
    }

    #[test]
    fn a_proof_is_signed_by_the_key_it_names_and_says_which_request() {
        let (key, pkcs8) = DpopKey::generate().unwrap();
        let proof = key
            .proof(ProofFor {
                method: "POST",
                url: "https://mcp.example.com/mcp?x=1#frag",
                access_token: Some("token-value"),
                nonce: Some("n-1"),
            })
            .unwrap();
        let parts: Vec<&str> = proof.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header = decode(parts[0]);
        assert_eq!(header["typ"], "dpop+jwt");
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["jwk"]["kty"], "EC");
        assert!(header["jwk"].get("d").is_none(), "no private part");
        let claims = decode(parts[1]);
        assert_eq!(claims["htm"], "POST");
        assert_eq!(claims["htu"], "https://mcp.example.com/mcp");
        assert_eq!(claims["nonce"], "n-1");
        assert_eq!(claims["ath"], ath("token-value"));
        assert!(claims["iat"].as_u64().unwrap() > 1_700_000_000);
        // The signature verifies with the public key rebuilt from the proof's own `jwk`.
        let coordinate = |c: &str| B64.decode(header["jwk"][c].as_str().unwrap()).unwrap();
        let mut point = vec![4u8];
        point.extend(coordinate("x"));
        point.extend(coordinate("y"));
        let signed = format!("{}.{}", parts[0], parts[1]);
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
            .verify(signed.as_bytes(), &B64.decode(parts[2]).unwrap())
            .expect("the proof verifies");
        // The thumbprint is RFC 7638's over the `jwk` the proof carries.
        let jwk = &header["jwk"];
        let canonical = format!(
            r#"{{"crv":"{}","kty":"{}","x":"{}","y":"{}"}}"#,
            jwk["crv"].as_str().unwrap(),
            jwk["kty"].as_str().unwrap(),
            jwk["x"].as_str().unwrap(),
            jwk["y"].as_str().unwrap()
        );
        assert_eq!(key.thumbprint(), B64.encode(Sha256::digest(canonical)));
        // The kept form is the same key.
        let again = DpopKey::from_pkcs8(&pkcs8).unwrap();
        assert_eq!(again.thumbprint(), key.thumbprint());
        // Each proof is new.
        let other = key
            .proof(ProofFor {
                method: "POST",
                url: "https://mcp.example.com/mcp",
                access_token: None,
                nonce: None,
            })
            .unwrap();
        let other_claims = decode(other.split('.').nth(1).unwrap());
        assert_ne!(other_claims["jti"], claims["jti"]);
        assert!(other_claims.get("ath").is_none() && other_claims.get("nonce").is_none());
        assert!(!format!("{key:?}").contains(&B64.encode(&pkcs8[..])));
    }

    #[test]
    fn ath_and_htu_follow_rfc_9449() {
        // RFC 9449 §7.1's example token and its `ath`.
        assert_eq!(
            ath("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
            "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
        );
        assert_eq!(htu("https://a.example/p?q=1"), "https://a.example/p");
    }
}
