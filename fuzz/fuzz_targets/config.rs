//! The config file (docs/configuration.md): any text is either settings that pass every
//! check or a clear error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Err(err) = tollbooth::Settings::from_toml(text, []) {
        assert!(!err.to_string().is_empty());
    }
});
