//! ipsieve-sources (being written)
pub mod error;
