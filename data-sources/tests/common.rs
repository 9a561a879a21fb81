//! Helpers shared by the test modules.

use std::fs;
use std::path::{Path, PathBuf};

use ipsieve_sources::{ParseError, Position};

/// The path of a vendored fixture.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The bytes of a vendored fixture.
pub fn fixture_bytes(name: &str) -> Vec<u8> {
    fs::read(fixture(name)).expect("fixture present")
}

pub use ipsieve_testkit::shared_data;

/// Splits a parser's stream into records and errors, checking that only the last error may be
/// fatal and that every error names `source` and a line.
pub fn split<T>(
    items: impl Iterator<Item = Result<T, ParseError>>,
    source: &str,
) -> (Vec<T>, Vec<ParseError>) {
    let mut ok = Vec::new();
    let mut errors: Vec<ParseError> = Vec::new();
    for item in items {
        if let Some(last) = errors.last() {
            assert!(!last.fatal, "item after a fatal error: {last}");
        }
        match item {
            Ok(record) => ok.push(record),
            Err(e) => {
                assert_names_source(&e, source);
                errors.push(e);
            }
        }
    }
    (ok, errors)
}

/// Every error names its source, and a line for the line-based parsers.
pub fn assert_names_source(e: &ParseError, source: &str) {
    assert_eq!(e.source_name, source, "{e}");
    assert!(e.to_string().starts_with(&format!("{source}: ")), "{e}");
    if let Position::Line(n) = e.position {
        assert!(n >= 1, "{e}");
    }
}

/// Records only; panics on any error.
pub fn all_ok<T>(items: impl Iterator<Item = Result<T, ParseError>>) -> Vec<T> {
    items.map(|r| r.unwrap_or_else(|e| panic!("{e}"))).collect()
}

/// The single error of a stream that must hold exactly one (and no records).
pub fn only_error<T: std::fmt::Debug>(
    items: impl Iterator<Item = Result<T, ParseError>>,
) -> ParseError {
    let all: Vec<_> = items.collect();
    assert_eq!(all.len(), 1, "{all:?}");
    all.into_iter().next().unwrap().unwrap_err()
}

/// A line of `len` bytes of `x`.
pub fn long_line(len: usize) -> Vec<u8> {
    vec![b'x'; len]
}
