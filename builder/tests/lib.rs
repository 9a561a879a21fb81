mod alloc;
mod cli;
mod corrupt;
mod golden;
mod manifest;
mod model;
mod snapshot;
