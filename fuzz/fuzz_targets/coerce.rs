//! `latch call NAME TOOL KEY=VALUE…`: the words typed by a tool's input schema (any JSON a
//! server sends, `$ref` loops included). Input: the schema, a NUL byte, then words separated
//! by NUL bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\0');
    let schema = parts.next().unwrap_or_default();
    let Ok(schema) = serde_json::from_str::<serde_json::Value>(schema) else {
        return;
    };
    let words: Vec<String> = parts.map(str::to_owned).collect();
    let _ = latch_core::tools::coerce::arguments(&schema, &words);
});
