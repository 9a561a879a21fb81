//! `scripts/nightly.sh` end to end, offline, on a copy of the vendored snapshot: a first run
//! publishes, an unchanged rerun leaves the artifact alone, and a source cut to a tenth of its
//! lines trips the shrink guard, which must leave everything published byte-identical.
#![cfg(unix)]

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Command, Output};

use ipsieve::Database;
use ipsieve_builder::manifest::Manifest;

/// The source the third run cuts to a tenth of its lines (plain text in the snapshot).
const SHRUNK: &str = "vpn-windscribe";

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Runs the script offline with the test-built binary and a fixed build time.
fn nightly(manifest: &Path, dir: &Path) -> Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/nightly.sh");
    Command::new("bash")
        .arg(script)
        .arg("--offline")
        .arg("--sources")
        .arg(manifest)
        .arg("--cache")
        .arg(dir.join("cache"))
        .arg("--publish")
        .arg(dir.join("publish"))
        .args(["--max-shrink", "20"])
        .arg("--ipsieve")
        .arg(env!("CARGO_BIN_EXE_ipsieve"))
        .env("SOURCE_DATE_EPOCH", "1750000000")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Everything in the publish directory but the lock file, by name.
fn published(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name() != ".nightly.lock")
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (name, std::fs::read(e.path()).unwrap())
        })
        .collect();
    files.sort();
    files
}

#[test]
fn nightly_publishes_then_guards_against_a_shrunken_source() {
    let dir = std::env::temp_dir().join(format!("ipsieve-pipeline-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let snapshot = dir.join("snapshot");
    let vendored = crate::snapshot::manifest_path();
    copy_dir(vendored.parent().unwrap(), &snapshot);
    let manifest_path = snapshot.join("sources.toml");
    let manifest = Manifest::load(&manifest_path).unwrap();
    let publish = dir.join("publish");
    let artifact = publish.join("ipsieve.ipsieve");

    // First run: nothing published yet, so no guard; all three files appear.
    let first = nightly(&manifest_path, &dir);
    assert!(first.status.success(), "{}", text(&first));
    let names: Vec<_> = published(&publish).into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        ["ATTRIBUTION", "ipsieve.ipsieve", "report.json"],
        "staging left behind or a file missing:\n{}",
        text(&first)
    );
    Database::open(&artifact).unwrap().verify().unwrap();
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(publish.join("report.json")).unwrap()).unwrap();
    assert!(report.is_object(), "{report}");

    // Every source, with its licence, URL and snapshot date, under its own name.
    let attribution = std::fs::read_to_string(publish.join("ATTRIBUTION")).unwrap();
    for s in &manifest.sources {
        let block = attribution
            .split("\n\n")
            .find(|b| b.lines().next() == Some(s.name.as_str()))
            .unwrap_or_else(|| panic!("ATTRIBUTION lacks {}:\n{attribution}", s.name));
        for (field, want) in [
            ("licence", s.licence.as_deref()),
            ("url", s.url.as_deref()),
            ("snapshot", s.snapshot.as_deref()),
        ] {
            let want = want.unwrap_or_else(|| panic!("{} has no {field}", s.name));
            assert!(
                block.lines().any(|l| l == format!("  {field}: {want}")),
                "{}: no {field} {want:?} in\n{block}",
                s.name
            );
        }
    }
    let before = published(&publish);
    let inode = std::fs::metadata(&artifact).unwrap().ino();

    // Second run, same inputs and build time: the same bytes, so nothing is replaced.
    let second = nightly(&manifest_path, &dir);
    assert!(second.status.success(), "{}", text(&second));
    assert!(
        String::from_utf8_lossy(&second.stdout).contains("unchanged"),
        "{}",
        text(&second)
    );
    assert!(published(&publish) == before, "{}", text(&second));

    // Third run: one upstream list shrank to a tenth. The guard names it and nothing moves.
    let entry = manifest.sources.iter().find(|s| s.name == SHRUNK).unwrap();
    let list = snapshot.join(entry.path.as_ref().unwrap());
    let lines: Vec<String> = std::fs::read_to_string(&list)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert!(lines.len() >= 100, "{SHRUNK} is too short to shrink");
    std::fs::write(&list, lines[..lines.len() / 10].join("\n") + "\n").unwrap();
    let third = nightly(&manifest_path, &dir);
    assert_eq!(third.status.code(), Some(3), "{}", text(&third));
    let stderr = String::from_utf8_lossy(&third.stderr);
    assert!(
        stderr.contains(&format!("source {SHRUNK} lost")) && stderr.contains("NOT PUBLISHED"),
        "{}",
        text(&third)
    );
    assert!(
        published(&publish) == before,
        "the guard let something through:\n{}",
        text(&third)
    );
    // Not even replaced by an identical copy: the file services map is the same one.
    assert_eq!(std::fs::metadata(&artifact).unwrap().ino(), inode);

    let _ = std::fs::remove_dir_all(&dir);
}
