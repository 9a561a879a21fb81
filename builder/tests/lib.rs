mod alloc;
mod cli;
mod corrupt;
mod formats;
mod golden;
mod manifest;
mod model;
mod snapshot;
