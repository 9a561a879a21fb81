//! The layer inside real axum apps on 127.0.0.1:0, called over TCP with reqwest.
//!
//! Clients connect from two loopback addresses: 127.0.0.2 plays the trusted proxy (the only
//! peer whose forwarding header is read) and 127.0.0.3 anyone else on the internet. Artifacts
//! are built with `ipsieve_builder::Builder` from real addresses of the vendored snapshot
//! and the shared data (see `common::artifact`).

mod common;

mod addresses;
mod decisions;
mod failure;
mod overlay;
mod reload;
