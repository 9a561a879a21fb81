//! Arbitrary bytes through the `google` parser (plain and through the decompressing input layer).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ipsieve_sources::fuzz::parse("google", data));
