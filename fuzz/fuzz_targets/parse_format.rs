//! Arbitrary bytes through one registered format's parser (plain and through the decompressing
//! input layer): the format whose module `IPSIEVE_FUZZ_FORMAT` names (`tor`, `mrt`, …; see
//! `cargo run -p ipsieve-sources --features mmdb --example formats`). `run-all.sh` sets it for
//! every format of the registry, so a new format is fuzzed without a target of its own.
#![no_main]

use std::sync::OnceLock;

use ipsieve_sources::formats::{self, Format};

fn format() -> &'static Format {
    static FORMAT: OnceLock<&'static Format> = OnceLock::new();
    FORMAT.get_or_init(|| {
        let module = std::env::var("IPSIEVE_FUZZ_FORMAT")
            .expect("set IPSIEVE_FUZZ_FORMAT to a format's module (tor, mrt, …)");
        formats::by_module(&module).unwrap_or_else(|| {
            panic!("IPSIEVE_FUZZ_FORMAT={module} is no format's module; see the registry")
        })
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| format().fuzz(data));
