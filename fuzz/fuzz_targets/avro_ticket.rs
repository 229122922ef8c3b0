#![no_main]
//! Fuzz target `avro_ticket`: see tests/fuzz/checks.rs for what it checks.

#[path = "../../tests/fuzz/checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::avro_ticket(data));
