//! Parses one JSON document with the streaming `parse` of its format and counts the entries,
//! so that peak memory on a large or hostile document can be measured from outside:
//!
//! ```text
//! cargo build --release -p ipsieve-sources --example json_memory
//! /usr/bin/time -v target/release/examples/json_memory azure hostile.json
//! ```
//!
//! Formats: `aws`, `google`, `azure`, `oracle`, `geofeed-json`, `ip-fetcher`, `mullvad`.

use std::io::BufReader;
use std::process::ExitCode;

use ipsieve_sources::{aws, azure, geofeed_json, google, ipfetcher, mullvad, oracle, ParseError};

fn count<T>(items: impl Iterator<Item = Result<T, ParseError>>) -> (u64, u64, Option<ParseError>) {
    let (mut ok, mut bad, mut fatal) = (0, 0, None);
    for item in items {
        match item {
            Ok(_) => ok += 1,
            Err(e) if e.fatal => fatal = Some(e),
            Err(_) => bad += 1,
        }
    }
    (ok, bad, fatal)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let [_, format, path] = &args[..] else {
        eprintln!("usage: json_memory FORMAT FILE");
        return ExitCode::FAILURE;
    };
    let file = match std::fs::File::open(path) {
        Ok(file) => BufReader::new(file),
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (ok, bad, fatal) = match format.as_str() {
        "aws" => count(aws::parse(file, path)),
        "google" => count(google::parse(file, path)),
        "azure" => count(azure::parse(file, path)),
        "oracle" => count(oracle::parse(file, path)),
        "geofeed-json" => count(geofeed_json::parse(file, path)),
        "ip-fetcher" => count(ipfetcher::parse(file, path)),
        "mullvad" => count(mullvad::parse(file, path)),
        other => {
            eprintln!("unknown format {other:?}");
            return ExitCode::FAILURE;
        }
    };
    println!("{ok} accepted, {bad} rejected");
    if let Some(e) = fatal {
        println!("fatal: {e}");
    }
    ExitCode::SUCCESS
}
