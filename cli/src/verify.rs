//! `ipsieve verify FILE`: the whole-file checksum and structure check.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};

use crate::output;

/// Runs `ipsieve verify`.
pub(crate) fn run(path: &Path) -> Result<()> {
    let started = Instant::now();
    let db = crate::open_db(path)?;
    db.verify()
        .with_context(|| format!("verifying {}", path.display()))?;
    let mut stdout = output::stdout();
    writeln!(
        stdout,
        "{}: ok ({} bytes, format {}.{}, verified in {:.1} ms)",
        output::escape(&path.display().to_string()),
        db.len(),
        db.format_version().0,
        db.format_version().1,
        started.elapsed().as_secs_f64() * 1e3
    )?;
    stdout.flush()?;
    Ok(())
}
