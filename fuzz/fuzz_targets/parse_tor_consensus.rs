//! Arbitrary bytes through the `tor_consensus` parser (plain and through the decompressing input layer).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ipsieve_sources::fuzz::parse("tor_consensus", data));
