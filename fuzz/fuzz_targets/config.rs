//! The servers file: JSONC text through `ConfigFile::parse` (comments, trailing commas, the
//! entries' shapes), then every entry's placeholders expanded. Refusals are fine; a parsed file
//! re-serialises to JSON that parses again.
#![no_main]

use std::{collections::HashMap, path::Path};

use latch_core::config::{ConfigFile, ServerConfig, expand};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let secrets: HashMap<String, String> = [("token".to_owned(), "s3cr3t".to_owned())].into();
    let _ = expand(text, &secrets);
    let Ok(file) = ConfigFile::parse(Path::new("/fuzz/servers.json"), text) else {
        return;
    };
    let again = file.to_json_string();
    ConfigFile::parse(Path::new("/fuzz/servers.json"), &again)
        .unwrap_or_else(|e| panic!("saved text does not parse back ({e}): {again}"));
    for (_, server) in file.servers() {
        match server {
            ServerConfig::Remote(remote) => {
                let _ = remote.resolved_headers(&secrets);
            }
            ServerConfig::Command(command) => {
                let _ = command.resolved_env(&secrets);
                let _ = command.resolved_args(&secrets);
            }
        }
    }
});
