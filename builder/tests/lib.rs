mod alloc;
mod cli;
mod corrupt;
mod golden;
mod model;
mod snapshot;
