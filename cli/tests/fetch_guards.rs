//! Issue 14, item 12, through the command line: a killed `ipsieve fetch` leaves a temporary
//! file that a later fetch removes once stale, a trickling server is cut off by `--deadline`
//! and `--min-rate`, and two fetches into one cache never interleave. The library side of the
//! same guards is in `builder/tests/fetch_guards.rs`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant, SystemTime};

use ipsieve_builder::cache::{self};
use ipsieve_builder::fetch::{
    CacheLock, FetchError, FetchOptions, FetchOutcome, Fetcher, LOCK_FILE,
};
use ipsieve_builder::manifest::Manifest;
use ipsieve_builder::STALE_TEMPORARY;
use ipsieve_testkit::fetch::{
    cache_files, failure, fetch_all, fetcher, lines, lock, manifest, records, updated,
};
use ipsieve_testkit::http::{Reply, Server};
use ipsieve_testkit::{fresh_dir, real};

fn ipsieve() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ipsieve"))
}

/// Hidden files of the cache directory other than its lock file: temporary files.
fn leftovers(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = cache_files(dir)
        .into_keys()
        .filter(|n| n.starts_with('.'))
        .collect();
    names.sort();
    names
}

/// Sets the modification time of `path` to `age` ago.
fn age_file(path: &Path, age: Duration) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(SystemTime::now() - age)
        .unwrap();
}

/// A fetch killed with SIGKILL mid-download leaves its temporary file behind (nothing in the
/// process can remove it). The next fetches leave it alone while it is recent (it could be
/// another fetch's, before the lock existed) and remove it once it is older than
/// `STALE_TEMPORARY`, the threshold publish uses for its own leftovers; a recent temporary
/// file and another source's stay.
#[test]
fn a_killed_fetch_leaves_a_temporary_file_that_a_later_fetch_removes_once_stale() {
    let server = Server::start();
    let dir = fresh_dir("killed");
    let cache_dir = dir.join("cache");
    let ivpn = real("data/snapshot/vpn/ivpn.txt");
    server.route("ivpn.txt", vec![Reply::Stall(ivpn.clone(), ivpn.len() / 3)]);
    let manifest_path = dir.join("sources.toml");
    std::fs::write(
        &manifest_path,
        manifest(&server, &[("vpn-ivpn", "ip-list", "ivpn.txt", "")]),
    )
    .unwrap();
    let fetch = || {
        let mut c = ipsieve();
        c.arg("fetch")
            .arg("--sources")
            .arg(&manifest_path)
            .arg("--cache")
            .arg(&cache_dir)
            .args(["--timeout", "30", "--retries", "0", "--quiet"]);
        c
    };
    let mut child = fetch()
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !cache_dir.exists() || leftovers(&cache_dir).is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the fetch never started its download"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // SIGKILL, as the OOM killer or a CI timeout would: no destructor runs.
    child.kill().unwrap();
    child.wait().unwrap();
    let left = leftovers(&cache_dir);
    println!("after the kill: {left:?}");
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0].starts_with(".vpn-ivpn."), "{left:?}");
    let partial = cache_dir.join(&left[0]);

    // The next fetch succeeds and, the leftover being recent, leaves it.
    server.route("ivpn.txt", vec![Reply::Ok(ivpn.clone(), vec![])]);
    let out = fetch().output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(cache_dir.join("vpn-ivpn")).unwrap(), ivpn);
    assert_eq!(leftovers(&cache_dir), left, "a recent leftover stays");

    // An hour and a minute later it is stale; a recent one and another source's stale one stay.
    let stale = STALE_TEMPORARY + Duration::from_secs(60);
    age_file(&partial, stale);
    let recent = cache_dir.join(".vpn-ivpn.meta.json.tmp-999999-0");
    std::fs::write(&recent, b"{").unwrap();
    let stale_sidecar = cache_dir.join(".vpn-ivpn.meta.json.tmp-999999-1");
    std::fs::write(&stale_sidecar, b"{").unwrap();
    age_file(&stale_sidecar, stale);
    let other = cache_dir.join(".aws.tmp-999999-2");
    std::fs::write(&other, b"[").unwrap();
    age_file(&other, stale);
    let out = fetch().output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        leftovers(&cache_dir),
        [".aws.tmp-999999-2", ".vpn-ivpn.meta.json.tmp-999999-0"],
        "the stale leftovers of vpn-ivpn are removed, the rest stays"
    );
    assert!(!partial.exists());
}

/// A server that sends one byte every 50 ms (each read well inside the read timeout) is cut
/// off by the download deadline, which covers every attempt and is not retried, or by the
/// minimum transfer rate, which is retried within the deadline. Both are `ipsieve fetch`
/// flags, their ranges checked by the argument parser.
#[test]
fn a_trickling_server_is_cut_off_by_the_deadline_and_the_minimum_rate() {
    let server = Server::start();
    let dir = fresh_dir("trickle");
    let m = Manifest::parse(&manifest(
        &server,
        &[
            ("deadline", "ip-list", "a.txt", ""),
            ("rate", "ip-list", "b.txt", ""),
        ],
    ))
    .unwrap();
    let ivpn = real("data/snapshot/vpn/ivpn.txt");
    server.route("a.txt", vec![Reply::Ok(ivpn.clone(), vec![])]);
    server.route("b.txt", vec![Reply::Ok(ivpn.clone(), vec![])]);
    for (name, r) in fetch_all(&fetcher(), &m, &dir) {
        assert!(updated(&r).0.records > 0, "{name}");
    }
    let before = cache_files(&dir);
    // At 20 bytes/s the list would take ivpn.len() / 20 seconds: minutes.
    let trickle = Reply::Trickle(ivpn.clone(), Duration::from_millis(50));
    assert!(ivpn.len() > 1000);
    server.route("a.txt", vec![trickle.clone()]);
    server.route("b.txt", vec![trickle]);
    server.clear_log();

    let options = FetchOptions::default()
        .timeout(Duration::from_secs(1))
        .retries(1)
        .backoff(Duration::from_millis(10));
    let f = Fetcher::new(
        options
            .clone()
            .deadline(Duration::from_millis(1500))
            .min_rate(0, Duration::from_secs(1)),
    )
    .unwrap();
    let t = Instant::now();
    let r = f.fetch(&m.sources[0], &lock(&dir), &mut |_| {});
    let took = t.elapsed();
    let e = failure(&r);
    println!("deadline ({:.2} s): {e}", took.as_secs_f64());
    assert!(
        matches!(e, FetchError::Transport { attempts: 1, .. }),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .contains("the download passed its deadline of 1.5 s (--deadline) after "),
        "{e}"
    );
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_secs(4),
        "{took:?}"
    );
    assert_eq!(server.requests("a.txt").len(), 1);

    let f = Fetcher::new(
        options
            .deadline(Duration::from_secs(60))
            .min_rate(200, Duration::from_millis(500)),
    )
    .unwrap();
    let t = Instant::now();
    let r = f.fetch(&m.sources[1], &lock(&dir), &mut |_| {});
    let took = t.elapsed();
    let e = failure(&r);
    println!("minimum rate ({:.2} s): {e}", took.as_secs_f64());
    assert!(
        matches!(e, FetchError::Transport { attempts: 2, .. }),
        "{e:?}"
    );
    let text = e.to_string();
    assert!(
        text.contains("the transfer slowed to ")
            && text.contains("below the minimum of 200 bytes/s (--min-rate)"),
        "{text}"
    );
    assert!(took < Duration::from_secs(4), "{took:?}");
    assert_eq!(server.requests("b.txt").len(), 2);
    assert_eq!(cache_files(&dir), before, "the cached copies stay");

    // The same through the command line, then its argument checks.
    let manifest_path = dir.join("sources.toml");
    std::fs::write(
        &manifest_path,
        manifest(&server, &[("deadline", "ip-list", "a.txt", "")]),
    )
    .unwrap();
    let t = Instant::now();
    let out = ipsieve()
        .arg("fetch")
        .arg("--sources")
        .arg(&manifest_path)
        .arg("--cache")
        .arg(&dir)
        .args(["--timeout", "1", "--retries", "1", "--backoff-ms", "10"])
        .args([
            "--deadline",
            "2",
            "--min-rate",
            "100",
            "--min-rate-window",
            "1",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("cli ({:.2} s): {stderr}", t.elapsed().as_secs_f64());
    assert!(!out.status.success());
    assert!(
        stderr.contains("source 'deadline': GET ")
            && (stderr.contains("passed its deadline of 2.0 s") || stderr.contains("slowed to")),
        "{stderr}"
    );
    assert!(t.elapsed() < Duration::from_secs(8));
    for (flag, value) in [
        ("--deadline", "0"),
        ("--deadline", "86401"),
        ("--deadline", "1e20"),
        ("--min-rate", "-1"),
        ("--min-rate", "1073741825"),
        ("--min-rate-window", "0"),
        ("--max-index-bytes", "0"),
    ] {
        let out = ipsieve()
            .args(["fetch", "--sources", "x.toml", "--cache", "c"])
            .arg(format!("{flag}={value}"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}: {stderr}");
        assert!(
            stderr.contains("invalid value") && stderr.contains(flag),
            "{flag} {value}: {stderr}"
        );
    }
}

/// Two fetches into one cache directory: the second cannot take the lock and fails at once,
/// so the cached file and its sidecar always describe the same download. In-process (two
/// threads, each with its own lock file handle, as two processes have) over 24 rounds where
/// both start together on a server that answers slowly with one of two versions of a list;
/// then through the command line while a lock is held.
#[test]
fn two_fetches_into_one_cache_never_interleave() {
    let server = Server::start();
    let dir = fresh_dir("concurrent");
    let m = Manifest::parse(&manifest(&server, &[("vpn", "ip-list", "vpn.txt", "")])).unwrap();
    let entry = &m.sources[0];
    let ivpn = real("data/snapshot/vpn/ivpn.txt");
    let shorter = lines(&ivpn, 200);
    let versions = [ivpn.clone(), shorter.clone()];
    let (long_records, short_records) = (records("ip-list", &ivpn), records("ip-list", &shorter));
    let replies: Vec<Reply> = (0..200)
        .map(|i| {
            Reply::Slow(
                Duration::from_millis(100),
                Box::new(Reply::Ok(versions[i % 2].clone(), vec![])),
            )
        })
        .collect();
    server.route("vpn.txt", replies);
    let f = Arc::new(fetcher());
    let (mut fetched, mut locked) = (0, 0);
    for round in 0..24 {
        let barrier = Arc::new(Barrier::new(2));
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let (f, barrier, dir, entry) =
                    (f.clone(), barrier.clone(), dir.clone(), entry.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    match CacheLock::acquire(&dir) {
                        Ok(lock) => Ok(f.fetch(&entry, &lock, &mut |_| {})),
                        Err(e) => Err(e),
                    }
                })
            })
            .collect();
        for h in handles {
            match h.join().unwrap() {
                Ok(Ok(FetchOutcome::Updated { .. })) => fetched += 1,
                Ok(other) => panic!("round {round}: {other:?}"),
                Err(FetchError::Locked { holder, .. }) => {
                    assert!(holder.starts_with(&format!("pid {} since ", std::process::id())));
                    locked += 1;
                }
                Err(e) => panic!("round {round}: {e}"),
            }
        }
        let meta = cache::inspect(entry, &dir)
            .unwrap_or_else(|e| panic!("round {round}: file and sidecar disagree: {e}"));
        let body = std::fs::read(dir.join("vpn")).unwrap();
        let expected = if body == ivpn {
            long_records
        } else {
            short_records
        };
        assert_eq!(meta.records, expected, "round {round}");
        assert_eq!(leftovers(&dir), Vec::<String>::new(), "round {round}");
    }
    println!("24 rounds: {fetched} fetches, {locked} refused by the lock");
    assert!(
        locked > 0,
        "the fetches never overlapped: the test proves nothing"
    );
    assert_eq!(fetched + locked, 48);

    // The command line, while this process holds the lock.
    let held = CacheLock::acquire(&dir).unwrap();
    let manifest_path = dir.join("sources.toml");
    std::fs::write(
        &manifest_path,
        manifest(&server, &[("vpn", "ip-list", "vpn.txt", "")]),
    )
    .unwrap();
    server.clear_log();
    let run = || {
        ipsieve()
            .arg("fetch")
            .arg("--sources")
            .arg(&manifest_path)
            .arg("--cache")
            .arg(&dir)
            .output()
            .unwrap()
    };
    let out = run();
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stderr}");
    assert!(!out.status.success());
    let expected = format!(
        "ipsieve: the cache directory {} is in use by another `ipsieve fetch` (pid {} since ",
        dir.display(),
        std::process::id()
    );
    assert!(stderr.starts_with(&expected), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "; lock file {}): wait for it to finish, or fetch into another --cache",
            dir.join(LOCK_FILE).display()
        )),
        "{stderr}"
    );
    assert!(server.requests("vpn.txt").is_empty(), "nothing was fetched");
    drop(held);
    let out = run();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
