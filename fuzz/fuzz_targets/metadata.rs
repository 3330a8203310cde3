//! Authorization-server and protected-resource metadata documents, as Latch reads them
//! (auth/legacy.rs): parsed into rmcp's types, every endpoint checked before use. A document
//! may be refused, never crash; an endpoint that passes the check is a plain http(s) URL with
//! a host and no credentials.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rmcp::transport::auth::AuthorizationMetadata;

fuzz_target!(|data: &[u8]| {
    if let Ok(metadata) = serde_json::from_slice::<AuthorizationMetadata>(data) {
        for endpoint in [
            Some(&metadata.authorization_endpoint),
            Some(&metadata.token_endpoint),
            metadata.registration_endpoint.as_ref(),
            metadata.issuer.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
            if let Ok(url) = latch_core::auth::check_url_to_open(endpoint) {
                assert!(matches!(url.scheme(), "http" | "https"), "{endpoint}");
                assert!(url.username().is_empty() && url.password().is_none());
                assert!(url.host_str().is_some_and(|h| !h.is_empty()));
            }
        }
    }
    // Any JSON value Latch might get instead of an object.
    let _ = serde_json::from_slice::<serde_json::Value>(data);
});
