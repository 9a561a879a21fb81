//! The fuzz entry points on stable: every minimised crasher under `fuzz/regressions/parse_*/`
//! (and `parse_sources/`) replays, every fixture and its truncations parse, and a few thousand
//! proptest inputs (mutated fixtures and random bytes) run through `ipsieve_sources::fuzz`, so
//! a parser that panics fails CI even where cargo-fuzz cannot run.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ipsieve_sources::formats::FORMATS;
use ipsieve_sources::fuzz::{parse, parse_all, regressions};
use proptest::prelude::*;

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The fixtures of the `i`th registered format (at most 24 KiB each), plus the decompressed
/// text of compressed ones so that mutations also hit the parser rather than only the
/// decompressor.
fn seeds(i: usize) -> Vec<Vec<u8>> {
    static SEEDS: OnceLock<Vec<Vec<Vec<u8>>>> = OnceLock::new();
    let all = SEEDS.get_or_init(|| (0..FORMATS.len()).map(read_seeds).collect());
    all[i].clone()
}

fn read_seeds(i: usize) -> Vec<Vec<u8>> {
    let format = &FORMATS[i];
    let mut names: Vec<String> = fs::read_dir(fixtures_dir())
        .expect("tests/fixtures")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| format.fixtures.iter().any(|p| n.starts_with(p)))
        .collect();
    names.sort();
    let mut out = Vec::new();
    for name in names {
        let bytes = fs::read(fixtures_dir().join(&name)).unwrap();
        if bytes.starts_with(&[0x1f, 0x8b]) || bytes.starts_with(b"BZh") {
            let mut text = Vec::new();
            let mut r =
                ipsieve_sources::input::decode(std::io::Cursor::new(bytes.clone())).unwrap();
            let _ = std::io::Read::read_to_end(&mut r, &mut text);
            text.truncate(24 << 10);
            out.push(text);
        }
        if bytes.len() <= 24 << 10 {
            out.push(bytes);
        }
    }
    assert!(!out.is_empty(), "no fixture seeds for {}", format.name);
    out
}

#[test]
fn fuzz_regressions_replay() {
    for format in FORMATS {
        for data in regressions(&format!("parse_{}", format.module)) {
            parse(format.module, &data);
        }
    }
    for data in regressions("parse_sources") {
        parse_all(&data);
    }
}

#[test]
fn fixtures_and_their_truncations_parse_cleanly() {
    for (i, format) in FORMATS.iter().enumerate() {
        for seed in seeds(i) {
            format.fuzz(&seed);
            let step = (seed.len() / 16).max(1);
            for len in (0..seed.len()).step_by(step) {
                format.fuzz(&seed[..len]);
            }
        }
    }
}

/// One edit of a seed: overwrite, insert, delete a run, or duplicate a run elsewhere.
#[derive(Debug, Clone)]
struct Edit {
    kind: u8,
    at: usize,
    len: usize,
    byte: u8,
}

fn apply(data: &mut Vec<u8>, e: &Edit) {
    let at = if data.is_empty() {
        0
    } else {
        e.at % data.len()
    };
    let end = (at + e.len).min(data.len());
    match e.kind % 5 {
        0 => {
            if at < data.len() {
                data[at] = e.byte;
            }
        }
        1 => data.insert(at, e.byte),
        2 => {
            data.drain(at..end);
        }
        3 => {
            let run = data[at..end].to_vec();
            let to = (at + e.byte as usize * 7) % (data.len() + 1);
            data.splice(to..to, run);
        }
        _ => data.truncate(at),
    }
}

/// A format and an input: a fixture of that format with a few edits, or random bytes.
fn case() -> impl Strategy<Value = (usize, Vec<u8>)> {
    (0..FORMATS.len()).prop_flat_map(|f| {
        let seeds = seeds(f);
        let n = seeds.len();
        let edit = (any::<u8>(), any::<usize>(), 0usize..64, any::<u8>()).prop_map(
            |(kind, at, len, byte)| Edit {
                kind,
                at,
                len,
                byte,
            },
        );
        let mutated = (0..n, proptest::collection::vec(edit, 0..6)).prop_map(move |(i, edits)| {
            let mut data = seeds[i].clone();
            for e in &edits {
                apply(&mut data, e);
            }
            data
        });
        let input = prop_oneof![
            4 => mutated,
            1 => proptest::collection::vec(any::<u8>(), 0..512),
        ];
        (Just(f), input)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn parsers_survive_mutated_fixtures((format, data) in case()) {
        FORMATS[format].fuzz(&data);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn parse_all_survives_random_bytes(data in proptest::collection::vec(any::<u8>(), 0..256)) {
        parse_all(&data);
    }
}
