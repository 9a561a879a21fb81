//! Publishing an artifact without ever touching a live file in place.

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

use crate::error::BuildError;

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> BuildError + '_ {
    move |source| BuildError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Writes `bytes` to a temporary file beside `dest`, fsyncs it, checks that it opens as an
/// artifact, renames it over `dest` and fsyncs the directory. On any failure the temporary
/// file is removed and `dest` is left as it was.
///
/// # Errors
/// [`BuildError::Io`] on a write, sync or rename failure; [`BuildError::SelfCheck`] when the
/// written file does not open.
pub fn publish(bytes: &[u8], dest: &Path) -> Result<(), BuildError> {
    publish_keeping(bytes, dest, 0)
}

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
pub fn publish_keeping(bytes: &[u8], dest: &Path, keep: usize) -> Result<(), BuildError> {
    let dir = match dest.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = dest
        .file_name()
        .map_or_else(|| "ipsieve".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = File::create(&tmp).map_err(io_err(&tmp))?;
        f.write_all(bytes).map_err(io_err(&tmp))?;
        f.sync_all().map_err(io_err(&tmp))?;
        drop(f);
        ipsieve::Database::open(&tmp)?;
        if keep > 0 {
            rotate(dest, &dir, &name, keep)?;
        }
        fs::rename(&tmp, dest).map_err(io_err(dest))?;
        if let Ok(d) = File::open(&dir) {
            // Persist the rename; not every platform can sync a directory, so best effort.
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Shifts `dest.1..dest.{keep-1}` up by one and gives the current `dest` the name `dest.1`,
/// without writing to any of them. Nothing to do when `dest` does not exist yet.
fn rotate(dest: &Path, dir: &Path, name: &str, keep: usize) -> Result<(), BuildError> {
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
            fs::rename(&from, &to).map_err(io_err(&to))?;
        }
    }
    // A second name for the published file, made under a temporary name and renamed into
    // place so that `dest.1` always names a complete artifact.
    let link = dir.join(format!(".{name}.keep-{}", std::process::id()));
    let _ = fs::remove_file(&link);
    let first = kept_path(dest, 1);
    let result = (|| {
        if fs::hard_link(dest, &link).is_err() {
            fs::copy(dest, &link).map_err(io_err(&link))?;
            File::open(&link)
                .and_then(|f| f.sync_all())
                .map_err(io_err(&link))?;
        }
        fs::rename(&link, &first).map_err(io_err(&first))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&link);
    }
    result
}
