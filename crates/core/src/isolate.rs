//! Panic isolation for one record: defence in depth behind the decoders'
//! and the engine's own checks. A panic while decoding, triaging or encoding
//! one record must cost that record (a dead letter, `internal_error`), never
//! the stream.

use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `f`; a panic becomes `Err` with its message (at most 200 characters;
/// the engine's panic messages name invariants, not ticket text).
///
/// The closure is asserted unwind-safe: callers pass per-record state only,
/// and reset any scratch space it used after an `Err`.
pub fn isolate<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|p| {
        let msg = p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_string());
        let mut cut: String = msg.chars().take(200).collect();
        if cut.len() < msg.len() {
            cut.push('…');
        }
        cut
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_an_error_with_its_message() {
        let r: Result<(), String> = isolate(|| panic!("boom {}", 7));
        assert_eq!(r, Err("boom 7".to_string()));
        assert_eq!(isolate(|| 5), Ok(5));
        let long = "x".repeat(500);
        let e = isolate(|| panic!("{long}")).unwrap_err();
        assert_eq!(e.chars().count(), 201);
    }
}
