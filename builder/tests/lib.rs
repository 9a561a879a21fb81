//! Integration tests of the builder and the lookup crate together (one test binary).

mod alloc;
mod cli;
mod corrupt;
mod model;
mod snapshot;
