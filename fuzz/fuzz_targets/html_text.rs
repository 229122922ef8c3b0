#![no_main]
//! Fuzz target `html_text`: see tests/fuzz/checks.rs for what it checks.

#[path = "../../tests/fuzz/checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::html_text(data));
