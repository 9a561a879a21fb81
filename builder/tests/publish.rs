//! Publishing: `ipsieve build --keep N` keeps earlier artifacts without touching them, a build
//! is byte-for-byte reproducible under `SOURCE_DATE_EPOCH`, progress stays off pipes, and
//! `--report-json` carries what a pipeline compares.

use std::path::{Path, PathBuf};
use std::process::Output;

use ipsieve::format::hdr;
use ipsieve::Database;
use ipsieve_builder::diff::KeyKind;
use ipsieve_builder::{kept_path, publish_keeping, BuildError};

use crate::cli::bin;
use crate::diff::{amount, manifest_variant, reference, tmp};
use crate::snapshot::manifest_path;

/// A manifest in `dir` with only the named sources of the vendored snapshot.
fn small_manifest(dir: &Path, names: &[&str]) -> PathBuf {
    manifest_variant(dir, |t| names.contains(&t["name"].as_str().unwrap()))
}

fn build(manifest: &Path, out: &Path, epoch: u64, extra: &[&str]) -> Output {
    bin()
        .args(["build", "--quiet", "--sources"])
        .arg(manifest)
        .arg("--out")
        .arg(out)
        .args(extra)
        .env("SOURCE_DATE_EPOCH", epoch.to_string())
        .output()
        .unwrap()
}

fn built_at(path: &Path) -> u64 {
    Database::open(path).unwrap().build_time()
}

/// Files in `dir` whose names start with `.`: leftovers of a temporary write.
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect()
}

#[cfg(unix)]
fn inode(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).unwrap().ino()
}

#[test]
fn keep_shifts_earlier_artifacts_by_rename() {
    let dir = tmp("keep");
    let manifest = small_manifest(&dir, &["vpn-ivpn", "tor-exit-addresses"]);
    let out = dir.join("out.ipsieve");
    let epochs = [1_700_000_000, 1_700_086_400, 1_700_172_800, 1_700_259_200];
    let mut published: Vec<(u64, Vec<u8>)> = Vec::new();
    #[cfg(unix)]
    let mut inodes: Vec<u64> = Vec::new();
    for (i, &epoch) in epochs.iter().enumerate() {
        let o = build(&manifest, &out, epoch, &["--keep", "2"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        published.push((epoch, std::fs::read(&out).unwrap()));
        #[cfg(unix)]
        inodes.push(inode(&out));
        assert_eq!(built_at(&out), epoch);
        for n in 1..=2 {
            let kept = kept_path(&out, n);
            match i.checked_sub(n) {
                Some(j) => {
                    // The artifact published n builds ago, the very same file.
                    assert_eq!(built_at(&kept), epochs[j], "{}", kept.display());
                    assert_eq!(std::fs::read(&kept).unwrap(), published[j].1);
                    #[cfg(unix)]
                    assert_eq!(inode(&kept), inodes[j], "{} was rewritten", kept.display());
                }
                None => assert!(!kept.exists(), "{} too early", kept.display()),
            }
        }
        assert!(!kept_path(&out, 3).exists(), "more than 2 kept");
        assert!(leftovers(&dir).is_empty(), "{:?}", leftovers(&dir));
    }
    assert_eq!(kept_path(&out, 1), dir.join("out.ipsieve.1"));

    // Without --keep the kept files are left alone.
    let before = std::fs::read(kept_path(&out, 1)).unwrap();
    let o = build(&manifest, &out, 1_700_345_600, &[]);
    assert!(o.status.success());
    assert_eq!(built_at(&out), 1_700_345_600);
    assert_eq!(std::fs::read(kept_path(&out, 1)).unwrap(), before);

    // A build that fails publishes nothing and shifts nothing.
    let broken = dir.join("broken.toml");
    std::fs::write(
        &broken,
        "[[source]]\nname = \"gone\"\nformat = \"ip-list\"\npath = \"missing.txt\"\n",
    )
    .unwrap();
    let current = std::fs::read(&out).unwrap();
    let o = build(&broken, &out, 1_700_432_000, &["--keep", "2"]);
    assert!(!o.status.success());
    assert_eq!(std::fs::read(&out).unwrap(), current);
    assert_eq!(std::fs::read(kept_path(&out, 1)).unwrap(), before);
    assert!(leftovers(&dir).is_empty(), "{:?}", leftovers(&dir));
}

/// Bytes that do not open as an artifact are refused before anything is shifted.
#[test]
fn keep_shifts_nothing_when_the_new_file_is_bad() {
    let dir = tmp("keep-bad");
    let manifest = small_manifest(&dir, &["vpn-ivpn"]);
    let out = dir.join("db");
    for epoch in [1_700_000_000, 1_700_000_001] {
        assert!(build(&manifest, &out, epoch, &["--keep", "3"])
            .status
            .success());
    }
    let (current, kept) = (
        std::fs::read(&out).unwrap(),
        std::fs::read(kept_path(&out, 1)).unwrap(),
    );
    let err = publish_keeping(b"<html>login</html>", &out, 3).unwrap_err();
    assert!(!matches!(err, BuildError::Io { .. }), "{err:?}");
    assert_eq!(std::fs::read(&out).unwrap(), current);
    assert_eq!(std::fs::read(kept_path(&out, 1)).unwrap(), kept);
    assert!(!kept_path(&out, 2).exists());
    assert!(leftovers(&dir).is_empty(), "{:?}", leftovers(&dir));
    // Into an empty place there is nothing to keep.
    let fresh = dir.join("fresh");
    publish_keeping(&current, &fresh, 3).unwrap();
    assert!(!kept_path(&fresh, 1).exists());
}

/// The snapshot built twice from copies of the manifest in two directories, with the same
/// `SOURCE_DATE_EPOCH`, is the same file; another epoch changes the header's build time and
/// the two checksums, and nothing else.
#[test]
fn builds_are_reproducible() {
    let build_in = |name: &str, epoch: u64| -> Vec<u8> {
        let dir = tmp(name);
        let manifest = manifest_variant(&dir, |_| true);
        let out = dir.join("snapshot.ipsieve");
        let o = build(&manifest, &out, epoch, &[]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::read(out).unwrap()
    };
    let a = build_in("repro-a", 1_750_000_000);
    let b = build_in("repro-b", 1_750_000_000);
    assert!(a.len() > 100_000, "{}", a.len());
    assert!(a == b, "same inputs and epoch, different bytes");
    // The library build of the same inputs (other tests' artifact) is the same file too.
    assert!(
        a == crate::snapshot::artifact(),
        "the CLI and the library disagree"
    );

    let c = build_in("repro-c", 1_760_000_000);
    assert_eq!(a.len(), c.len());
    let differ: Vec<usize> = (0..a.len()).filter(|&i| a[i] != c[i]).collect();
    let allowed = |i: usize| {
        (hdr::BUILD_TIME..hdr::BUILD_TIME + 8).contains(&i)
            || (hdr::FILE_CRC..hdr::FILE_CRC + 4).contains(&i)
            || (hdr::HEADER_CRC..hdr::HEADER_CRC + 4).contains(&i)
    };
    assert!(differ.iter().all(|&i| allowed(i)), "{differ:?}");
    assert!(
        differ.iter().any(|&i| i < hdr::BUILD_TIME + 8),
        "{differ:?}"
    );
    for (bytes, epoch) in [(&a, 1_750_000_000), (&c, 1_760_000_000)] {
        let db = Database::from_bytes(bytes).unwrap();
        assert_eq!(db.build_time(), epoch);
        db.verify().unwrap();
    }

    let dir = tmp("repro-bad");
    let o = bin()
        .args(["build", "--quiet", "--sources"])
        .arg(manifest_path())
        .arg("--out")
        .arg(dir.join("y"))
        .env("SOURCE_DATE_EPOCH", "yesterday")
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("SOURCE_DATE_EPOCH"));
    assert!(!dir.join("y").exists());
}

/// Progress lines are for a person at a terminal: a pipe gets the report only.
#[test]
fn progress_stays_off_a_pipe() {
    let dir = tmp("progress");
    let manifest = small_manifest(&dir, &["vpn-ivpn", "vpn-ovpn"]);
    let o = bin()
        .args(["build", "--sources"])
        .arg(&manifest)
        .arg("--out")
        .arg(dir.join("out"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        !stderr.contains("reading") && !stderr.contains("compiling"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("vpn-ovpn") && stdout.contains("artifact:"),
        "{stdout}"
    );
}

/// At a terminal (a pseudo-terminal from util-linux `script`) each phase gets a line, unless
/// `--quiet`.
#[test]
fn progress_shows_at_a_terminal() {
    let dir = tmp("progress-tty");
    let manifest = small_manifest(&dir, &["vpn-ivpn", "vpn-ovpn"]);
    let at_terminal = |extra: &str| -> String {
        let command = format!(
            "'{}' build --sources '{}' --out '{}' {extra}",
            env!("CARGO_BIN_EXE_ipsieve"),
            manifest.display(),
            dir.join("out").display()
        );
        let o = std::process::Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .stdin(std::process::Stdio::null())
            .output()
            .expect("util-linux `script` runs the build at a pseudo-terminal");
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(o.status.success(), "{text}");
        text
    };
    let shown = at_terminal("");
    for phase in [
        "reading vpn-ivpn (1 of 2)",
        "reading vpn-ovpn (2 of 2)",
        "compiling",
        "writing",
    ] {
        assert!(shown.contains(phase), "no '{phase}' in:\n{shown}");
    }
    let quiet = at_terminal("--quiet");
    assert!(
        !quiet.contains("reading") && !quiet.contains("compiling"),
        "{quiet}"
    );
}

/// `--report-json` holds per source what was read and added, and the coverage of every
/// category and source, equal to what the source files cover.
#[test]
fn report_json_holds_counts_and_coverage() {
    let dir = tmp("report");
    let manifest = manifest_variant(&dir, |_| true);
    let report = dir.join("report.json");
    let o = build(
        &manifest,
        &dir.join("out"),
        1_750_000_000,
        &["--report-json", report.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let refs = reference(&manifest);
    let sources = v["sources"].as_array().unwrap();
    let m = ipsieve_builder::manifest::Manifest::load(&manifest).unwrap();
    assert_eq!(sources.len(), m.enabled().count());
    for s in sources {
        assert!(s["read"].as_u64().unwrap() > 0, "{s}");
        assert!(s["rejected"].is_u64() && s["entries"].is_u64(), "{s}");
    }
    let coverage = v["coverage"].as_array().unwrap();
    let mut compared = 0;
    for ((kind, name), [v4, v6]) in &refs {
        let line = coverage
            .iter()
            .find(|c| c["kind"] == kind.as_str() && c["name"] == name.as_str());
        // A source that adds no ranges (AS names) covers nothing and has no line.
        let Some(line) = line else {
            assert!(
                v4.is_empty() && v6.is_empty(),
                "no coverage line for {kind:?} {name}"
            );
            continue;
        };
        assert_eq!(line["v4_addresses"], amount(v4).addresses as u64, "{line}");
        assert_eq!(line["v4_ranges"], amount(v4).ranges, "{line}");
        assert_eq!(
            line["v6_addresses"],
            amount(v6).addresses.to_string(),
            "{line}"
        );
        assert_eq!(line["v6_ranges"], amount(v6).ranges, "{line}");
        compared += 1;
    }
    assert!(compared >= m.enabled().count(), "{compared}");
    assert!(coverage
        .iter()
        .any(|c| c["kind"] == KeyKind::Provider.as_str()));
}
