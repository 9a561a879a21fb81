//! The integration tests of `ipsieve-sources`: one binary, one module per parser.
//!
//! Fixtures in `tests/fixtures/` are trimmed real excerpts (see its README). Tests that read
//! the full upstream files from `shared/data` skip, with a note, when that folder is absent.

mod common;

mod asnames;
mod aws;
mod google;
mod input;
mod lenient;
mod pfx2as;
mod plain;
mod real_data;
mod time;
mod tor;
