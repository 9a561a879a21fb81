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
use ipsieve_testkit::snapshot_manifest as manifest_path;

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

// --- item 7: a closed standard output, numbers out of range ---------------------------------

/// Runs the binary with `args`, its standard output a pipe whose reading end is closed before
/// the program starts (a shell waits 0.3 s, then execs it): the first write fails with
/// `EPIPE`, as under `ipsieve … | true`.
fn run_with_closed_stdout(args: &[&std::ffi::OsStr]) -> (ExitStatus, String) {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("sleep 0.3; exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_ipsieve"))
        .args(args)
        .env("SOURCE_DATE_EPOCH", "1750000000")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let what = shown(&cmd);
    let mut child = cmd.spawn().unwrap();
    drop(child.stdout.take());
    let stderr = drain(child.stderr.take().unwrap());
    wait_within(&mut child, MINUTE, &what, stderr)
}

/// Every command that prints to standard output, with nobody reading it: no panic (exit 101),
/// no message, exit 0, and every file the command promised is written first (`build
/// --report-json` publishes the artifact and writes the report, then prints).
#[test]
fn a_closed_stdout_ends_every_command_quietly_after_its_files() {
    let dir = scratch("closed-stdout");
    let db = artifact_in(&dir);
    let labels = dir.join("labels.csv");
    std::fs::write(
        &labels,
        "ip,expected_category\n1.1.1.1,none\n8.8.8.8,none\n",
    )
    .unwrap();
    let cache = dir.join("cache");
    let manifest = manifest_path();
    let (out, report) = (dir.join("new.ipsieve"), dir.join("report.json"));
    let s = |x: &str| std::ffi::OsString::from(x);
    let p = |x: &Path| x.as_os_str().to_owned();
    let cases: Vec<Vec<std::ffi::OsString>> = vec![
        vec![s("stats"), p(&db)],
        vec![s("stats"), s("--json"), p(&db)],
        vec![s("verify"), p(&db)],
        vec![s("lookup"), s("--db"), p(&db), s("1.1.1.1"), s("8.8.8.8")],
        vec![s("lookup"), s("--json"), s("--db"), p(&db), s("1.1.1.1")],
        vec![s("explain"), s("--db"), p(&db), s("1.1.1.1")],
        vec![s("diff"), p(&db), p(&db)],
        vec![s("diff"), s("--json"), p(&db), p(&db)],
        vec![s("eval"), s("--db"), p(&db), p(&labels)],
        vec![
            s("export"),
            s("--db"),
            p(&db),
            s("--format"),
            s("csv"),
            s("--out"),
            s("-"),
        ],
        vec![
            s("fetch"),
            s("--offline"),
            s("--sources"),
            p(&manifest),
            s("--cache"),
            p(&cache),
        ],
        vec![
            s("build"),
            s("--sources"),
            p(&manifest),
            s("--out"),
            p(&out),
            s("--report-json"),
            p(&report),
        ],
    ];
    for args in &cases {
        let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        let (status, stderr) = run_with_closed_stdout(&refs);
        let what = format!(
            "ipsieve {}",
            args.join(std::ffi::OsStr::new(" ")).to_string_lossy()
        );
        assert_ne!(status.code(), Some(101), "{what} panicked: {stderr}");
        assert!(!stderr.contains("panicked"), "{what}: {stderr}");
        assert!(status.success(), "{what}: {status}: {stderr}");
        assert!(stderr.is_empty(), "{what} ends quietly: {stderr}");
    }
    ipsieve::Database::open(&out).expect("the artifact is published");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).expect("the report is written")).unwrap();
    assert!(json["coverage"].as_array().is_some_and(|c| !c.is_empty()));
}

/// A manifest with one source that only names a URL on a closed local port: a fetch that gets
/// past the argument checks fails at once, without the network.
fn unreachable_manifest(dir: &Path) -> PathBuf {
    let m = dir.join("sources.toml");
    std::fs::write(
        &m,
        "[[source]]\nname = \"vpn\"\nformat = \"ip-list\"\nurl = \"http://127.0.0.1:9/vpn.txt\"\n\
         categories = [\"vpn\"]\n",
    )
    .unwrap();
    m
}

/// Every numeric argument is range-checked by clap: a usage error (exit 2) naming the flag,
/// never a panic (`--timeout 1e20` panicked in `Duration::from_secs_f64`) or a run.
#[test]
fn numeric_arguments_out_of_range_are_usage_errors() {
    let dir = scratch("numbers");
    let db = artifact_in(&dir);
    let manifest = unreachable_manifest(&dir);
    let cache = dir.join("cache");
    let fetch = |flag: &str, value: &str| {
        let mut c = bin();
        c.args(["fetch", "--sources"])
            .arg(&manifest)
            .arg("--cache")
            .arg(&cache)
            .arg(format!("{flag}={value}"));
        if flag != "--retries" {
            c.args(["--retries", "0"]);
        }
        c
    };
    let diff = |flag: &str, value: &str| {
        let mut c = bin();
        c.arg("diff")
            .arg(&db)
            .arg(&db)
            .arg(format!("{flag}={value}"));
        c
    };
    let mut cases = Vec::new();
    for v in ["1e20", "0", "-1", "NaN", "inf", "86401", "soon"] {
        cases.push(("--timeout", v, fetch("--timeout", v)));
    }
    cases.push(("--retries", "101", fetch("--retries", "101")));
    cases.push(("--max-bytes", "0", fetch("--max-bytes", "0")));
    cases.push(("--backoff-ms", "3600001", fetch("--backoff-ms", "3600001")));
    for v in ["101", "-1", "NaN"] {
        cases.push(("--max-shrink", v, diff("--max-shrink", v)));
    }
    cases.push(("--top", "1000001", diff("--top", "1000001")));
    for (flag, value, mut cmd) in cases {
        let r = run_within(&mut cmd, None, MINUTE);
        assert_eq!(
            r.status.code(),
            Some(2),
            "{flag} {value}: a usage error, not {}: {}",
            r.status,
            r.stderr
        );
        assert!(
            r.stderr
                .starts_with(&format!("error: invalid value '{value}' for '{flag}")),
            "{flag} {value}: {}",
            r.stderr
        );
        assert!(
            r.stdout.is_empty() && !cache.exists(),
            "{flag} {value}: nothing ran"
        );
    }
    // The edges are accepted.
    let r = run_within(&mut diff("--max-shrink", "100"), None, MINUTE);
    assert!(r.status.success(), "{}", r.stderr);
    let r = run_within(&mut diff("--top", "1000000"), None, MINUTE);
    assert!(r.status.success(), "{}", r.stderr);
}

// --- item 9: special files as inputs ----------------------------------------------------------

/// A FIFO at `path`, made with `mkfifo(1)`.
fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success(), "mkfifo {}", path.display());
}

/// A FIFO or a device where the command line reads a file (`--db`, `verify`, `stats`, `diff`,
/// `--sources`, a source's `path`): refused at once, naming the path and what it is. Opening a
/// FIFO blocks until a writer comes (a hang); `/dev/zero` and `/dev/urandom` never end (a
/// spin at 100 % CPU).
#[test]
fn special_files_are_refused_as_inputs() {
    let dir = scratch("special-inputs");
    let db = artifact_in(&dir);
    let fifo = dir.join("fifo");
    mkfifo(&fifo);
    let labels = dir.join("labels.csv");
    std::fs::write(&labels, "1.1.1.1,none\n").unwrap();
    let out = dir.join("out.ipsieve");
    let source_at = |name: &str, format: &str, path: &Path| {
        let m = dir.join(format!("{name}.toml"));
        let table = format!(
            "[[source]]\nname = \"{name}\"\nformat = \"{format}\"\npath = \"{}\"\n",
            path.display()
        );
        std::fs::write(&m, table).unwrap();
        m
    };
    let ipsieve = |args: &[&dyn AsRef<std::ffi::OsStr>]| {
        let mut c = bin();
        c.args(args.iter().map(|a| a.as_ref()));
        c
    };
    let (zero, urandom, null) = (
        Path::new("/dev/zero"),
        Path::new("/dev/urandom"),
        Path::new("/dev/null"),
    );
    let (fifo_, device) = ("a FIFO", "a character device");
    let cases: Vec<(Command, &Path, &str)> = vec![
        (
            ipsieve(&[&"lookup", &"--db", &fifo, &"1.1.1.1"]),
            &fifo,
            fifo_,
        ),
        (
            ipsieve(&[&"explain", &"--db", &fifo, &"1.1.1.1"]),
            &fifo,
            fifo_,
        ),
        (ipsieve(&[&"verify", &fifo]), &fifo, fifo_),
        (ipsieve(&[&"stats", &fifo]), &fifo, fifo_),
        (ipsieve(&[&"diff", &fifo, &db]), &fifo, fifo_),
        (ipsieve(&[&"diff", &db, &fifo]), &fifo, fifo_),
        (
            ipsieve(&[
                &"export",
                &"--format",
                &"csv",
                &"--out",
                &"-",
                &"--db",
                &fifo,
            ]),
            &fifo,
            fifo_,
        ),
        (ipsieve(&[&"eval", &"--db", &fifo, &labels]), &fifo, fifo_),
        (
            ipsieve(&[&"lookup", &"--db", &zero, &"1.1.1.1"]),
            zero,
            device,
        ),
        (build_cmd(&fifo, &out, &[]), &fifo, fifo_),
        (build_cmd(null, &out, &[]), null, device),
        (
            build_cmd(&source_at("list-fifo", "ip-list", &fifo), &out, &[]),
            &fifo,
            fifo_,
        ),
        (
            build_cmd(&source_at("mmdb-fifo", "mmdb", &fifo), &out, &[]),
            &fifo,
            fifo_,
        ),
        (
            build_cmd(&source_at("zero", "ip-list", zero), &out, &[]),
            zero,
            device,
        ),
        (
            build_cmd(&source_at("urandom", "ip-list", urandom), &out, &[]),
            urandom,
            device,
        ),
    ];
    for (mut cmd, path, kind) in cases {
        let what = shown(&cmd);
        let r = run_within(&mut cmd, None, Duration::from_secs(20));
        assert_eq!(r.status.code(), Some(1), "{what}: {}", r.stderr);
        let want = format!("{}: is {kind}, not a regular file", path.display());
        assert!(
            r.stderr.contains(&want),
            "{what}: wanted {want:?} in {}",
            r.stderr
        );
        assert!(r.stdout.is_empty(), "{what}");
    }
    assert!(!out.exists(), "nothing is published");
    // Through a symbolic link, the file it names counts: a link to a FIFO is refused, a link
    // to the artifact is read.
    let link = dir.join("link");
    std::os::unix::fs::symlink(&fifo, &link).unwrap();
    let r = run_within(
        bin().arg("verify").arg(&link),
        None,
        Duration::from_secs(20),
    );
    assert!(
        r.stderr.contains(&format!(
            "{}: is a FIFO, not a regular file",
            link.display()
        )),
        "{}",
        r.stderr
    );
    std::fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink(&db, &link).unwrap();
    let r = run_within(bin().arg("verify").arg(&link), None, MINUTE);
    assert!(r.status.success(), "{}", r.stderr);
}

// --- item 5: non-UTF-8 lines on standard input -----------------------------------------------

/// `printf '8.8.8.8\n1.2.3.4\xff\n1.1.1.1\n' | ipsieve lookup --db DB -`: the bad line is
/// reported with its number and skipped, the addresses around it are answered, and the exit
/// status says a line failed. Was: 8.8.8.8 answered, then "stream did not contain valid
/// UTF-8" and nothing more.
#[test]
fn a_non_utf8_line_on_stdin_is_reported_and_skipped() {
    let dir = scratch("non-utf8");
    let db = artifact_in(&dir);
    let input = b"8.8.8.8\n1.2.3.4\xff\n1.1.1.1\n\xc3\x28\n2606:4700:4700::1111\n".to_vec();
    for (command, json) in [("lookup", false), ("lookup", true), ("explain", false)] {
        let mut cmd = bin();
        cmd.arg(command).arg("--db").arg(&db).arg("-");
        if json {
            cmd.arg("--json");
        }
        let r = run_within(&mut cmd, Some(input.clone()), MINUTE);
        let what = format!("{command} json={json}");
        assert_eq!(r.status.code(), Some(1), "{what}: {}", r.stderr);
        assert_eq!(
            r.stderr,
            "ipsieve: standard input: line 2: not an IPv4 or IPv6 address (in \"1.2.3.4\u{fffd}\")\n\
             ipsieve: standard input: line 4: not an IPv4 or IPv6 address (in \"\u{fffd}(\")\n",
            "{what}"
        );
        let stdout = String::from_utf8(r.stdout).unwrap();
        for ip in ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(stdout.contains(ip), "{what}: {ip} answered: {stdout}");
        }
        if command == "lookup" {
            assert_eq!(stdout.lines().count(), 3, "{what}: {stdout}");
        }
    }
}

// --- item 6: unbounded lines, control characters -------------------------------------------

/// A field of `/proc/PID/status` in KiB (`VmHWM`, `VmRSS`); `None` once the process is gone.
fn proc_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A 64 MiB line on standard input is skipped as it streams: reported at once with its
/// number and a short escaped prefix, the next lines answered, memory bounded (peak resident
/// memory read while the program waits for more input). Was: the line buffered whole (and
/// echoed whole to standard error).
#[test]
fn an_overlong_stdin_line_is_skipped_in_bounded_memory() {
    let dir = scratch("overlong");
    let db = artifact_in(&dir);
    let mut child = bin()
        .args(["lookup", "--db"])
        .arg(&db)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = drain(child.stdout.take().unwrap());
    let stderr = drain(child.stderr.take().unwrap());
    let mut stdin = child.stdin.take().unwrap();
    let chunk = vec![b'\t'; 1 << 20];
    for _ in 0..64 {
        stdin.write_all(&chunk).unwrap();
    }
    stdin.write_all(b"\n8.8.8.8\n").unwrap();
    // Everything but the pipe's buffer has been read; the program now waits for more.
    std::thread::sleep(Duration::from_millis(300));
    let peak = proc_kib(child.id(), "VmHWM:").unwrap();
    drop(stdin);
    let (status, stderr) = wait_within(&mut child, MINUTE, "lookup -", stderr);
    let stdout = String::from_utf8(stdout.join().unwrap()).unwrap();
    println!("peak resident memory: {peak} KiB");
    assert!(peak < 32 << 10, "peak resident memory {peak} KiB");
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr,
        format!(
            "ipsieve: standard input: line 1: line longer than 4096 bytes (in \"{}…\")\n",
            "\\t".repeat(80)
        )
    );
    assert!(stdout.starts_with("8.8.8.8\t"), "{stdout}");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
}

/// `ipsieve lookup --db DB - < /dev/zero`: one endless line. The program reports it at once
/// and reads on in bounded memory (it never ends, like `grep x < /dev/zero`; the test kills
/// it). Was: memory grew until allocation failed.
#[test]
fn dev_zero_on_stdin_is_reported_in_bounded_memory() {
    let dir = scratch("dev-zero");
    let db = artifact_in(&dir);
    let mut child = bin()
        .args(["lookup", "--db"])
        .arg(&db)
        .arg("-")
        .stdin(std::fs::File::open("/dev/zero").unwrap())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut pipe = child.stderr.take().unwrap();
    let sink = std::sync::Arc::clone(&seen);
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    let want = "ipsieve: standard input: line 1: line longer than 4096 bytes (in \"";
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut reported = None;
    let mut peak = 0;
    while Instant::now() < deadline {
        let rss = proc_kib(child.id(), "VmRSS:").unwrap_or(0);
        peak = peak.max(rss);
        if rss > 256 << 10 {
            break;
        }
        let text = String::from_utf8_lossy(&seen.lock().unwrap()).into_owned();
        if text.contains(want) {
            // Keep reading zeros a while: memory stays where it was.
            if reported.get_or_insert_with(Instant::now).elapsed() > Duration::from_secs(1) {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    peak = peak.max(proc_kib(child.id(), "VmHWM:").unwrap_or(0));
    let still_running = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    let text = String::from_utf8_lossy(&seen.lock().unwrap()).into_owned();
    println!("peak resident memory: {peak} KiB; stderr: {text}");
    assert!(peak < 64 << 10, "peak resident memory {peak} KiB");
    assert!(reported.is_some(), "reported within 20 s: {text:?}");
    assert!(still_running, "it reads on: {text}");
    assert_eq!(
        text,
        format!("{want}{}…\")\n", "\\0".repeat(80)),
        "one short report"
    );
}

/// Control characters, terminal escapes and bidirectional-text controls in an artifact's
/// strings (AS names, providers, licences, formats, metadata) and in echoed input are escaped
/// in every text output: a tab in an AS name cannot shift the TSV columns and no ESC reaches
/// a terminal.
#[test]
fn control_characters_are_escaped_in_text_output() {
    use ipsieve::Categories;
    use ipsieve_builder::{Attrs, Builder, SourceSpec};

    let dir = scratch("escapes");
    let hostile = "Evil\tCorp\x1b[31m\u{9b}2J\u{202e}\r\n\x07\x7f\\";
    let mut b = Builder::new().build_time(1_750_000_000);
    let mut spec = SourceSpec::new("evil", format!("ip-list{hostile}"))
        .categories(Categories::VPN)
        .provider(hostile);
    spec.licence = Some(hostile.to_owned());
    let vpn = b.add_source(spec).unwrap();
    let bgp = b.add_source(SourceSpec::new("bgp", "pfx2as")).unwrap();
    b.add_net(vpn, "198.51.100.0/24".parse().unwrap(), Attrs::default())
        .unwrap();
    let asn = Attrs {
        asn: Some(64500),
        ..Attrs::default()
    };
    b.add_net(bgp, "198.51.100.0/22".parse().unwrap(), asn)
        .unwrap();
    b.add_as_name(64500, hostile);
    b.metadata(hostile, hostile);
    let db = dir.join("evil.ipsieve");
    ipsieve_builder::publish(&b.compile().unwrap().bytes, &db).unwrap();
    let other = artifact_in(&dir);

    // Nothing a terminal would act on: no C0 control but the line feed (and the TSV's own
    // tabs), no DEL, no C1 control, no bidirectional override.
    let inert = |what: &str, text: &str, tabs_allowed: bool| {
        for c in text.chars() {
            let bad = (c.is_control() && c != '\n' && !(tabs_allowed && c == '\t'))
                || ('\u{202a}'..='\u{202e}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c);
            assert!(!bad, "{what}: {c:?} in {text:?}");
        }
    };
    let ip = "198.51.100.7";
    let r = run_within(
        bin().args(["lookup", "--db"]).arg(&db).arg(ip),
        None,
        MINUTE,
    );
    assert!(r.status.success(), "{}", r.stderr);
    let tsv = String::from_utf8(r.stdout).unwrap();
    inert("lookup", &tsv, true);
    assert_eq!(tsv.lines().count(), 1, "{tsv:?}");
    let fields: Vec<&str> = tsv.trim_end_matches('\n').split('\t').collect();
    assert_eq!(fields.len(), 11, "{tsv:?}");
    assert_eq!(
        fields[10], "Documentation (TEST-NET-2)",
        "198.51.100.0/24 is named"
    );
    let escaped = "Evil\\tCorp\\u{1b}[31m\\u{9b}2J\\u{202e}\\r\\n\\u{7}\\u{7f}\\";
    assert_eq!(fields[6], escaped, "the AS name, escaped");
    assert_eq!(fields[7], escaped, "the provider, escaped");
    for (what, args) in [
        ("explain", vec!["explain", "--db"]),
        ("stats", vec!["stats"]),
        ("diff", vec!["diff"]),
    ] {
        let mut cmd = bin();
        cmd.args(&args);
        match what {
            "explain" => cmd.arg(&db).arg(ip),
            "diff" => cmd.arg(&other).arg(&db),
            _ => cmd.arg(&db),
        };
        let r = run_within(&mut cmd, None, MINUTE);
        assert!(r.status.success(), "{what}: {}", r.stderr);
        let text = String::from_utf8(r.stdout).unwrap();
        inert(what, &text, false);
        assert!(text.contains(escaped), "{what}: {text}");
    }
    // Echoed input.
    let r = run_within(
        bin()
            .args(["lookup", "--db"])
            .arg(&db)
            .arg("\x1b]0;owned\x07 1.2.3.4"),
        None,
        MINUTE,
    );
    assert_eq!(r.status.code(), Some(1));
    inert("echoed input", &r.stderr, false);
    assert_eq!(
        r.stderr,
        "ipsieve: '\\u{1b}]0;owned\\u{7} 1.2.3.4' is not an IPv4 or IPv6 address\n"
    );
    let r = run_within(
        bin().args(["explain", "--db"]).arg(&db).arg("-"),
        Some(b"\x1b[2J\r\n".to_vec()),
        MINUTE,
    );
    assert_eq!(r.status.code(), Some(1));
    inert("echoed stdin", &r.stderr, false);
}

// --- issue 17 item 7: a manifest with nothing to build ------------------------------------------

/// An empty manifest, or one whose every source is disabled, used to build (and publish) an
/// artifact that knows nothing, over whatever was at `--out`. It is refused, naming the
/// manifest, and the published artifact is left as it was.
#[test]
fn a_manifest_with_no_enabled_source_builds_nothing() {
    let dir = scratch("empty-manifest");
    let out = artifact_in(&dir);
    let before = std::fs::read(&out).unwrap();
    let empty = dir.join("empty.toml");
    std::fs::write(&empty, "# no sources yet\n").unwrap();
    let disabled = dir.join("disabled.toml");
    std::fs::write(
        &disabled,
        "[[source]]\nname = \"x\"\nformat = \"ip-list\"\npath = \"list.txt\"\nenabled = false\n",
    )
    .unwrap();
    for (manifest, detail) in [
        (&empty, "(0 declared)"),
        (&disabled, "(1 declared, every one `enabled = false`)"),
    ] {
        let r = run_within(&mut build_cmd(manifest, &out, &[]), None, MINUTE);
        assert!(!r.status.success(), "{}", r.stderr);
        let want = format!(
            "ipsieve: {}: the manifest has no enabled source {detail}: nothing to build",
            manifest.display()
        );
        assert!(r.stderr.starts_with(&want), "{}", r.stderr);
        assert_eq!(
            std::fs::read(&out).unwrap(),
            before,
            "the published artifact is kept"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
