//! Arbitrary bytes through the `geofeed_json` parser (plain and through the decompressing input layer).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ipsieve_sources::fuzz::parse("geofeed_json", data));
