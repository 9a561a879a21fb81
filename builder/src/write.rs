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
