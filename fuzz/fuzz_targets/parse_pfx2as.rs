//! Arbitrary bytes through the `pfx2as` parser (plain and through the decompressing input layer).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ipsieve_sources::fuzz::parse("pfx2as", data));
