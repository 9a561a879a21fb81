//! The command line used carelessly or with hostile input (issue 14): absurd numbers, a closed
//! standard output, special files as inputs, non-UTF-8 and endless lines on standard input,
//! control characters in text output. Every run has a deadline, so a hang fails the test
//! instead of blocking the test run.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use ipsieve_builder::publish_keeping;

use crate::cli::{bin, built};
use crate::snapshot::manifest_path;

/// An empty scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("ipsieve-cli-hostile-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// How a run ended.
struct Run {
    status: ExitStatus,
    stdout: Vec<u8>,
    stderr: String,
}

/// `cmd` as a person would read it, for failure messages.
fn shown(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Reads all of `from` on a thread of its own.
fn drain(mut from: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut all = Vec::new();
        let _ = from.read_to_end(&mut all);
        all
    })
}

/// Waits for `child` until `limit`; past it the child is killed and the test fails, naming
/// `what` and what it printed to standard error so far.
fn wait_within(
    child: &mut std::process::Child,
    limit: Duration,
    what: &str,
    stderr: std::thread::JoinHandle<Vec<u8>>,
) -> (ExitStatus, String) {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let stderr = String::from_utf8_lossy(&stderr.join().unwrap()).into_owned();
            return (status, stderr);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = String::from_utf8_lossy(&stderr.join().unwrap()).into_owned();
            panic!("`{what}` did not end within {limit:?} (a hang); stderr: {stderr}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `cmd` with `stdin` as its standard input (none: `/dev/null`), killing it and failing
/// the test when it takes longer than `limit`.
fn run_within(cmd: &mut Command, stdin: Option<Vec<u8>>, limit: Duration) -> Run {
    let what = shown(cmd);
    let mut child = cmd
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let (Some(data), Some(mut pipe)) = (stdin, child.stdin.take()) {
        // The program may stop reading early; a broken pipe here is not the test's concern.
        std::thread::spawn(move || {
            let _ = pipe.write_all(&data);
        });
    }
    let stdout = drain(child.stdout.take().unwrap());
    let stderr = drain(child.stderr.take().unwrap());
    let (status, stderr) = wait_within(&mut child, limit, &what, stderr);
    Run {
        status,
        stdout: stdout.join().unwrap(),
        stderr,
    }
}

const MINUTE: Duration = Duration::from_secs(60);

/// A fresh copy of the snapshot artifact the binary built, in `dir`.
fn artifact_in(dir: &Path) -> PathBuf {
    let db = dir.join("snapshot.ipsieve");
    std::fs::copy(built(), &db).unwrap();
    db
}

/// `ipsieve build --quiet --sources MANIFEST --out OUT EXTRA…`.
fn build_cmd(manifest: &Path, out: &Path, extra: &[&str]) -> Command {
    let mut c = bin();
    c.args(["build", "--quiet", "--sources"])
        .arg(manifest)
        .arg("--out")
        .arg(out)
        .args(extra)
        .env("SOURCE_DATE_EPOCH", "1750000000");
    c
}

// --- item 8: `--keep` ------------------------------------------------------------------------

/// `--keep 18446744073709551615` used to stat every `OUT.N` up to it (a hang); clap now
/// refuses anything past 100, and so does the library.
#[test]
fn keep_is_bounded() {
    let dir = scratch("keep");
    let out = artifact_in(&dir);
    let before = std::fs::read(&out).unwrap();
    let r = run_within(
        &mut build_cmd(&manifest_path(), &out, &["--keep", "18446744073709551615"]),
        None,
        MINUTE,
    );
    assert_eq!(r.status.code(), Some(2), "a usage error: {}", r.stderr);
    assert!(r.stdout.is_empty());
    assert!(
        r.stderr
            .contains("invalid value '18446744073709551615' for '--keep <N>'")
            && r.stderr.contains("not in 0..=100"),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read(&out).unwrap(), before, "nothing published");
    let r = run_within(
        &mut build_cmd(&manifest_path(), &out, &["--keep", "101"]),
        None,
        MINUTE,
    );
    assert_eq!(r.status.code(), Some(2), "{}", r.stderr);
    let r = run_within(
        &mut build_cmd(&manifest_path(), &out, &["--keep", "100"]),
        None,
        MINUTE,
    );
    assert!(r.status.success(), "100 is allowed: {}", r.stderr);
    assert!(ipsieve_builder::kept_path(&out, 1).is_file());

    // The library refuses it too, at once.
    let bytes = std::fs::read(&out).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let dest = out.clone();
    std::thread::spawn(move || {
        let _ = tx.send(publish_keeping(&bytes, &dest, usize::MAX).map_err(|e| e.to_string()));
    });
    let e = rx
        .recv_timeout(MINUTE)
        .expect("publish_keeping(…, usize::MAX) hangs")
        .unwrap_err();
    assert!(
        e.contains("keep 18446744073709551615 is more than 100"),
        "{e}"
    );
}
