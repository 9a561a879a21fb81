//! The integration tests of `ipsieve-sources`: one binary, one module per parser.
//!
//! Fixtures in `tests/fixtures/` are trimmed real excerpts (see its README). Tests that read
//! the full upstream files from `shared/data` skip, with a note, when that folder is absent (and
//! fail under `CI=true`: see `ipsieve_testkit::shared_data`).

mod common;
mod fuzz_replay;
mod json_shapes;

mod asn_list;
mod asnames;
mod aws;
mod azure;
mod bad_asn;
mod geofeed;
mod geofeed_json;
mod gluetun;
mod google;
mod input;
mod input_bzip2;
mod ip_location_db;
mod ipcat;
mod ipfetcher;
mod iptoasn;
mod lenient;
#[cfg(feature = "mmdb")]
mod mmdb;
mod mrt;
mod mullvad;
mod oracle;
mod pfx2as;
mod plain;
mod proxy;
mod real_data;
mod registry;
mod rir;
mod time;
mod tor;
mod tor_consensus;
