//! The sign-in callback: a request target reaching the loopback listener, and a
//! `latch://oauth/callback` deep link. Input: target, a NUL byte, deep link.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (target, link) = text.split_once('\0').unwrap_or((&text, ""));
    latch_core::auth::fuzz_callback(target, link);
});
