//! A valid header (the golden artifact's) followed by arbitrary bytes, opened and looked up.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ipsieve::fuzz::open_with_valid_header(GOLDEN, data));
/// A valid artifact whose header the inputs keep.
const GOLDEN: &[u8] = include_bytes!("../../lookup/tests/golden/v4.ipsieve");
