//! The builder library's integration tests, one test binary (these modules) to keep link time
//! low. The `ipsieve` binary's tests are in `cli/tests/`; helpers shared by both are in the
//! `ipsieve-testkit` crate.

mod alloc;
mod colocation;
mod corrupt;
#[cfg(feature = "fetch")]
mod dated;
mod diff;
mod evidence;
mod export;
mod eyeball;
#[cfg(feature = "fetch")]
mod fetch;
#[cfg(feature = "fetch")]
mod fetch_guards;
mod formats;
mod fuzz_replay;
mod golden;
mod hostile_artifact;
mod keywords;
mod manifest;
mod model;
mod origin;
mod publish;
mod siblings;
mod snapshot;
