mod alloc;
mod cli;
mod corrupt;
mod explain;
#[cfg(feature = "fetch")]
mod fetch;
mod formats;
mod golden;
#[cfg(feature = "fetch")]
mod http;
mod manifest;
mod model;
mod snapshot;
