//! Reading a manifest's sources into a [`Builder`]: each source's format (an entry of the
//! [registry](ipsieve_sources::formats)) opens and reads its file and yields
//! [`Entry`] values, which one sink, the same for every
//! format, adds to the builder while counting what the report says.
//!
//! A bad entry is reported (source, line, reason) and skipped; the rest of the source still
//! counts. A stream that ends in an error (a truncated download, a compressed file past
//! `max_decompressed_bytes`) keeps what was read before and says where it stopped. Entries
//! that repeat an earlier entry of the same source are counted once and reported as a warning
//! with both lines, as are entries restating an earlier range with other attributes (resolved
//! like any overlap: categories merged, the smallest ASN, country and provider win); ranges of
//! AS 0 in IP-to-AS tables (unrouted space, RFC 7607) are skipped and counted.
//!
//! A source file that cannot be opened, a source that stops on a fatal error (a truncated
//! download, an HTML page, a corrupt gzip) and a source that yields no entries fail the build:
//! publishing an artifact silently missing a source would lose data users rely on. A source
//! the manifest marks `optional = true` is reported instead
//! ([`SourceReport::optional_failure`]), keeping what it read before the error.

use std::collections::BTreeMap;

use ipsieve_sources::formats::{Entry, Sink, Skip};
use ipsieve_sources::{input, ParseError, Position};

use crate::builder::{Builder, SourceId};
use crate::error::BuildError;
use crate::manifest::{Manifest, SourceEntry};
use crate::report::SourceReport;

/// Reads every source of `manifest` into `builder`, calling `progress` with each source's name
/// before reading it, and returns one report per source in manifest order.
///
/// # Errors
/// [`BuildError::Input`] when the manifest has no enabled source, a source is invalid, its
/// file cannot be opened, it stops on a fatal error or yields no entries (unless it is
/// `optional`), or it rejects more than its `max_reject_pct`; [`BuildError::DuplicateSource`]
/// for a repeated name.
pub fn load_manifest(
    manifest: &Manifest,
    builder: &mut Builder,
    mut progress: impl FnMut(&str),
) -> Result<Vec<SourceReport>, BuildError> {
    if manifest.enabled().next().is_none() {
        // An empty artifact answers "nothing known" everywhere: published over a real one, it
        // would silently lose every answer.
        return Err(BuildError::Input(format!(
            "the manifest has no enabled source ({} declared{}): nothing to build; declare a \
             `[[source]]` (docs/MANIFEST.md) or enable one",
            manifest.sources.len(),
            if manifest.sources.is_empty() {
                ""
            } else {
                ", every one `enabled = false`"
            }
        )));
    }
    builder.as_name_keywords |= manifest.as_name_keywords;
    builder.vpn_colocation |= manifest.vpn_colocation;
    let mut reports = Vec::with_capacity(manifest.sources.len());
    for entry in manifest.enabled() {
        progress(&entry.name);
        reports.push(load_source(entry, builder)?);
    }
    Ok(reports)
}

/// Reads one source into `builder`.
///
/// # Errors
/// As [`load_manifest`].
pub fn load_source(entry: &SourceEntry, builder: &mut Builder) -> Result<SourceReport, BuildError> {
    let spec = entry.spec().map_err(BuildError::Input)?;
    let Some(path) = entry.path.as_deref() else {
        return Err(BuildError::Input(format!(
            "line {}: source '{}' has only a `url` and no cached copy was given: run \
             `ipsieve fetch --sources FILE --cache DIR`, then build with `--cache DIR`",
            entry.line, entry.name
        )));
    };
    let id = builder.add_source(spec)?;
    let max_decompressed = entry
        .max_decompressed_bytes
        .unwrap_or(input::MAX_DECOMPRESSED);
    let format = entry.format;
    let reader = format.open(path, max_decompressed).map_err(|e| {
        BuildError::Input(format!(
            "source '{}': cannot open {}: {e}",
            entry.name,
            path.display()
        ))
    })?;
    let mut rep = SourceReport {
        name: entry.name.clone(),
        format: format.name.to_owned(),
        optional: entry.optional.unwrap_or(false),
        ..SourceReport::default()
    };
    if let (Some(max), Some(day)) = (entry.max_age_days, spec_day(entry)) {
        let age = (builder.time() / 86_400).saturating_sub(u64::from(day));
        if age > u64::from(max) {
            rep.warnings.push(format!(
                "data is {age} days old at build time (snapshot {}, max_age_days {max}): stale",
                entry.snapshot.as_deref().unwrap_or("?")
            ));
        }
    }
    let mark = builder.entry_counts();
    let mut into = Loading {
        builder: &mut *builder,
        id,
        rep: &mut rep,
        at: EntryLines::default(),
        skipped: BTreeMap::new(),
        names: 0,
    };
    format.read(reader, &entry.name, &mut into);
    let Loading {
        at, skipped, names, ..
    } = into;
    for (why, n) in skipped {
        rep.warnings.push(why.describe(n));
    }
    let (duplicates, warnings) = at.repeats(builder, mark);
    rep.duplicates = duplicates;
    rep.warnings.extend(warnings);
    let now = builder.entry_counts();
    let added = (now.0 - mark.0 + now.1 - mark.1) as u64;
    rep.entries = added.saturating_sub(duplicates) + names;
    let limit = entry
        .max_reject_pct
        .unwrap_or(crate::manifest::DEFAULT_MAX_REJECT_PCT);
    if rep.rejects_more_than(limit) {
        return Err(BuildError::Input(format!(
            "line {}: source '{}': {} of {} entries rejected, over max_reject_pct {limit}: \
             refusing to publish part of a broken list (first: {})",
            entry.line,
            entry.name,
            rep.rejected,
            rep.entries_seen(),
            rep.errors.first().map_or("-", String::as_str)
        )));
    }
    check_failure(entry, path, &mut rep)?;
    Ok(rep)
}

/// Fails the build when the source stopped on a fatal error or yielded no entries, unless it
/// is optional: then notes in the report why, and what the build keeps of it.
fn check_failure(
    entry: &SourceEntry,
    path: &std::path::Path,
    rep: &mut SourceReport,
) -> Result<(), BuildError> {
    let why = match (&rep.fatal, rep.read) {
        (Some(fatal), _) => format!("stopped early: {fatal}"),
        (None, 0) => format!(
            "yielded no entries from {} (an empty file, or not {} data)",
            path.display(),
            entry.format.name
        ),
        (None, _) => return Ok(()),
    };
    if rep.optional {
        rep.optional_failure = Some(if rep.read == 0 {
            format!("built without it: {why}")
        } else {
            format!(
                "built with the {} entries read before it stopped: {why}",
                rep.read
            )
        });
        return Ok(());
    }
    let hint = "refusing to publish without it (fix or fetch the file again, or mark the source \
                `optional = true`)";
    let message = match &rep.fatal {
        Some(fatal) => format!("source '{}' stopped early, {hint}: {fatal}", entry.name),
        None => format!("source '{}' {why}, {hint}", entry.name),
    };
    Err(BuildError::Input(format!("line {}: {message}", entry.line)))
}

/// The source's snapshot day, if it declares one.
fn spec_day(entry: &SourceEntry) -> Option<u32> {
    entry
        .snapshot
        .as_deref()
        .and_then(crate::manifest::day_number)
}

/// Where each entry one source added was read, per family, in the builder's order.
#[derive(Debug, Default)]
struct EntryLines {
    v4: Vec<Position>,
    v6: Vec<Position>,
}

impl EntryLines {
    /// Notes that the entries added between `before` and `after` (entry counts) came from
    /// `position`.
    fn note(&mut self, before: (usize, usize), after: (usize, usize), position: Position) {
        let (v4, v6) = (after.0 - before.0, after.1 - before.1);
        self.v4.extend(std::iter::repeat_n(position, v4));
        self.v6.extend(std::iter::repeat_n(position, v6));
    }

    /// The entries added since `mark` that repeat an earlier entry's range: how many are the
    /// same entry again (counted once in the artifact: a normal property of many lists, so no
    /// warning), and a warning for those with the same range and other attributes (resolved
    /// as the compiler always does, by the smallest value), naming the first pair.
    fn repeats(&self, builder: &Builder, mark: (usize, usize)) -> (u64, Vec<String>) {
        let mut out = Vec::new();
        let mut same = 0;
        for (v6, from, at) in [(false, mark.0, &self.v4), (true, mark.1, &self.v6)] {
            let r = builder.repeats_since(v6, from);
            let pos = |i: usize| at.get(i).map_or(Position::Whole, |p| *p);
            same += r.same;
            if let Some((earlier, later)) = r.first_differing {
                out.push(format!(
                    "entries restating an earlier entry's range with other attributes: {} \
                     (first: {} at {}, then {} at {}); categories are merged, of ASN, country \
                     and provider the smallest wins",
                    r.differing,
                    builder.entry_summary(v6, from + earlier),
                    pos(earlier),
                    builder.entry_summary(v6, from + later),
                    pos(later)
                ));
            }
        }
        (same, out)
    }
}

/// Where a source's entries go: into the builder, with what the report counts. The one place
/// that turns what any format yields ([`Entry`]) into builder calls.
struct Loading<'a> {
    builder: &'a mut Builder,
    id: SourceId,
    rep: &'a mut SourceReport,
    /// Where each added entry came from, to name the lines of repeated entries.
    at: EntryLines,
    /// Records that asserted nothing, per reason.
    skipped: BTreeMap<Skip, u64>,
    /// AS names and ASN-list entries added: entries without a range.
    names: u64,
}

impl Loading<'_> {
    fn add(&mut self, entry: Entry) -> Result<(), BuildError> {
        let (b, id) = (&mut *self.builder, self.id);
        match entry {
            Entry::Net(net, attrs) => b.add_net(id, net, attrs),
            Entry::Range(first, last, attrs) => b.add_range(id, first, last, attrs),
            Entry::AsName(asn, name) => {
                b.add_as_name(asn, name);
                self.names += 1;
                Ok(())
            }
            Entry::AsCountry(asn, cc) => {
                // Part of the AS-name record beside it, counted with the name.
                b.add_as_country(asn, cc);
                Ok(())
            }
            Entry::Asn(asn) => {
                b.add_asn(id, asn)?;
                self.names += 1;
                Ok(())
            }
            Entry::Skipped(why) => {
                *self.skipped.entry(why).or_default() += 1;
                Ok(())
            }
            Entry::Registry(registry) => {
                // Part of the delegation beside it.
                b.add_rir_registry(registry);
                Ok(())
            }
        }
    }
}

impl Sink for Loading<'_> {
    /// Adds a record's entries; the first the builder refuses rejects the record (quoted with
    /// its position) and the rest of it is not added.
    fn record(&mut self, position: Position, entries: &mut dyn Iterator<Item = Entry>) {
        self.rep.read += 1;
        let before = self.builder.entry_counts();
        for entry in entries {
            if let Err(e) = self.add(entry) {
                let message = format!("{}: {position}: {e}", self.rep.name);
                self.rep.reject(message);
                break;
            }
        }
        let after = self.builder.entry_counts();
        self.at.note(before, after, position);
    }

    fn error(&mut self, e: ParseError) {
        if e.fatal {
            self.rep.fatal = Some(e.to_string());
        } else {
            self.rep.unparsable += 1;
            self.rep.reject(e.to_string());
        }
    }
}
