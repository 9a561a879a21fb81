//! Publishing an artifact without ever touching a live file in place.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::BuildError;

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> BuildError + '_ {
    move |source| BuildError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// `PID-N`, N counting up in this process: threads writing the same path at once must not
/// share a temporary file (one would truncate and overwrite the other's, and a mix could be
/// renamed into place).
fn unique() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The directory a path's file lives in: its parent, `.` for a bare name.
fn dir_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// A temporary file beside a destination, named `.NAME.tmp-PID-N` (unique to this process and
/// call), that only [`Temporary::persist`] turns into the destination: the one way ipsieve
/// replaces a file, whether an artifact ([`publish`]), a cached source or its sidecar
/// ([`crate::cache`], `crate::fetch`) or an export ([`write_atomically`]). Dropped without
/// being persisted (an error, a panic), it is removed; a process killed before either leaves
/// it behind, where the next write of the same destination sweeps it once it is older than
/// [`STALE_TEMPORARY`].
#[derive(Debug)]
pub struct Temporary {
    path: PathBuf,
    /// Renamed into place: nothing left to remove.
    persisted: bool,
}

impl Temporary {
    /// The temporary name beside `dest` (nothing is created yet).
    pub fn beside(dest: &Path) -> Temporary {
        let name = dest
            .file_name()
            .map_or_else(|| "ipsieve".into(), |n| n.to_string_lossy().into_owned());
        Temporary {
            path: dir_of(dest).join(format!(".{name}.tmp-{}", unique())),
            persisted: false,
        }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Creates (or truncates) the temporary file for writing.
    ///
    /// # Errors
    /// The error of creating it (a missing directory, a path component that is a file).
    pub fn create(&self) -> std::io::Result<File> {
        File::create(&self.path)
    }

    /// Makes the temporary file `dest`: fsyncs it, renames it over `dest` (an atomic
    /// replacement: a reader sees the old file or the new one, never a part), then fsyncs the
    /// directory so the rename survives a crash (best effort: not every platform can).
    ///
    /// # Errors
    /// The error of syncing or renaming; `dest` is then as it was and the temporary file is
    /// removed.
    pub fn persist(mut self, dest: &Path) -> std::io::Result<()> {
        File::options().write(true).open(&self.path)?.sync_all()?;
        fs::rename(&self.path, dest)?;
        self.persisted = true;
        if let Ok(d) = File::open(dir_of(dest)) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

impl Drop for Temporary {
    fn drop(&mut self) {
        if !self.persisted {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// An I/O error of [`write_atomically`], naming the file it happened on: the temporary file
/// while it is written and synced, the destination when it is checked or renamed over.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {source}", .path.display())]
pub struct WriteError {
    /// The file being written, or the destination.
    pub path: PathBuf,
    /// The underlying error.
    #[source]
    pub source: std::io::Error,
}

impl From<WriteError> for std::io::Error {
    fn from(e: WriteError) -> Self {
        std::io::Error::new(e.source.kind(), e.to_string())
    }
}

/// Writes `dest` the way ipsieve writes every file it publishes: `fill` writes into a
/// [`Temporary`] beside `dest` (through a buffer), which is then persisted over `dest`, so a
/// reader of `dest` (a firewall loader, a service mapping a file, a pipeline) sees the old file
/// or the new one, never a part. On any failure `dest` is left as it was. Nothing is written
/// when `dest` is there but is not a regular file ([`check_destination`]).
///
/// ```
/// use std::io::Write;
///
/// let dest = std::env::temp_dir().join("write-atomically-example.txt");
/// ipsieve_builder::write_atomically(&dest, |w| w.write_all(b"hello\n").map_err(std::io::Error::from))?;
/// assert_eq!(std::fs::read(&dest)?, b"hello\n");
/// # std::fs::remove_file(&dest)?;
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Errors
/// Whatever `fill` returns; a [`WriteError`] (converted with `From`) when `dest` is not a
/// regular file, or creating, writing, syncing or renaming fails.
pub fn write_atomically<T, E: From<WriteError>>(
    dest: &Path,
    fill: impl FnOnce(&mut dyn Write) -> Result<T, E>,
) -> Result<T, E> {
    let failed = |path: &Path| {
        let path = path.to_path_buf();
        move |source| WriteError { path, source }
    };
    check_destination(dest, &[]).map_err(failed(dest))?;
    let tmp = Temporary::beside(dest);
    let file = tmp.create().map_err(failed(tmp.path()))?;
    let mut out = std::io::BufWriter::new(file);
    let value = fill(&mut out)?;
    out.into_inner()
        .map_err(|e| failed(tmp.path())(e.into_error()))?;
    tmp.persist(dest).map_err(failed(dest))?;
    Ok(value)
}

/// How old a temporary file beside an artifact must be before a publish removes it as the
/// leftover of a killed process: writing even a large artifact takes well under a second, so
/// an hour old means no publish is still writing it.
pub const STALE_TEMPORARY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Removes leftovers of killed publishes of `name` in `dir`: regular files named
/// `.NAME.tmp-…` or `.NAME.keep-…` last modified more than [`STALE_TEMPORARY`] ago. Best
/// effort: a file that cannot be read or removed is left alone.
pub(crate) fn sweep_stale(dir: &Path, name: &str) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let (tmp, keep) = (format!(".{name}.tmp-"), format!(".{name}.keep-"));
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(n) = file_name.to_str() else {
            continue;
        };
        if !n.starts_with(&tmp) && !n.starts_with(&keep) {
            continue;
        }
        let stale = entry.metadata().is_ok_and(|m| {
            m.is_file()
                && m.modified()
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age > STALE_TEMPORARY)
        });
        if stale {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Checks that a file written for `dest` may replace what is there: nothing yet, or a regular
/// file that is none of `inputs` (see [`same_file`]). A publish renames a new file over the
/// path, so it would replace a FIFO, a device node or a symbolic link itself (as root,
/// `--out /dev/null` would replace the system's `/dev/null`), and it would replace an input
/// the run reads (`ipsieve export --db x --out x`, `ipsieve build --out` naming its manifest).
///
/// [`publish`], [`publish_keeping`] and [`write_atomically`] check their destination with no
/// inputs before writing; `ipsieve build` and `ipsieve export` check theirs against every
/// file they read before they start.
///
/// ```
/// use std::path::{Path, PathBuf};
///
/// let dir = std::env::temp_dir();
/// let e = ipsieve_builder::check_destination(&dir, &[]).unwrap_err();
/// assert_eq!(e.to_string(), "is a directory, not a regular file: refusing to replace it");
/// let manifest = dir.join("check-destination-example.toml");
/// std::fs::write(&manifest, "").unwrap();
/// let e = ipsieve_builder::check_destination(&manifest, &[&manifest]).unwrap_err();
/// assert!(e.to_string().starts_with("is the same file as "));
/// assert!(ipsieve_builder::check_destination(&dir.join("new.ipsieve"), &[&manifest]).is_ok());
/// # std::fs::remove_file(&manifest).unwrap();
/// ```
///
/// # Errors
/// An error of kind [`std::io::ErrorKind::InvalidInput`]: "is a FIFO, not a regular file:
/// refusing to replace it" (also a directory, a symbolic link, a device, a socket), or "is
/// the same file as INPUT, which this command reads: refusing to replace it; write to another
/// path". A destination that cannot be looked at (a path component that is a file) passes:
/// writing it fails with the reason.
pub fn check_destination(dest: &Path, inputs: &[&Path]) -> std::io::Result<()> {
    let refuse = |reason: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, reason);
    if let Ok(m) = fs::symlink_metadata(dest) {
        if !m.is_file() {
            return Err(refuse(format!(
                "is {}, not a regular file: refusing to replace it",
                ipsieve_sources::input::describe_file_type(m.file_type())
            )));
        }
    }
    match inputs.iter().find(|input| same_file(dest, input)) {
        Some(input) => Err(refuse(format!(
            "is the same file as {}, which this command reads: refusing to replace it; write \
             to another path",
            input.display()
        ))),
        None => Ok(()),
    }
}

/// Whether `a` and `b` name the same file: the same device and inode, symbolic links
/// followed, so that hard links and links count; when neither exists yet (two outputs of one
/// run), the same name in the same directory. Paths that cannot be looked at are different.
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (file_id(a), file_id(b)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// What identifies a file for [`same_file`].
#[derive(PartialEq, Eq)]
enum FileId {
    /// An existing file: device and inode.
    Node(u64, u64),
    /// A file that does not exist yet: its canonical directory joined with its name.
    Name(std::path::PathBuf),
}

fn file_id(path: &Path) -> Option<FileId> {
    match fs::metadata(path) {
        Ok(m) => node_id(path, &m),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let dir = match path.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            Some(FileId::Name(
                dir.canonicalize().ok()?.join(path.file_name()?),
            ))
        }
        Err(_) => None,
    }
}

#[cfg(unix)]
fn node_id(_: &Path, m: &fs::Metadata) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt;
    Some(FileId::Node(m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn node_id(path: &Path, _: &fs::Metadata) -> Option<FileId> {
    path.canonicalize().ok().map(FileId::Name)
}

/// An I/O error of one step of publishing `dest`, naming `dest` and then, in parentheses,
/// the step and the file it was working on.
fn step_err(dest: &Path, step: String) -> impl Fn(std::io::Error) -> BuildError + '_ {
    move |source| BuildError::Io {
        path: format!("{} ({step})", dest.display()),
        source,
    }
}

/// Writes `bytes` to a temporary file beside `dest` (`.NAME.tmp-PID-N`), fsyncs it, checks that
/// it opens as an artifact, renames it over `dest` and fsyncs the directory. On any failure
/// the temporary file is removed and `dest` is left as it was: the same bytes, the same inode.
/// A process killed while writing (`SIGKILL`, `SIGXFSZ`) cannot remove it: such a leftover
/// `.NAME.tmp-PID-N` is never published, and the next publish of `dest` removes it once it is
/// older than [`STALE_TEMPORARY`]. Nothing is written when `dest` is there but is not a
/// regular file ([`check_destination`]).
///
/// # Errors
/// [`BuildError::Io`] naming `dest` when it is a FIFO, a device, a directory or a symbolic
/// link ([`check_destination`]'s error as its source); on a create, write, sync or rename failure (a full disk, a file-size
/// limit, a missing directory, a path component that is a file), its `path` naming `dest` and
/// the temporary file or step, its source the OS error; [`BuildError::SelfCheck`] when the
/// written file does not open.
pub fn publish(bytes: &[u8], dest: &Path) -> Result<(), BuildError> {
    publish_keeping(bytes, dest, 0)
}

/// The most previous artifacts [`publish_keeping`] keeps (`ipsieve build --keep` allows no
/// more): each publish looks at every kept name up to it.
pub const MAX_KEEP: usize = 100;

/// The name under which [`publish_keeping`] keeps the `n`th previous artifact: `dest.n`
/// (`ipsieve.db` → `ipsieve.db.1`, `ipsieve.db.2`, …).
pub fn kept_path(dest: &Path, n: usize) -> std::path::PathBuf {
    let mut name = dest.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{n}"));
    dest.with_file_name(name)
}

/// As [`publish`], keeping the previous `keep` artifacts beside `dest`: once the new file is
/// written, synced and checked, and just before it is renamed over `dest`, `dest.{keep-1}`
/// is renamed to `dest.{keep}` (replacing it), …, `dest.1` to `dest.2`, and the file at
/// `dest` gets the second name `dest.1` (a hard link, or a fresh copy where the file system
/// has none). No published file is ever written to: a process that has `dest` or a kept file
/// mapped keeps reading the same bytes. `keep` 0 is [`publish`]; kept files past `dest.{keep}`
/// are left alone.
///
/// # Errors
/// As [`publish`]; a rename of a kept file that fails stops the publish with
/// [`BuildError::Io`] and leaves `dest` as it was (kept files already moved stay moved).
/// `keep` over [`MAX_KEEP`] is refused with [`BuildError::Io`] before anything is written.
pub fn publish_keeping(bytes: &[u8], dest: &Path, keep: usize) -> Result<(), BuildError> {
    if keep > MAX_KEEP {
        return Err(BuildError::Io {
            path: dest.display().to_string(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("keep {keep} is more than {MAX_KEEP} previous artifacts: keep fewer"),
            ),
        });
    }
    check_destination(dest, &[]).map_err(io_err(dest))?;
    let name = dest
        .file_name()
        .map_or_else(|| "ipsieve".into(), |n| n.to_string_lossy().into_owned());
    sweep_stale(&dir_of(dest), &name);
    let tmp = Temporary::beside(dest);
    let at_tmp = step_err(dest, format!("temporary file {}", tmp.path().display()));
    let mut f = tmp.create().map_err(&at_tmp)?;
    f.write_all(bytes).map_err(&at_tmp)?;
    f.sync_all().map_err(&at_tmp)?;
    drop(f);
    ipsieve::Database::open(tmp.path())?;
    if keep > 0 {
        rotate(dest, &name, keep)?;
    }
    let renaming = format!("renaming {} over it", tmp.path().display());
    tmp.persist(dest).map_err(step_err(dest, renaming))
}

/// Shifts `dest.1..dest.{keep-1}` up by one and gives the current `dest` the name `dest.1`,
/// without writing to any of them. Nothing to do when `dest` does not exist yet.
fn rotate(dest: &Path, name: &str, keep: usize) -> Result<(), BuildError> {
    match fs::symlink_metadata(dest) {
        Ok(m) if m.is_file() => {}
        Ok(_) => {
            return Err(BuildError::Io {
                path: dest.display().to_string(),
                source: std::io::Error::other("not a regular file: cannot keep it"),
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err(dest)(e)),
    }
    for n in (1..keep).rev() {
        let from = kept_path(dest, n);
        if fs::symlink_metadata(&from).is_ok() {
            let to = kept_path(dest, n + 1);
            fs::rename(&from, &to).map_err(step_err(
                dest,
                format!("renaming {} to {}", from.display(), to.display()),
            ))?;
        }
    }
    // A second name for the published file, made under a temporary name and renamed into
    // place so that `dest.1` always names a complete artifact.
    let link = dir_of(dest).join(format!(".{name}.keep-{}", unique()));
    let _ = fs::remove_file(&link);
    let first = kept_path(dest, 1);
    let result = (|| {
        if fs::hard_link(dest, &link).is_err() {
            let copying = step_err(dest, format!("copying it to {}", link.display()));
            fs::copy(dest, &link).map_err(&copying)?;
            File::open(&link)
                .and_then(|f| f.sync_all())
                .map_err(&copying)?;
        }
        fs::rename(&link, &first).map_err(step_err(
            dest,
            format!("renaming {} to {}", link.display(), first.display()),
        ))
    })();
    // Also after a success: when `dest.1` already was `dest` (a publish that failed after its
    // rotation, or another thread's rotation of the same file), renaming one name of a file
    // over another name of it does nothing (POSIX `rename`) and leaves `link` behind.
    let _ = fs::remove_file(&link);
    result
}
