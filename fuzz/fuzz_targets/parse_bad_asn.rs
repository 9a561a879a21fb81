//! Arbitrary bytes through the `bad_asn` parser (plain and through the decompressing input layer).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ipsieve_sources::fuzz::parse("bad_asn", data));
