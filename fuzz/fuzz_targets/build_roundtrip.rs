//! Arbitrary ranges built into an artifact; every boundary answer must equal the reference model.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ipsieve_builder::fuzz::build_and_compare(data));
