mod alloc;
mod cli;
mod cli_hostile;
mod corrupt;
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
mod formats;
mod fuzz_replay;
mod golden;
mod hostile_artifact;
#[cfg(feature = "fetch")]
mod http;
mod manifest;
mod model;
mod pipeline;
mod publish;
mod snapshot;
