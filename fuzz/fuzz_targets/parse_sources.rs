//! Arbitrary bytes through the parser the first byte picks (every format in one target).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ipsieve_sources::fuzz::parse_all(data));
