//! Arbitrary bytes opened as an artifact; whatever opens is looked up and verified.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ipsieve::fuzz::open_and_lookup(data));
