//! Helpers shared by the integration tests of the workspace's crates: where the repository's
//! data lives, how a test that cannot run here says why (and when that is a failure), a tmpfs
//! for full-disk tests, a small HTTP server for the fetch tests ([`http`]), the vendored
//! snapshot built once ([`snapshot`]), the diff fixture and its oracle ([`diff`]), the builder
//! rules' compile-and-ask helpers ([`rules`]), the MMDB export's records as a reader decodes
//! them ([`mmdb`]), and the
//! fetch tests' view of a cache directory (`fetch`, feature `fetch`).
//!
//! It depends on the libraries it helps test; `ipsieve-builder` dev-depends on it in turn,
//! which cargo allows: integration tests link the same library build.
//!
//! # Skips
//! A test that needs something this machine may lack skips with [`skip`], which prints the
//! test and the reason on standard error past the harness's capture, so the reason shows in
//! every log. What must not be missing in CI fails instead of skipping:
//!
//! * the shared data mirror (`../shared/data` beside the repository) when `CI=true`
//!   ([`shared_data`], [`require_shared_data`]);
//! * privileges (mounting a tmpfs, network namespaces, `mknod`) and the `ipset` / `nft` tools
//!   when `IPSIEVE_REQUIRE_PRIVILEGED=1`, which `.ci/run` sets when it runs as root
//!   ([`skip_privileged`]).

#![forbid(unsafe_code)]

pub mod diff;
#[cfg(feature = "fetch")]
pub mod fetch;
pub mod http;
pub mod mmdb;
pub mod rules;
pub mod snapshot;

use std::path::{Path, PathBuf};

/// The repository's root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("testkit sits in the repository")
        .to_path_buf()
}

/// The vendored snapshot's manifest, `data/snapshot/sources.toml`.
pub fn snapshot_manifest() -> PathBuf {
    repo().join("data/snapshot/sources.toml")
}

/// The bytes of a file of the repository, `REL` from its root (a vendored real file).
///
/// # Panics
/// When the file cannot be read.
pub fn real(rel: &str) -> Vec<u8> {
    std::fs::read(repo().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// A fresh, empty directory `ipsieve-NAME-PID` under the system's temporary directory (what
/// was there is removed).
///
/// # Panics
/// When it cannot be created.
pub fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ipsieve-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

/// The first `n` lines of a real file (gzip undone) that are neither blank nor comments.
///
/// # Panics
/// When the file cannot be read or has fewer such lines.
pub fn real_lines(path: &Path, n: usize) -> Vec<String> {
    use std::io::BufRead;
    let lines: Vec<String> = ipsieve_sources::input::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(Result::unwrap)
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .take(n)
        .collect();
    assert_eq!(lines.len(), n, "{}", path.display());
    lines
}

/// The first `n` lines of `data/snapshot/vpn/ivpn.txt`, IVPN's server addresses.
pub fn ivpn(n: usize) -> Vec<String> {
    real_lines(&repo().join("data/snapshot/vpn/ivpn.txt"), n)
}

/// `lines` joined with `\n`, each terminated.
pub fn text(lines: &[impl AsRef<str>]) -> String {
    lines.iter().map(|l| format!("{}\n", l.as_ref())).collect()
}

/// One manifest `[[source]]` table with a `path`, then `extra` lines.
pub fn table(name: &str, format: &str, path: &str, extra: &str) -> String {
    format!("[[source]]\nname = \"{name}\"\nformat = \"{format}\"\npath = \"{path}\"\n{extra}\n")
}

/// The shared data mirror beside the repository, `../shared/data`, whether it is there or not.
pub fn shared_data_dir() -> PathBuf {
    repo().join("../shared/data")
}

/// Whether `CI=true` (GitHub Actions sets it; so does `.ci/run`).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Whether the tests that need root (or a tool root installs) must run:
/// `IPSIEVE_REQUIRE_PRIVILEGED=1`.
pub fn privileged_required() -> bool {
    std::env::var("IPSIEVE_REQUIRE_PRIVILEGED").is_ok_and(|v| v == "1")
}

/// Says that `test` did not run and why, on standard error past the test harness's capture.
pub fn skip(test: &str, why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "skipped {test}: {why}");
}

/// [`skip`] for a test that needs privileges or a system tool; with
/// `IPSIEVE_REQUIRE_PRIVILEGED=1` (`.ci/run` as root) it fails instead.
///
/// # Panics
/// When privileged tests are required here.
pub fn skip_privileged(test: &str, why: &str) {
    assert!(
        !privileged_required(),
        "{test} could not run although IPSIEVE_REQUIRE_PRIVILEGED=1: {why}"
    );
    skip(test, why);
}

/// The shared data mirror, if it is here (its `SOURCES.md` marks it). Otherwise `None` after
/// saying that `test` skipped; under `CI=true` a missing mirror fails the test instead.
///
/// # Panics
/// Under `CI=true` when the mirror is missing.
pub fn require_shared_data(test: &str) -> Option<PathBuf> {
    let dir = shared_data_dir();
    if dir.join("SOURCES.md").is_file() {
        return Some(dir);
    }
    let why = format!(
        "{} is not here (the shared data mirror beside the repository)",
        dir.display()
    );
    assert!(!in_ci(), "CI=true and {why}: this test must run in CI");
    skip(test, &why);
    None
}

/// A file of the shared data mirror, `../shared/data/REL`, or `None` after saying why (see
/// [`require_shared_data`]); under `CI=true` a missing file fails the test.
///
/// # Panics
/// Under `CI=true` when the file is missing.
pub fn shared_data(rel: &str) -> Option<PathBuf> {
    let path = shared_data_dir().join(rel);
    if path.exists() {
        return Some(path);
    }
    let why = format!("{} is not here", path.display());
    assert!(!in_ci(), "CI=true and {why}: this test must run in CI");
    skip(&format!("the check of {rel}"), &why);
    None
}

/// A small tmpfs mounted for one test and unmounted when dropped.
#[cfg(target_os = "linux")]
#[derive(Debug)]
pub struct Tmpfs(PathBuf);

#[cfg(target_os = "linux")]
impl Tmpfs {
    /// Mounts a tmpfs of `size` (`mount -o size=`) at `path`, or says why it cannot.
    ///
    /// # Errors
    /// Why `mount` could not run or failed (not root, no `CAP_SYS_ADMIN`).
    pub fn mount(path: &Path, size: &str) -> Result<Tmpfs, String> {
        std::fs::create_dir_all(path)
            .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        let o = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "ipsieve-test"])
            .arg(path)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if o.status.success() {
            Ok(Tmpfs(path.to_path_buf()))
        } else {
            Err(format!(
                "mount -t tmpfs -o size={size} failed: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            ))
        }
    }
}

#[cfg(target_os = "linux")]
impl Drop for Tmpfs {
    fn drop(&mut self) {
        let unmounted = std::process::Command::new("umount")
            .arg(&self.0)
            .status()
            .is_ok_and(|s| s.success());
        if !unmounted {
            let _ = std::process::Command::new("umount")
                .arg("-l")
                .arg(&self.0)
                .status();
        }
    }
}
