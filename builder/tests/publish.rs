//! Publishing with the library: a write that fails (a full disk) leaves the published
//! artifact alone, publishes from many threads at once stay whole, and keeping earlier
//! artifacts survives a kept name that already is the published file. The command line's side
//! (`ipsieve build --keep`, reproducible builds, refused destinations) is in
//! `cli/tests/publish.rs`.

use std::path::{Path, PathBuf};

use ipsieve::Database;
use ipsieve_builder::manifest::Manifest;
use ipsieve_builder::{kept_path, load, publish, publish_keeping, BuildError, Builder};
use ipsieve_testkit::snapshot::small_manifest;

fn tmp(name: &str) -> PathBuf {
    ipsieve_testkit::fresh_dir(&format!("publish-{name}"))
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

/// A full disk (`ENOSPC`), on a tmpfs that holds one artifact (1.6 MB) but not two: the
/// published artifact stays as it was, the kept ones too, and the temporary file is removed,
/// which frees the space again. Skipped, with the reason printed, where this process may not
/// mount a tmpfs (not root, no `CAP_SYS_ADMIN`); the file-size-limit test above covers the
/// same code path everywhere.
#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_leaves_the_published_artifact() {
    let dir = tmp("enospc");
    let (first, second) = (
        small_artifact(&dir, 1_700_000_000),
        small_artifact(&dir, 1_700_086_400),
    );
    let mnt = dir.join("mnt");
    let size = first.len() * 3 / 2;
    assert!(size < 2 * second.len(), "one artifact fits, two do not");
    let _fs = match ipsieve_testkit::Tmpfs::mount(&mnt, &format!("{}k", size / 1024)) {
        Ok(fs) => fs,
        Err(why) => {
            ipsieve_testkit::skip_privileged("a_full_disk_leaves_the_published_artifact", &why);
            return;
        }
    };
    let db = mnt.join("db");
    publish_keeping(&first, &db, 2).unwrap();
    let published = snapshot_of(&db);
    assert_eq!(published.0, first);

    let err = publish_keeping(&second, &db, 2).unwrap_err();
    let text = err.to_string();
    println!("ENOSPC: {text}");
    let BuildError::Io { path, source } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(source.raw_os_error(), Some(28), "{text}");
    assert!(
        path.starts_with(&format!(
            "{} (temporary file {}",
            db.display(),
            mnt.join(".db.tmp-").display()
        )),
        "{path}"
    );
    assert!(
        text.starts_with(&format!("cannot write the artifact {}", db.display()))
            && text.ends_with("): No space left on device (os error 28)"),
        "{text}"
    );
    assert_eq!(snapshot_of(&db), published);
    assert!(!kept_path(&db, 1).exists(), "a failed write rotated");
    assert!(leftovers(&mnt).is_empty(), "{:?}", leftovers(&mnt));
    // The failed write gave its blocks back: with the published artifact gone, the second
    // one fits.
    std::fs::remove_file(&db).unwrap();
    publish(&second, &db).unwrap();
    assert_eq!(std::fs::read(&db).unwrap(), second);
}

/// Threads of one process publishing to the same path never share a temporary file: the
/// result is always one of the artifacts, whole.
#[test]
fn concurrent_publishes_in_one_process_stay_whole() {
    let dir = tmp("concurrent");
    let artifacts: Vec<Vec<u8>> = (0..4)
        .map(|i| small_artifact(&dir, 1_700_000_000 + i))
        .collect();
    let db = dir.join("db");
    std::thread::scope(|s| {
        for a in &artifacts {
            let db = &db;
            s.spawn(move || {
                for _ in 0..8 {
                    publish_keeping(a, db, 1).unwrap();
                }
            });
        }
    });
    for path in [db.clone(), kept_path(&db, 1)] {
        let bytes = std::fs::read(&path).unwrap();
        assert!(artifacts.contains(&bytes), "{} is a mix", path.display());
        Database::from_bytes(&bytes).unwrap().verify().unwrap();
    }
    assert!(leftovers(&dir).is_empty(), "{:?}", leftovers(&dir));
}

/// `dest.1` already naming the published file itself (left so by a publish whose last rename
/// failed after its rotation): the next publish keeps that file as `dest.1` and leaves no
/// temporary name behind (renaming one name of a file over another is a no-op in POSIX).
#[cfg(unix)]
#[test]
fn keep_when_the_kept_name_already_is_the_published_file() {
    let dir = tmp("keep-same");
    let db = dir.join("db");
    let (first, second) = (
        small_artifact(&dir, 1_700_000_000),
        small_artifact(&dir, 1_700_000_001),
    );
    publish_keeping(&first, &db, 1).unwrap();
    std::fs::hard_link(&db, kept_path(&db, 1)).unwrap();
    let published = snapshot_of(&db);
    publish_keeping(&second, &db, 1).unwrap();
    assert_eq!(std::fs::read(&db).unwrap(), second);
    assert_eq!(snapshot_of(&kept_path(&db, 1)), published);
    assert!(leftovers(&dir).is_empty(), "{:?}", leftovers(&dir));
}
