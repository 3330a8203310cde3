//! The legacy SSE transport's read path: a response body, in chunks, through the event size
//! limiter, the SSE parser, the JSON-RPC parse and the `endpoint` resolution.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    latch_core::connection::sse::fuzz_sse_body(data);
});
