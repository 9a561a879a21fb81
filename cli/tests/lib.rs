//! The `ipsieve` binary, run as a user, a script or a pipeline would: one integration-test
//! binary (these modules) keeps link time low. Library behaviour is tested in each library's
//! own `tests/`; these check what the command line adds (arguments, exit codes, output,
//! files written) and the end-to-end flows through it.

mod cli;
mod cli_hostile;
#[cfg(feature = "fetch")]
mod dated;
mod diff;
mod eval;
mod explain;
mod export;
#[cfg(feature = "fetch")]
mod fetch;
#[cfg(feature = "fetch")]
mod fetch_guards;
mod pipeline;
mod publish;
#[cfg(feature = "serve")]
mod serve;
mod sources;
