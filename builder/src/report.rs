//! The build report: per source what was read and rejected, per category what is covered.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

use crate::compile::CompileStats;

/// Most rejected entries quoted per source.
pub const MAX_QUOTED_ERRORS: usize = 10;

/// What reading one source produced.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SourceReport {
    /// The source's name.
    pub name: String,
    /// Its format.
    pub format: String,
    /// Entries parsed successfully.
    pub read: u64,
    /// Entries rejected (by the parser or the builder).
    pub rejected: u64,
    /// Of those, entries the parser could not read (the others were read, then refused).
    pub unparsable: u64,
    /// The first rejected entries, each naming the source, line and reason.
    pub errors: Vec<String>,
    /// An error that stopped reading the source early. The build fails on it unless the source
    /// is [`optional`](SourceReport::optional) (then what was read before still counts).
    pub fatal: Option<String>,
    /// Whether the manifest marks the source `optional = true`.
    pub optional: bool,
    /// Why an optional source failed and what the build did instead: "built without it: …"
    /// (no entry read), or "built with the N entries read before it stopped: …". `None` when
    /// the source did not fail.
    pub optional_failure: Option<String>,
    /// Distinct entries the source adds to the build: networks and ranges (an entry equal to
    /// an earlier one of the source in range and every attribute counts once: see
    /// [`duplicates`](SourceReport::duplicates)), AS names and ASN-list entries. Each `read`
    /// entry is one of: `entries`, `duplicates`, rejected after parsing, or skipped (with a
    /// warning saying why).
    pub entries: u64,
    /// Entries equal to an earlier entry of the same source (the Tor exit list names an
    /// address once per relay behind it; AWS lists a prefix once per service): read, counted
    /// once, not an error.
    pub duplicates: u64,
    /// Warnings that do not reject anything: stale data, entries repeating an earlier entry
    /// of the source (or its range with other attributes), AS 0 ranges skipped.
    pub warnings: Vec<String>,
    /// The source's snapshot date (`YYYY-MM-DD`) as the artifact records it: the manifest's
    /// `snapshot`, the date of the file a dated source resolved to, or the fetch day. Read
    /// back from the artifact by [`BuildReport::add_coverage`].
    pub snapshot: Option<String>,
    /// The source's URL as the artifact records it (for a dated source, the file it resolved
    /// to). Read back by [`BuildReport::add_coverage`].
    pub url: Option<String>,
}

impl SourceReport {
    /// Entries the source held: those parsed ([`read`](SourceReport::read)) and those the
    /// parser could not read ([`unparsable`](SourceReport::unparsable)). A parsed entry the
    /// builder refused is one of the `read`, so it is not counted twice.
    pub fn entries_seen(&self) -> u64 {
        self.read + self.unparsable
    }

    /// Whether more than `pct` percent of the [entries seen](SourceReport::entries_seen) were
    /// rejected: the one reject count, which `ipsieve build` (the manifest's `max_reject_pct`)
    /// and `ipsieve fetch`'s content check (the same limit) both apply. Never for 100 or a
    /// source that held nothing.
    ///
    /// ```
    /// let mut r = ipsieve_builder::report::SourceReport { read: 9, unparsable: 1, ..Default::default() };
    /// r.reject("vpn: line 3: not an address".into()); // the unparsable line
    /// r.reject("vpn: line 7: wider than a /16".into()); // a parsed entry the builder refused
    /// assert_eq!((r.rejected, r.entries_seen()), (2, 10));
    /// assert!(r.rejects_more_than(10) && !r.rejects_more_than(20));
    /// ```
    pub fn rejects_more_than(&self, pct: u8) -> bool {
        let seen = u128::from(self.entries_seen());
        pct < 100 && seen > 0 && u128::from(self.rejected) * 100 > u128::from(pct) * seen
    }

    /// Records a rejected entry, quoting at most [`MAX_QUOTED_ERRORS`].
    pub fn reject(&mut self, message: String) {
        self.rejected += 1;
        if self.errors.len() < MAX_QUOTED_ERRORS {
            self.errors.push(message);
        }
    }
}

/// The report `ipsieve build` prints.
#[derive(Debug, Clone, Serialize)]
pub struct BuildReport {
    /// Per source, in manifest order.
    pub sources: Vec<SourceReport>,
    /// Disjoint ranges (IPv4, IPv6) in the index.
    pub ranges: (usize, usize),
    /// Distinct records.
    pub records: usize,
    /// Bytes of the index (tries), excluding records and strings.
    pub index_bytes: usize,
    /// Per category: IPv4 ranges and addresses, IPv6 ranges and addresses.
    pub categories: Vec<CategoryLine>,
    /// The sources the AS-organisation sibling rule derived, with the ASNs that inherit and
    /// those held back ([`crate::siblings`]).
    pub siblings: Vec<crate::siblings::SiblingLine>,
    /// Per aggregate, the addresses whose hosting claim was held back inside eyeball networks
    /// ([`crate::eyeball`]).
    pub eyeball_held: Vec<crate::EyeballHeld>,
    /// The ASNs the VPN co-location rule flagged and held back ([`crate::colocation`]).
    pub colocation: crate::colocation::ColocationLine,
    /// The ASNs the AS-name keyword rule flagged and held back ([`crate::keywords`]).
    pub keywords: crate::keywords::KeywordLine,
    /// Artifact size in bytes.
    pub artifact_bytes: usize,
    /// Wall-clock build time in seconds.
    pub seconds: f64,
    /// Per category (`any` first), provider and source: what the artifact covers, read back
    /// from it (the numbers `ipsieve diff` compares). Empty until
    /// [`add_coverage`](BuildReport::add_coverage).
    pub coverage: Vec<CoverageLine>,
}

/// What one category, provider or source covers in the artifact.
#[derive(Debug, Clone, Serialize)]
pub struct CoverageLine {
    /// `any`, `category`, `provider` or `source`.
    pub kind: &'static str,
    /// Its name.
    pub name: String,
    /// Maximal runs of IPv4 addresses.
    pub v4_ranges: u64,
    /// IPv4 addresses.
    pub v4_addresses: u64,
    /// Maximal runs of IPv6 addresses.
    pub v6_ranges: u64,
    /// IPv6 addresses, as a decimal string (may exceed 64 bits).
    pub v6_addresses: String,
}

/// One category's coverage in the report.
#[derive(Debug, Clone, Serialize)]
pub struct CategoryLine {
    /// Category name.
    pub category: &'static str,
    /// IPv4 ranges.
    pub v4_ranges: u64,
    /// IPv4 addresses.
    pub v4_addresses: u64,
    /// IPv6 ranges.
    pub v6_ranges: u64,
    /// IPv6 addresses, as a decimal string (may exceed 64 bits).
    pub v6_addresses: String,
}

impl BuildReport {
    /// Assembles a report.
    pub fn new(
        sources: Vec<SourceReport>,
        stats: &CompileStats,
        artifact_bytes: usize,
        elapsed: Duration,
    ) -> Self {
        BuildReport {
            sources,
            ranges: stats.ranges,
            records: stats.records,
            index_bytes: stats.index_bytes,
            categories: stats
                .per_category
                .iter()
                .map(|(name, c)| CategoryLine {
                    category: name,
                    v4_ranges: c.v4_ranges,
                    v4_addresses: c.v4_addresses,
                    v6_ranges: c.v6_ranges,
                    v6_addresses: c.v6_addresses.to_string(),
                })
                .collect(),
            siblings: stats.siblings.clone(),
            eyeball_held: stats.eyeball_held.clone(),
            colocation: stats.colocation.clone(),
            keywords: stats.keywords.clone(),
            artifact_bytes,
            seconds: elapsed.as_secs_f64(),
            coverage: Vec::new(),
        }
    }

    /// Fills [`coverage`](BuildReport::coverage) by walking the built artifact once, and each
    /// source's [`snapshot`](SourceReport::snapshot) and [`url`](SourceReport::url) from the
    /// artifact's source table.
    pub fn add_coverage(&mut self, db: &ipsieve::Database) {
        for s in &mut self.sources {
            if let Some(t) = db.sources().find(|t| t.name() == s.name) {
                s.snapshot = t.snapshot_day().map(crate::manifest::day_string);
                s.url = t.url().map(str::to_owned);
            }
        }
        self.coverage = crate::diff::diff(db, db, 0)
            .keys
            .into_iter()
            .map(|k| CoverageLine {
                kind: k.kind.as_str(),
                v4_ranges: k.v4.new.ranges,
                v4_addresses: u64::try_from(k.v4.new.addresses).unwrap_or(u64::MAX),
                v6_ranges: k.v6.new.ranges,
                v6_addresses: k.v6.new.addresses.to_string(),
                name: k.name,
            })
            .collect();
    }

    /// True when any source was rejected entries, stopped early or (optional) failed.
    pub fn has_problems(&self) -> bool {
        self.sources
            .iter()
            .any(|s| s.rejected > 0 || s.fatal.is_some() || s.optional_failure.is_some())
    }
}

impl fmt::Display for BuildReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "sources:")?;
        writeln!(
            f,
            "  {:<32} {:>10} {:>9} {:>10} {:>10}",
            "name", "seen", "rejected", "duplicates", "entries"
        )?;
        // `seen` = every entry the source held (parsed or not): seen = rejected + duplicates +
        // entries, plus any skipped with a warning.
        for s in &self.sources {
            writeln!(
                f,
                "  {:<32} {:>10} {:>9} {:>10} {:>10}",
                s.name,
                s.entries_seen(),
                s.rejected,
                s.duplicates,
                s.entries
            )?;
            for e in &s.errors {
                writeln!(f, "      rejected: {e}")?;
            }
            if s.rejected as usize > s.errors.len() {
                writeln!(
                    f,
                    "      … and {} more",
                    s.rejected as usize - s.errors.len()
                )?;
            }
            if let Some(e) = &s.fatal {
                writeln!(f, "      stopped early: {e}")?;
            }
            if let Some(e) = &s.optional_failure {
                writeln!(f, "      optional, {e}")?;
            }
            for w in &s.warnings {
                writeln!(f, "      warning: {w}")?;
            }
        }
        writeln!(f, "categories:")?;
        writeln!(
            f,
            "  {:<10} {:>10} {:>14} {:>10} {:>40}",
            "category", "v4 ranges", "v4 addresses", "v6 ranges", "v6 addresses"
        )?;
        for c in &self.categories {
            writeln!(
                f,
                "  {:<10} {:>10} {:>14} {:>10} {:>40}",
                c.category, c.v4_ranges, c.v4_addresses, c.v6_ranges, c.v6_addresses
            )?;
        }
        if !self.siblings.is_empty() {
            writeln!(f, "AS-organisation siblings:")?;
        }
        for l in &self.siblings {
            let held = |why| l.held_back.iter().filter(|h| h.1 == why).count();
            writeln!(
                f,
                "  {}: {} ASNs inherit {}'s categories; held back: {} for their share of a \
                 country's routed space, {} for an organisation that runs such a network, {} \
                 for announcing more than their organisation's listed ASNs; {} generic \
                 organisation names skipped",
                l.source,
                l.asns.len(),
                l.from,
                held(crate::siblings::HeldBack::EyeballShare),
                held(crate::siblings::HeldBack::EyeballOrganisation),
                held(crate::siblings::HeldBack::BiggerThanListed),
                l.generic_orgs
            )?;
        }
        if !self.colocation.is_empty() {
            writeln!(
                f,
                "VPN co-location: {} ASNs announcing the servers of {} or more VPN providers get \
                 hosting at tier asn-heuristic ({}); {} held back as eyeball networks",
                self.colocation.asns.len(),
                crate::colocation::MIN_PROVIDERS,
                crate::colocation::SOURCE,
                self.colocation.eyeball.len()
            )?;
        }
        if !self.keywords.is_empty() {
            writeln!(
                f,
                "AS-name keywords: {} ASNs named like hosters get hosting at tier keyword ({}); \
                 {} held back as eyeball networks, {} named as access networks",
                self.keywords.asns.len(),
                crate::keywords::SOURCE,
                self.keywords.eyeball.len(),
                self.keywords.access.len()
            )?;
        }
        for h in &self.eyeball_held {
            writeln!(
                f,
                "aggregate inside eyeball networks: {}'s hosting claim held back on {} IPv4 and \
                 {} IPv6 addresses",
                h.source, h.v4_addresses, h.v6_addresses
            )?;
        }
        writeln!(
            f,
            "index: {} IPv4 + {} IPv6 disjoint ranges, {} distinct records, {} index bytes",
            self.ranges.0, self.ranges.1, self.records, self.index_bytes
        )?;
        write!(
            f,
            "artifact: {} bytes ({:.2} MiB), built in {:.2} s",
            self.artifact_bytes,
            self.artifact_bytes as f64 / (1024.0 * 1024.0),
            self.seconds
        )
    }
}
