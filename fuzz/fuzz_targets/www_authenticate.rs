//! A `WWW-Authenticate` header from a 401/403, as Latch reads it: rmcp's parser (what discovery
//! and step-up use) and Latch's own scope reader. Neither may panic; a parsed
//! `resource_metadata` URL is an absolute URL.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rmcp::transport::auth::WWWAuthenticateParams;

fuzz_target!(|data: &[u8]| {
    let Ok(header) = std::str::from_utf8(data) else {
        return;
    };
    let base = url::Url::parse("http://127.0.0.1:3000/mcp").unwrap();
    let params = WWWAuthenticateParams::parse(header, &base);
    if let Some(url) = &params.resource_metadata_url {
        assert!(!url.cannot_be_a_base() || url.scheme() != "http");
    }
    let _ = params.is_insufficient_scope();
    if let Some(scope) = latch_core::auth::fuzz_challenge_scope(header) {
        assert!(scope.len() <= header.len());
    }
});
