//! Hot reload: a [`SharedDatabase`] swaps between valid artifacts replaced by rename, refuses
//! corrupt ones while it keeps serving, and never gives a lookup a mix of two files.
//!
//! The good artifacts are the golden one and variants of it whose AS organisation string and
//! build time differ (checksums recomputed), so every answer says which file it came from.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ipsieve::format::{self, hdr};
use ipsieve::{Database, OpenError, ReloadConfig, SharedDatabase};

const GOLDEN: &[u8] = include_bytes!("golden/v4.ipsieve");
const GOLDEN_TIME: u64 = 1_750_000_000;
const GOLDEN_ORG: &str = "ZWIEBELFREUNDE";
const TOR: &str = "185.220.101.1";
const AWS: &str = "3.5.141.200";

/// The golden artifact with its AS organisation renamed to `ZWIEBELFREUND<tag>` and its build
/// time set to `GOLDEN_TIME + tag`, both checksums recomputed: a valid, different artifact.
fn variant(tag: u8) -> Vec<u8> {
    assert!(
        tag.is_ascii_uppercase() && tag != b'E',
        "tag {tag} would not differ"
    );
    let mut b = GOLDEN.to_vec();
    let at = b
        .windows(GOLDEN_ORG.len())
        .position(|w| w == GOLDEN_ORG.as_bytes())
        .expect("the golden artifact names ZWIEBELFREUNDE");
    b[at + GOLDEN_ORG.len() - 1] = tag;
    b[hdr::BUILD_TIME..hdr::BUILD_TIME + 8]
        .copy_from_slice(&(GOLDEN_TIME + u64::from(tag)).to_le_bytes());
    let header = format::header_crc(&b);
    b[hdr::HEADER_CRC..hdr::HEADER_CRC + 4].copy_from_slice(&header.to_le_bytes());
    let file = format::file_crc(&b);
    b[hdr::FILE_CRC..hdr::FILE_CRC + 4].copy_from_slice(&file.to_le_bytes());
    let db = Database::from_bytes(&b).unwrap();
    db.verify().unwrap();
    assert_eq!(org_of(&db), expected_org(db.build_time()).as_deref());
    b
}

/// The AS organisation the good artifact with this build time gives the Tor exit, or `None`
/// for a build time no good artifact has.
fn expected_org(build_time: u64) -> Option<String> {
    match build_time.checked_sub(GOLDEN_TIME)? {
        0 => Some(GOLDEN_ORG.to_owned()),
        t @ 65..=90 => Some(format!("ZWIEBELFREUND{}", t as u8 as char)),
        _ => None,
    }
}

fn org_of(db: &Database) -> Option<&str> {
    db.lookup(TOR.parse().unwrap()).as_org()
}

/// Golden with one bit flipped in a string: still passes the structural checks of open, only
/// the whole-file checksum of `verify` catches it.
fn flipped() -> Vec<u8> {
    let mut b = GOLDEN.to_vec();
    let at = b
        .windows(GOLDEN_ORG.len())
        .position(|w| w == GOLDEN_ORG.as_bytes())
        .unwrap();
    b[at + GOLDEN_ORG.len() - 1] ^= 1;
    b
}

/// What a misconfigured download saves: a proxy's error page, longer than the header.
fn html_page() -> Vec<u8> {
    let mut page =
        b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body>\n".to_vec();
    for _ in 0..8 {
        page.extend_from_slice(b"<p>The upstream server did not answer in time. Try again.</p>\n");
    }
    page.extend_from_slice(b"</body></html>\n");
    assert!(page.len() > format::HEADER_LEN);
    page
}

/// A scratch directory under the target directory, removed at drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("reload-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn live(&self) -> PathBuf {
        self.0.join("ipsieve.db")
    }

    /// Replaces the live file the only safe way: a new file renamed over it.
    fn publish(&self, bytes: &[u8]) {
        let tmp = self.0.join("next.tmp");
        std::fs::write(&tmp, bytes).unwrap();
        std::fs::rename(&tmp, self.live()).unwrap();
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Waits for `done`, failing the test after a generous deadline (a liveness bound, not a
/// timing assertion).
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Sets the flag when dropped (when `.1`, only while unwinding): stops the readers however the
/// writer ends, and tells the writer when a reader died.
struct SetOnDrop<'a>(&'a AtomicBool, bool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        if !self.1 || std::thread::panicking() {
            self.0.store(true, Ordering::SeqCst);
        }
    }
}

/// Looks up a few addresses in `db` and checks every answer against the one good artifact its
/// build time names; returns that build time.
fn check_consistent(db: &Database, tor: IpAddr, aws: IpAddr) -> u64 {
    let time = db.build_time();
    let org = expected_org(time)
        .unwrap_or_else(|| panic!("build time {time} belongs to no good artifact"));
    let a = db.lookup(tor);
    assert!(a.is_tor());
    assert_eq!(a.asn(), Some(60729));
    assert_eq!(
        a.as_org(),
        Some(org.as_str()),
        "torn answer at build time {time}"
    );
    let b = db.lookup(aws);
    assert_eq!(b.provider(), Some("Amazon AWS"));
    assert_eq!(b.network().to_string(), "3.5.140.0/22");
    time
}

/// Four threads look up without pause (two through `load`, two through a `DatabaseCache`)
/// while the live file is replaced by rename 24 times with good artifacts and 24 times with
/// corrupt ones (truncated, a flipped byte, an HTML page), each followed by `reload`. Every
/// answer matches exactly one good artifact, every reader moves to each new good artifact, each
/// corrupt file is refused with its own error and counted, and the previous artifact stays.
#[test]
fn lookups_stay_consistent_while_files_are_replaced() {
    let scratch = Scratch::new("stress");
    scratch.publish(GOLDEN);
    let handle =
        SharedDatabase::open_with(scratch.live(), ReloadConfig::new().poll_interval(None)).unwrap();
    assert_eq!(handle.load().build_time(), GOLDEN_TIME);

    let good = [variant(b'A'), variant(b'B'), variant(b'C'), GOLDEN.to_vec()];
    let half = GOLDEN.len() / 2;
    type Check = fn(&OpenError) -> bool;
    let corrupt: [(&str, Vec<u8>, Check); 3] = [
        ("truncated", GOLDEN[..half].to_vec(), |e| {
            matches!(e, OpenError::LengthMismatch { expected, found }
                if *expected == GOLDEN.len() as u64 && *found == (GOLDEN.len() / 2) as u64)
        }),
        ("flipped byte", flipped(), |e| {
            matches!(e, OpenError::Checksum { .. })
        }),
        (
            "html page",
            html_page(),
            |e| matches!(e, OpenError::BadMagic { found } if found == b"<!DOCTYP"),
        ),
    ];
    const ROUNDS: usize = 24;
    const READERS: usize = 4;

    let stop = AtomicBool::new(false);
    let reader_died = AtomicBool::new(false);
    let seen: [AtomicU64; READERS] = std::array::from_fn(|_| AtomicU64::new(0));
    let lookups: [AtomicU64; READERS] = std::array::from_fn(|_| AtomicU64::new(0));
    let (tor, aws): (IpAddr, IpAddr) = (TOR.parse().unwrap(), AWS.parse().unwrap());

    std::thread::scope(|s| {
        for r in 0..READERS {
            let (handle, stop, reader_died) = (&handle, &stop, &reader_died);
            let (seen, lookups) = (&seen[r], &lookups[r]);
            s.spawn(move || {
                let _died = SetOnDrop(reader_died, true);
                let mut cache = (r % 2 == 1).then(|| handle.cache());
                while !stop.load(Ordering::Relaxed) {
                    let time = match &mut cache {
                        Some(cache) => check_consistent(cache.load(), tor, aws),
                        None => check_consistent(&handle.load(), tor, aws),
                    };
                    seen.store(time, Ordering::Relaxed);
                    lookups.fetch_add(2, Ordering::Relaxed);
                }
            });
        }
        let _stop = SetOnDrop(&stop, false);
        for round in 0..ROUNDS {
            let next = &good[round % good.len()];
            let time = Database::from_bytes(next).unwrap().build_time();
            scratch.publish(next);
            let db = handle.reload().expect("a good file is accepted");
            assert_eq!(db.build_time(), time);
            assert_eq!(handle.load().build_time(), time);
            assert_eq!(handle.successes(), round as u64 + 1);
            wait_for("every reader to answer from the new artifact", || {
                assert!(!reader_died.load(Ordering::SeqCst), "a reader failed");
                seen.iter().all(|t| t.load(Ordering::Relaxed) == time)
            });

            let (name, bytes, is_expected) = &corrupt[round % corrupt.len()];
            scratch.publish(bytes);
            let err = handle.reload().expect_err(name);
            assert!(is_expected(err.error()), "{name}: unexpected error {err}");
            assert_eq!(err.path(), scratch.live());
            assert_eq!(handle.failures(), round as u64 + 1);
            let last = handle.last_error().expect("the failure is recorded");
            assert!(Arc::ptr_eq(&last, &err));
            assert_eq!(
                handle.load().build_time(),
                time,
                "{name}: old artifact kept"
            );
            assert_eq!(handle.successes(), round as u64 + 1);
        }
    });
    assert!(!reader_died.load(Ordering::SeqCst));
    for (r, n) in lookups.iter().enumerate() {
        assert!(n.load(Ordering::Relaxed) > 0, "reader {r} did no lookup");
    }
}

/// With a short polling interval the handle picks up a good replacement on its own, refuses an
/// HTML page once (not at every poll) while serving the previous file, then picks up the next
/// good one; the thread is gone when the last clone is dropped.
#[test]
fn polling_detects_replacement_and_stops_with_last_handle() {
    let scratch = Scratch::new("poll");
    scratch.publish(GOLDEN);
    let interval = Duration::from_millis(5);
    let config = ReloadConfig::new().poll_interval(Some(interval));
    let handle = SharedDatabase::open_with(scratch.live(), config).unwrap();
    assert!(handle.is_polling());
    assert_eq!(handle.load().build_time(), GOLDEN_TIME);

    let a = variant(b'A');
    scratch.publish(&a);
    wait_for("the poller to load variant A", || {
        org_of(&handle.load()) == Some("ZWIEBELFREUNDA")
    });
    assert_eq!(handle.successes(), 1);
    assert_eq!(handle.failures(), 0);
    assert!(handle.last_error().is_none());

    scratch.publish(&html_page());
    wait_for("the poller to refuse the HTML page", || {
        handle.failures() > 0
    });
    let err = handle.last_error().unwrap();
    assert!(matches!(err.error(), OpenError::BadMagic { .. }), "{err}");
    assert_eq!(org_of(&handle.load()), Some("ZWIEBELFREUNDA"));
    // Twenty polling intervals on an unchanged bad file: still one failure.
    std::thread::sleep(interval * 20);
    assert_eq!(handle.failures(), 1, "an unchanged file is not retried");

    scratch.publish(&variant(b'B'));
    wait_for("the poller to load variant B", || {
        org_of(&handle.load()) == Some("ZWIEBELFREUNDB")
    });
    assert_eq!((handle.successes(), handle.failures()), (2, 1));

    let clone = handle.clone();
    drop(handle);
    assert!(clone.is_polling(), "a remaining clone keeps polling");
    let db = clone.load();
    drop(clone);
    // The thread held the shared state, which holds `db`: only our guard is left once it exited.
    assert_eq!(
        Arc::strong_count(&db),
        1,
        "the polling thread outlived its handles"
    );
}

/// `stop_polling` stops the thread for every clone, is idempotent, and leaves `reload` working.
#[test]
fn stop_polling_stops_every_clone() {
    let scratch = Scratch::new("stop");
    scratch.publish(GOLDEN);
    let handle = SharedDatabase::open(scratch.live()).unwrap();
    let clone = handle.clone();
    assert!(handle.is_polling() && clone.is_polling());
    clone.stop_polling();
    assert!(!handle.is_polling() && !clone.is_polling());
    handle.stop_polling();

    scratch.publish(&variant(b'C'));
    let db = handle.reload().unwrap();
    assert_eq!(org_of(&db), Some("ZWIEBELFREUNDC"));
    assert_eq!(org_of(&clone.load()), Some("ZWIEBELFREUNDC"));
}

/// An `Arc<Database>` taken before a swap keeps answering from the old, renamed-over file (its
/// mapping stays valid, the whole of it verifies), while new loads and caches see the new one.
#[test]
fn old_guard_keeps_old_mapping() {
    let scratch = Scratch::new("guard");
    scratch.publish(GOLDEN);
    let handle =
        SharedDatabase::open_with(scratch.live(), ReloadConfig::new().poll_interval(None)).unwrap();
    let old = handle.load();
    let mut cache = handle.cache();
    assert_eq!(org_of(cache.load()), Some(GOLDEN_ORG));

    scratch.publish(&variant(b'A'));
    handle.reload().unwrap();
    assert_eq!(org_of(&handle.load()), Some("ZWIEBELFREUNDA"));
    assert_eq!(org_of(cache.load()), Some("ZWIEBELFREUNDA"));

    scratch.publish(&variant(b'B'));
    handle.reload().unwrap();
    assert_eq!(org_of(cache.load()), Some("ZWIEBELFREUNDB"));

    assert_eq!(old.build_time(), GOLDEN_TIME);
    assert_eq!(org_of(&old), Some(GOLDEN_ORG));
    old.verify().unwrap();
}

/// The verify setting is honoured: a flipped data byte passes `Database::open`'s checks, so
/// only a verifying reload refuses it; and opening a handle applies the same checks.
#[test]
fn verify_setting_decides_on_flipped_bytes() {
    let scratch = Scratch::new("verify");
    scratch.publish(GOLDEN);
    let checked =
        SharedDatabase::open_with(scratch.live(), ReloadConfig::new().poll_interval(None)).unwrap();
    let unchecked = SharedDatabase::open_with(
        scratch.live(),
        ReloadConfig::new().verify(false).poll_interval(None),
    )
    .unwrap();

    scratch.publish(&flipped());
    let err = checked.reload().unwrap_err();
    assert!(matches!(err.error(), OpenError::Checksum { .. }), "{err}");
    assert_eq!(org_of(&checked.load()), Some(GOLDEN_ORG));
    let db = unchecked
        .reload()
        .expect("without verify the structure is all that is checked");
    assert_eq!(org_of(&db), Some("ZWIEBELFREUNDD"));

    let err = SharedDatabase::open(scratch.live()).unwrap_err();
    assert!(matches!(err, OpenError::Checksum { .. }), "{err}");
    scratch.publish(&html_page());
    let err = SharedDatabase::open(scratch.live()).unwrap_err();
    assert!(matches!(err, OpenError::BadMagic { .. }), "{err}");
    let err = SharedDatabase::open(scratch.0.join("missing.db")).unwrap_err();
    assert!(
        matches!(&err, OpenError::Io(e) if e.kind() == std::io::ErrorKind::NotFound),
        "{err}"
    );
}
