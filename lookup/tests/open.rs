//! Opening files the way a careless operator leaves them (issue 14, items 2, 9 and 10): a file
//! rewritten in place under an open database, special files at the path, and a large file
//! that is not an artifact.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use ipsieve::{Database, OpenError, ReloadConfig, SharedDatabase};

const GOLDEN: &[u8] = include_bytes!("golden/v4.ipsieve");

/// A scratch directory under the target directory, removed at drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("open-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `f` on another thread and fails the test when it has not returned within a generous
/// deadline (a liveness bound: a FIFO that blocks an open never returns).
fn within_deadline<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(20))
        .unwrap_or_else(|_| panic!("{what} did not return: it blocked"))
}

fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo").arg(path).status().unwrap().success();
    assert!(ok, "mkfifo {}", path.display());
}

/// The peak resident memory of this process (`VmHWM`, KiB), or `None` off Linux.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Item 2: the safe `Database::open` reads a private copy, so rewriting or truncating the file
/// in place (which a mapping would see, undefined behaviour) changes nothing it answers.
#[test]
fn open_is_immune_to_the_file_being_rewritten_in_place() {
    let dir = Scratch::new("in-place");
    let path = dir.0.join("ipsieve.db");
    std::fs::write(&path, GOLDEN).unwrap();
    let db = Database::open(&path).unwrap();
    let tor: IpAddr = "185.220.101.1".parse().unwrap();
    let before = (db.lookup(tor).leaf_value(), db.lookup(tor).asn());
    assert!(db.lookup(tor).is_tor());
    // Overwrite every byte in place, then truncate: a mapping would now read zeros or fault.
    std::fs::write(&path, vec![0u8; GOLDEN.len()]).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(10)
        .unwrap();
    assert_eq!((db.lookup(tor).leaf_value(), db.lookup(tor).asn()), before);
    db.verify().unwrap();
}

/// Item 9: a FIFO, a character device and a directory at the path are refused at once, without
/// reading (a FIFO with no writer used to block the open forever).
#[test]
fn special_files_are_refused_without_blocking() {
    let dir = Scratch::new("special");
    let fifo = dir.0.join("db.fifo");
    mkfifo(&fifo);
    for (path, kind) in [
        (fifo.clone(), "a FIFO"),
        (PathBuf::from("/dev/zero"), "a character device"),
        (dir.0.clone(), "a directory"),
    ] {
        let p = path.clone();
        let err = within_deadline("Database::open", move || Database::open(p).unwrap_err());
        assert!(
            matches!(err, OpenError::NotAFile { kind: k } if k == kind),
            "{}: {err:?}",
            path.display()
        );
        assert!(err.to_string().contains("not a regular file"), "{err}");
        let p = path.clone();
        // SAFETY: the test never modifies the files it maps (and these are refused anyway).
        let err = within_deadline("Database::open_mmap", move || unsafe {
            Database::open_mmap(p).unwrap_err()
        });
        assert!(matches!(err, OpenError::NotAFile { .. }), "{err:?}");
    }
}

/// Item 9: a FIFO renamed over the path of a live `SharedDatabase` is a failed reload, counted
/// and reported at once; the old artifact keeps serving, and polling stops promptly.
#[test]
fn a_fifo_renamed_over_a_shared_database_is_a_failed_reload() {
    let dir = Scratch::new("shared-fifo");
    let live = dir.0.join("ipsieve.db");
    std::fs::write(&live, GOLDEN).unwrap();
    let config = ReloadConfig::new().poll_interval(Some(Duration::from_millis(5)));
    let handle = SharedDatabase::open_with(&live, config).unwrap();
    let fifo = dir.0.join("next.fifo");
    mkfifo(&fifo);
    std::fs::rename(&fifo, &live).unwrap();
    let h = handle.clone();
    let err = within_deadline("SharedDatabase::reload", move || h.reload().unwrap_err());
    assert!(
        matches!(err.error(), OpenError::NotAFile { kind: "a FIFO" }),
        "{err}"
    );
    assert!(handle.failures() >= 1);
    assert!(handle
        .load()
        .lookup("185.220.101.1".parse().unwrap())
        .is_tor());
    let h = handle.clone();
    within_deadline("SharedDatabase::stop_polling", move || h.stop_polling());
    assert!(!handle.is_polling());
}

/// Item 10: a large file that is not an artifact is refused from its first 384 bytes, not read
/// whole first (a 2 GB file used to be read into memory, 8.5 s and 2.1 GB, before refusal); the
/// same for a real header whose declared length is not the file's.
#[test]
fn a_large_file_that_is_no_artifact_is_refused_from_its_header() {
    let dir = Scratch::new("large");
    let big = 2u64 << 30;
    let junk = dir.0.join("junk.bin");
    std::fs::write(&junk, b"<html><body>502 Bad Gateway</body></html>").unwrap();
    let f = std::fs::OpenOptions::new().write(true).open(&junk).unwrap();
    f.set_len(big).unwrap();
    drop(f);
    let grown = dir.0.join("grown.ipsieve");
    std::fs::write(&grown, GOLDEN).unwrap();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&grown)
        .unwrap();
    f.set_len(big).unwrap();
    drop(f);

    let before = peak_rss_kib();
    let err = Database::open(&junk).unwrap_err();
    assert!(matches!(err, OpenError::BadMagic { .. }), "{err:?}");
    let err = Database::open(&grown).unwrap_err();
    assert!(
        matches!(err, OpenError::LengthMismatch { found, .. } if found == big),
        "{err:?}"
    );
    if let (Some(before), Some(after)) = (before, peak_rss_kib()) {
        // Reading either file whole would raise the peak by 2 GiB.
        assert!(
            after - before < 256 << 10,
            "peak memory grew by {} KiB",
            after - before
        );
    }
}

/// A zero polling interval (a busy loop) is refused with an error, not a panic.
#[test]
fn a_zero_polling_interval_is_an_error() {
    let dir = Scratch::new("zero-poll");
    let live = dir.0.join("ipsieve.db");
    std::fs::write(&live, GOLDEN).unwrap();
    let config = ReloadConfig::new().poll_interval(Some(Duration::ZERO));
    let err = SharedDatabase::open_with(&live, config).unwrap_err();
    assert!(
        matches!(&err, OpenError::Io(e) if e.kind() == std::io::ErrorKind::InvalidInput),
        "{err:?}"
    );
}
