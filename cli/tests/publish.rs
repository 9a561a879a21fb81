//! Publishing: `ipsieve build --keep N` keeps earlier artifacts without touching them, a build
//! is byte-for-byte reproducible under `SOURCE_DATE_EPOCH`, progress stays off pipes,
//! `--report-json` carries what a pipeline compares, and a write that fails (a full disk, a
//! file-size limit, a missing or non-directory path) leaves the published artifact alone.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ipsieve::format::hdr;
use ipsieve::Database;
use ipsieve_builder::diff::KeyKind;
use ipsieve_builder::manifest::Manifest;
use ipsieve_builder::{
    kept_path, load, publish, publish_keeping, BuildError, Builder, STALE_TEMPORARY,
};

use crate::cli::bin;
use ipsieve_testkit::diff::{amount, reference};
use ipsieve_testkit::snapshot::{manifest as manifest_path, manifest_variant, small_manifest};

/// A fresh, empty temporary directory for this test run.
fn tmp(name: &str) -> PathBuf {
    ipsieve_testkit::fresh_dir(&format!("cli-publish-{name}"))
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
        a == ipsieve_testkit::snapshot::artifact(),
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
        "reading sources [",
        "0/2 vpn-ivpn",
        "1/2 vpn-ovpn",
        "compiling",
        "writing",
        "] built ",
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
        // Every entry read is an entry, a duplicate or rejected (this manifest skips none).
        let n = |k: &str| s[k].as_u64().unwrap();
        assert_eq!(
            n("read"),
            n("entries") + n("duplicates") + (n("rejected") - n("unparsable")),
            "{s}"
        );
    }
    let coverage = v["coverage"].as_array().unwrap();
    // One meaning of "ranges": the categories section and the coverage section agree.
    for c in v["categories"].as_array().unwrap() {
        let same = coverage
            .iter()
            .find(|l| l["kind"] == "category" && l["name"] == c["category"])
            .unwrap_or_else(|| panic!("no coverage line for {c}"));
        for k in ["v4_ranges", "v4_addresses", "v6_ranges", "v6_addresses"] {
            assert_eq!(c[k], same[k], "{k}: {c} against {same}");
        }
    }
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

/// The artifact of the vendored `vpn-ivpn` list alone (about 519 KiB: the top tables have a
/// fixed size), built at `epoch`.
fn small_artifact(dir: &Path, epoch: u64) -> Vec<u8> {
    let manifest = Manifest::load(&small_manifest(dir, &["vpn-ivpn"])).unwrap();
    let mut b = Builder::new().build_time(epoch);
    load::load_manifest(&manifest, &mut b, |_| {}).unwrap();
    b.compile().unwrap().bytes
}

/// Bytes and inode of a published file, to compare after a failed publish.
#[cfg(unix)]
fn snapshot_of(path: &Path) -> (Vec<u8>, u64) {
    (std::fs::read(path).unwrap(), inode(path))
}

fn stderr_of(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `ipsieve build` under a file-size limit (`RLIMIT_FSIZE`, `ulimit -f 64`: 32 KiB in dash's
/// 512-byte blocks, 64 KiB in bash's), far below the artifact: writing it fails as on a full
/// disk. With `SIGXFSZ` ignored (`trap "" XFSZ`, inherited across `exec`) the write returns
/// `EFBIG`; without, the kernel kills the process mid-write.
#[cfg(unix)]
fn build_limited(manifest: &Path, out: &Path, epoch: u64, ignore_xfsz: bool) -> Output {
    let script = if ignore_xfsz {
        r#"ulimit -f 64 && trap "" XFSZ && exec "$0" "$@""#
    } else {
        r#"ulimit -f 64 && exec "$0" "$@""#
    };
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_ipsieve"))
        .args(["build", "--quiet", "--keep", "2", "--sources"])
        .arg(manifest)
        .arg("--out")
        .arg(out)
        .env("SOURCE_DATE_EPOCH", epoch.to_string())
        .output()
        .unwrap()
}

/// A write that fails with `EFBIG` (the file-size limit, the same path as `ENOSPC`) leaves the
/// published artifact and the kept one byte-identical under the same inode, shifts nothing,
/// leaves no temporary file, and says which file and why; a process killed mid-write
/// (`SIGXFSZ`) cannot clean up, but its leftover is a hidden temporary file that is never
/// published, and the next build publishes and rotates as usual.
#[cfg(unix)]
#[test]
fn a_write_past_the_file_size_limit_leaves_the_published_artifact() {
    use std::os::unix::process::ExitStatusExt;

    let dir = tmp("fsize");
    let manifest = small_manifest(&dir, &["vpn-ivpn"]);
    let out = dir.join("out.ipsieve");
    for epoch in [1_700_000_000, 1_700_086_400] {
        let o = build(&manifest, &out, epoch, &["--keep", "2"]);
        assert!(o.status.success(), "{}", stderr_of(&o));
    }
    let (published, kept) = (snapshot_of(&out), snapshot_of(&kept_path(&out, 1)));

    let o = build_limited(&manifest, &out, 1_700_172_800, true);
    let stderr = stderr_of(&o);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    let expected = format!(
        "ipsieve: building {out}: cannot write the artifact {out} (temporary file {tmp}",
        out = out.display(),
        tmp = dir.join(".out.ipsieve.tmp-").display()
    );
    assert!(stderr.starts_with(&expected), "{stderr}");
    assert!(
        stderr
            .trim_end()
            .ends_with("): File too large (os error 27)"),
        "{stderr}"
    );
    assert_eq!(
        snapshot_of(&out),
        published,
        "the published artifact changed"
    );
    assert_eq!(
        snapshot_of(&kept_path(&out, 1)),
        kept,
        "the kept one changed"
    );
    assert!(!kept_path(&out, 2).exists(), "a failed write rotated");
    assert!(leftovers(&dir).is_empty(), "{:?}", leftovers(&dir));
    println!("EFBIG: {}", stderr.trim_end());

    // Killed by SIGXFSZ mid-write: nothing published or shifted; the temporary file stays.
    let o = build_limited(&manifest, &out, 1_700_172_800, false);
    assert_eq!(o.status.signal(), Some(25), "SIGXFSZ: {:?}", o.status);
    assert_eq!(snapshot_of(&out), published);
    assert_eq!(snapshot_of(&kept_path(&out, 1)), kept);
    assert!(!kept_path(&out, 2).exists());
    let left = leftovers(&dir);
    assert!(
        left.len() == 1 && left[0].starts_with(".out.ipsieve.tmp-"),
        "{left:?}"
    );
    let partial = std::fs::metadata(dir.join(&left[0])).unwrap().len();
    assert!(partial < published.0.len() as u64, "{partial}");
    println!("SIGXFSZ: killed, left {} ({partial} bytes)", left[0]);

    // The next build is not disturbed by the leftover, and leaves it while it is recent (it
    // could be another process's write in progress).
    let o = build(&manifest, &out, 1_700_259_200, &["--keep", "2"]);
    assert!(o.status.success(), "{}", stderr_of(&o));
    assert_eq!(built_at(&out), 1_700_259_200);
    assert_eq!(snapshot_of(&kept_path(&out, 1)), published);
    assert_eq!(snapshot_of(&kept_path(&out, 2)), kept);
    assert_eq!(leftovers(&dir), left);

    // Once it is older than STALE_TEMPORARY, the next publish removes it; a recent one and
    // another artifact's leftover stay.
    let old = std::time::SystemTime::now() - STALE_TEMPORARY * 2;
    std::fs::File::options()
        .write(true)
        .open(dir.join(&left[0]))
        .unwrap()
        .set_modified(old)
        .unwrap();
    let recent = ".out.ipsieve.tmp-1-0";
    std::fs::write(dir.join(recent), b"partial").unwrap();
    let other = ".other.ipsieve.tmp-1-0";
    std::fs::write(dir.join(other), b"partial").unwrap();
    std::fs::File::options()
        .write(true)
        .open(dir.join(other))
        .unwrap()
        .set_modified(old)
        .unwrap();
    let o = build(&manifest, &out, 1_700_345_600, &["--keep", "2"]);
    assert!(o.status.success(), "{}", stderr_of(&o));
    let mut left = leftovers(&dir);
    left.sort();
    assert_eq!(left, [other, recent]);
}

/// A destination whose directory is missing, or whose "directory" is a regular file, or that
/// is itself a directory, and a rotation that cannot rename a kept file: each is an error
/// naming the artifact, the file involved and the OS reason, and touches nothing else.
#[cfg(unix)]
#[test]
fn bad_destinations_are_named_with_the_os_reason() {
    let dir = tmp("bad-dest");
    let bytes = small_artifact(&dir, 1_700_000_000);
    let io = |r: Result<(), BuildError>| -> (String, std::io::Error) {
        match r.unwrap_err() {
            BuildError::Io { path, source } => (path, source),
            other => panic!("{other:?}"),
        }
    };

    let missing = dir.join("missing").join("db");
    let (path, source) = io(publish_keeping(&bytes, &missing, 2));
    assert_eq!(source.raw_os_error(), Some(2), "ENOENT: {source}");
    assert!(
        path.starts_with(&format!(
            "{} (temporary file {}",
            missing.display(),
            dir.join("missing/.db.tmp-").display()
        )),
        "{path}"
    );
    assert!(!dir.join("missing").exists());

    // A path component that is a regular file (a real source list): ENOTDIR.
    let plain = dir.join("plain");
    let list =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/snapshot/vpn/ivpn.txt"))
            .unwrap();
    std::fs::write(&plain, &list).unwrap();
    let below = plain.join("db");
    let (path, source) = io(publish(&bytes, &below));
    assert_eq!(source.raw_os_error(), Some(20), "ENOTDIR: {source}");
    assert!(path.starts_with(&below.display().to_string()), "{path}");
    assert_eq!(std::fs::read(&plain).unwrap(), list);
    // The same through the command line.
    let o = build(
        &small_manifest(&dir, &["vpn-ivpn"]),
        &below,
        1_700_000_000,
        &["--keep", "2"],
    );
    let stderr = stderr_of(&o);
    assert!(!o.status.success());
    assert!(
        stderr.starts_with(&format!(
            "ipsieve: building {0}: cannot write the artifact {0} (temporary file {1}",
            below.display(),
            plain.join(".db.tmp-").display()
        )) && stderr
            .trim_end()
            .ends_with("): Not a directory (os error 20)"),
        "{stderr}"
    );
    println!("ENOTDIR: {}", stderr.trim_end());

    // The destination is a directory: refused before anything is written (it was renamed
    // over, failing with EISDIR after the write), with --keep too.
    let subdir = dir.join("subdir");
    std::fs::create_dir(&subdir).unwrap();
    for keep in [0, 1] {
        let (path, source) = io(publish_keeping(&bytes, &subdir, keep));
        assert_eq!(path, subdir.display().to_string());
        assert_eq!(
            source.to_string(),
            "is a directory, not a regular file: refusing to replace it"
        );
    }
    assert!(subdir.is_dir());
    assert!(leftovers(&dir).is_empty(), "{:?}", leftovers(&dir));

    // A kept file that cannot be replaced (db.2 is a non-empty directory): the rotation
    // stops, the published artifact and db.1 stay.
    let db = dir.join("db");
    publish_keeping(&bytes, &db, 2).unwrap();
    publish_keeping(&small_artifact(&dir, 1_700_000_001), &db, 2).unwrap();
    std::fs::create_dir_all(kept_path(&db, 2).join("in-the-way")).unwrap();
    let (published, kept) = (snapshot_of(&db), snapshot_of(&kept_path(&db, 1)));
    let (path, source) = io(publish_keeping(
        &small_artifact(&dir, 1_700_000_002),
        &db,
        2,
    ));
    println!("rotation: cannot write the artifact {path}: {source}");
    assert!(
        path.starts_with(&format!(
            "{} (renaming {} to {}",
            db.display(),
            kept_path(&db, 1).display(),
            kept_path(&db, 2).display()
        )),
        "{path}"
    );
    assert_eq!(snapshot_of(&db), published);
    assert_eq!(snapshot_of(&kept_path(&db, 1)), kept);
    assert!(leftovers(&dir).is_empty(), "{:?}", leftovers(&dir));
}

/// `ipsieve export --db FILE --format F --out PATH`.
fn export(db: &Path, format: &str, out: &Path) -> Output {
    bin()
        .args(["export", "--format", format, "--db"])
        .arg(db)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

/// An output that is the same file as an input of the run is refused before anything is
/// written, whatever the path it is named by: the artifact of an export in every format (its
/// own path, a second hard link), the manifest or a source file of a build, a `--report-json`
/// naming the manifest or the artifact. The file keeps its bytes and its inode.
#[cfg(unix)]
#[test]
fn an_output_that_is_an_input_is_refused() {
    let dir = tmp("out-is-input");
    let list = dir.join("ivpn.txt");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/snapshot/vpn/ivpn.txt"),
        &list,
    )
    .unwrap();
    let manifest = dir.join("sources.toml");
    std::fs::write(
        &manifest,
        "[[source]]\nname = \"vpn-ivpn\"\nformat = \"ip-list\"\npath = \"ivpn.txt\"\n\
         categories = [\"vpn\"]\n",
    )
    .unwrap();
    let db = dir.join("db");
    let o = build(&manifest, &db, 1_700_000_000, &[]);
    assert!(o.status.success(), "{}", stderr_of(&o));
    let hard = dir.join("hard");
    std::fs::hard_link(&db, &hard).unwrap();
    let published = snapshot_of(&db);
    for format in ["mmdb", "csv", "nft", "ipset"] {
        for out in [&db, &hard] {
            let o = export(&db, format, out);
            let stderr = stderr_of(&o);
            assert_eq!(
                o.status.code(),
                Some(1),
                "{format} {}: {stderr}",
                out.display()
            );
            assert_eq!(
                stderr.trim_end(),
                format!(
                    "ipsieve: cannot write {}: is the same file as {}, which this command \
                     reads: refusing to replace it; write to another path",
                    out.display(),
                    db.display()
                ),
                "{format}"
            );
            assert_eq!(
                snapshot_of(&db),
                published,
                "{format}: the artifact is untouched"
            );
        }
    }
    let (manifest_before, list_before) = (snapshot_of(&manifest), snapshot_of(&list));
    for (out, extra, input) in [
        ("sources.toml", vec![], "sources.toml"),
        ("ivpn.txt", vec![], "ivpn.txt"),
        ("new", vec!["--report-json", "sources.toml"], "sources.toml"),
        ("new", vec!["--report-json", "ivpn.txt"], "ivpn.txt"),
    ] {
        let o = bin()
            .current_dir(&dir)
            .args([
                "build",
                "--quiet",
                "--sources",
                "sources.toml",
                "--out",
                out,
            ])
            .args(&extra)
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .output()
            .unwrap();
        let stderr = stderr_of(&o);
        assert_eq!(o.status.code(), Some(1), "{out} {extra:?}: {stderr}");
        let written = extra.get(1).copied().unwrap_or(out);
        assert_eq!(
            stderr.trim_end(),
            format!(
                "ipsieve: cannot write {written}: is the same file as {input}, which this \
                 command reads: refusing to replace it; write to another path"
            )
        );
        assert!(!dir.join("new").exists(), "nothing published: {stderr}");
    }
    assert_eq!(snapshot_of(&manifest), manifest_before);
    assert_eq!(snapshot_of(&list), list_before);
    // The report and the artifact at one path: the report would replace the artifact.
    let o = build(
        &manifest,
        &dir.join("both"),
        1_700_000_000,
        &["--report-json", dir.join("both").to_str().unwrap()],
    );
    let stderr = stderr_of(&o);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("--report-json and --out name the same file"),
        "{stderr}"
    );
    assert!(!dir.join("both").exists(), "{stderr}");
    assert!(leftovers(&dir).is_empty(), "{:?}", leftovers(&dir));
}

/// A FIFO, a device node or a symbolic link (to `/proc/self/fd/1`, to a regular file) at the
/// output path is refused and left as it was: a publish renames a new file over the path, so
/// it would replace the node itself (as root, `--out /dev/null` would replace the system's
/// /dev/null). The library refuses it too.
#[cfg(unix)]
#[test]
fn an_output_that_is_not_a_regular_file_is_left_alone() {
    use std::os::unix::fs::FileTypeExt;

    let dir = tmp("out-special");
    let manifest = small_manifest(&dir, &["vpn-ivpn"]);
    let db = dir.join("db");
    assert!(build(&manifest, &db, 1_700_000_000, &[]).status.success());
    let fifo = dir.join("fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let stdout_link = dir.join("stdout");
    std::os::unix::fs::symlink("/proc/self/fd/1", &stdout_link).unwrap();
    let db_link = dir.join("db-link");
    std::os::unix::fs::symlink(&db, &db_link).unwrap();
    let mut cases = vec![
        (fifo.clone(), "a FIFO"),
        (stdout_link.clone(), "a symbolic link"),
        (db_link.clone(), "a symbolic link"),
    ];
    // A device node of our own (the same numbers as /dev/null), where mknod is allowed.
    let null = dir.join("null");
    match Command::new("mknod")
        .arg(&null)
        .args(["c", "1", "3"])
        .output()
    {
        Ok(o) if o.status.success() => cases.push((null.clone(), "a character device")),
        Ok(o) => ipsieve_testkit::skip_privileged(
            "the device node case of an_output_that_is_not_a_regular_file_is_left_alone",
            &format!("mknod failed: {}", stderr_of(&o).trim()),
        ),
        Err(e) => ipsieve_testkit::skip_privileged(
            "the device node case of an_output_that_is_not_a_regular_file_is_left_alone",
            &format!("no mknod: {e}"),
        ),
    }
    let kind = |p: &Path| std::fs::symlink_metadata(p).unwrap().file_type();
    let before: Vec<_> = cases.iter().map(|(p, _)| kind(p)).collect();
    for (out, what) in &cases {
        let want = format!(
            "{}: is {what}, not a regular file: refusing to replace it",
            out.display()
        );
        for keep in ["0", "1"] {
            let o = build(&manifest, out, 1_700_000_000, &["--keep", keep]);
            assert_eq!(o.status.code(), Some(1), "build --out {}", out.display());
            assert!(stderr_of(&o).contains(&want), "{}", stderr_of(&o));
        }
        for format in ["csv", "mmdb"] {
            let o = export(&db, format, out);
            assert_eq!(
                o.status.code(),
                Some(1),
                "export {format} --out {}",
                out.display()
            );
            assert!(stderr_of(&o).contains(&want), "{}", stderr_of(&o));
        }
        let (path, source) = match publish(&std::fs::read(&db).unwrap(), out) {
            Err(BuildError::Io { path, source }) => (path, source),
            other => panic!("{}: {other:?}", out.display()),
        };
        assert_eq!(path, out.display().to_string());
        assert_eq!(
            source.to_string(),
            format!("is {what}, not a regular file: refusing to replace it")
        );
    }
    let after: Vec<_> = cases.iter().map(|(p, _)| kind(p)).collect();
    assert_eq!(before, after, "every node is what it was");
    assert!(kind(&fifo).is_fifo());
    assert_eq!(
        std::fs::read_link(&stdout_link).unwrap(),
        Path::new("/proc/self/fd/1")
    );
    assert!(leftovers(&dir).is_empty(), "{:?}", leftovers(&dir));
}
