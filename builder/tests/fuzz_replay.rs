//! The builder round-trip and artifact-header fuzz entry points on stable: every minimised
//! crasher under `fuzz/regressions/build_roundtrip/` and `fuzz/regressions/open_artifact_header/`
//! replays, and proptest runs each entry point on generated inputs, so a broken build or open
//! fails CI even where cargo-fuzz cannot run.

use ipsieve::fuzz::open_with_valid_header;
use ipsieve_builder::fuzz::build_and_compare;
use ipsieve_sources::fuzz::regressions;
use proptest::prelude::*;

/// A valid artifact whose header the header-fuzz inputs keep.
const GOLDEN: &[u8] = include_bytes!("../../lookup/tests/golden/v4.ipsieve");

#[test]
fn fuzz_regressions_replay() {
    for data in regressions("build_roundtrip") {
        build_and_compare(&data);
    }
    for data in regressions("open_artifact_header") {
        open_with_valid_header(GOLDEN, &data);
    }
}

#[test]
fn round_trip_edge_cases() {
    // No entries; a /0 per family; a host route at each end of each family; nested prefixes.
    build_and_compare(&[]);
    build_and_compare(&[0, 0, 0, 2, 0x80, 0, 0, 0, 0, 0, 0]);
    build_and_compare(&[
        0, 0, 0, 3, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ]);
    let mut ends = vec![1, 5, 1];
    for v6 in [0u8, 1] {
        let n = if v6 == 1 { 16 } else { 4 };
        for fill in [0u8, 0xFF] {
            ends.extend([2 | v6, 0x80]);
            ends.extend(std::iter::repeat_n(fill, n));
            ends.extend([if v6 == 1 { 128 } else { 32 }, 1]);
        }
    }
    build_and_compare(&ends);
    build_and_compare(&[0, 9, 0, 0x12, 0, 0, 0, 8, 3, 7, 0x16, 0, 0, 0, 24, 0, 2]);
}

// Each case compiles two artifacts (about 0.1 s in debug): few cases here, volume under the
// fuzzer in release; `model.rs` covers the same semantics with richer generated sets.
proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn build_round_trip_matches_the_model(data in proptest::collection::vec(any::<u8>(), 0..160)) {
        build_and_compare(&data);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn valid_header_then_arbitrary_bytes_never_panics(
        shape in any::<u8>(),
        offset in any::<u32>(),
        body in proptest::collection::vec(any::<u8>(), 0..2048),
    ) {
        let mut data = vec![shape];
        data.extend(offset.to_be_bytes());
        data.extend(body);
        open_with_valid_header(GOLDEN, &data);
    }
}
