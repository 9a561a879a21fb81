//! `ipsieve stats FILE`: what an artifact holds (build time, format, sources with snapshot
//! dates and licences), as text or as the JSON the nightly pipeline's ATTRIBUTION is made from.

use std::io::Write;
use std::path::Path;

use anyhow::Result;
use ipsieve_builder::manifest::day_string;

use crate::output;

/// Runs `ipsieve stats`.
pub(crate) fn run(path: &Path, json: bool) -> Result<()> {
    let db = crate::open_db(path)?;
    let mut out = output::stdout();
    if json {
        let sources: Vec<_> = db
            .sources()
            .map(|s| {
                serde_json::json!({
                    "name": s.name(),
                    "format": s.format(),
                    "tier": s.tier().to_string(),
                    "snapshot": s.snapshot_day().map(day_string),
                    "categories": s.categories().names().collect::<Vec<_>>(),
                    "provider": s.provider(),
                    "licence": s.licence(),
                    "url": s.url(),
                })
            })
            .collect();
        let v = serde_json::json!({
            "file": path.display().to_string(),
            "size": db.len(),
            "format": format!("{}.{}", db.format_version().0, db.format_version().1),
            "built": day_string((db.build_time() / 86_400) as u32),
            "build_time": db.build_time(),
            "records": db.record_count(),
            "metadata": db.metadata().collect::<std::collections::BTreeMap<_, _>>(),
            "sources": sources,
        });
        serde_json::to_writer_pretty(&mut out, &v)?;
        writeln!(out)?;
        out.flush()?;
        return Ok(());
    }
    writeln!(
        out,
        "file:        {}",
        output::escape(&path.display().to_string())
    )?;
    writeln!(out, "size:        {} bytes", db.len())?;
    writeln!(
        out,
        "format:      {}.{}",
        db.format_version().0,
        db.format_version().1
    )?;
    writeln!(
        out,
        "built:       {} (Unix {})",
        day_string((db.build_time() / 86_400) as u32),
        db.build_time()
    )?;
    writeln!(out, "records:     {}", db.record_count())?;
    for (k, v) in db.metadata() {
        let (k, v) = (output::escape(k), output::escape(v));
        writeln!(out, "meta:        {k} = {v}")?;
    }
    writeln!(out, "sources:")?;
    // A header, then columns as wide as their widest cell (names and formats vary in length).
    let rows: Vec<[String; 6]> = db
        .sources()
        .map(|s| {
            let cats = s.categories().to_string();
            [
                output::escape(s.name()).into_owned(),
                output::escape(s.format()).into_owned(),
                s.tier().to_string(),
                s.snapshot_day().map_or_else(|| "-".to_owned(), day_string),
                if cats.is_empty() {
                    "-".to_owned()
                } else {
                    cats
                },
                output::escape(s.licence().unwrap_or("-")).into_owned(),
            ]
        })
        .collect();
    let header = [
        "name",
        "format",
        "tier",
        "snapshot",
        "categories",
        "licence",
    ];
    let widths = output::fitted_widths(&header, &rows);
    output::write_row(&mut out, "  ", &header, &widths)?;
    for r in &rows {
        output::write_row(&mut out, "  ", r, &widths)?;
    }
    out.flush()?;
    Ok(())
}
