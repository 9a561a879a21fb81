//! The TOML source manifest: which sources to read, in which format, asserting what. The
//! reference for users is `docs/MANIFEST.md`; a test (`builder/tests/manifest.rs`) fails when a
//! key accepted here has no row and section there.
//!
//! ```toml
//! [[source]]
//! name = "tor-exit-addresses"      # unique, lowercase [a-z0-9._-]
//! format = "tor-exit-list"         # a name of ipsieve_sources::formats::FORMATS
//! path = "tor/exit-addresses.gz"   # relative to the manifest's folder; gzip is detected
//!                                  # (optional when `url` is given: then `ipsieve fetch`
//!                                  # downloads it into a cache that `ipsieve build --cache` reads)
//! categories = ["tor_exit"]        # tor_exit, tor_relay, vpn, proxy, hosting, relay
//! provider = "Tor Project"         # optional display name
//! tier = "first-party"             # first-party | curated | asn-heuristic | keyword
//! weight = 1.0                     # optional, 0..=1
//! snapshot = "2024-03-12"          # date of the data
//! licence = "public Tor Project data"
//! url = "https://check.torproject.org/exit-addresses"
//! max_age_days = 2                  # older data is reported as stale by `ipsieve build`
//! enabled = true                    # false: declared but not built (default true)
//! max_shrink_pct = 50               # `ipsieve fetch` refuses a download with this much fewer
//!                                   # records than the cached copy (0..=100, default 50)
//! max_bytes = 268435456             # `ipsieve fetch`: largest body, before and after gunzip
//! max_reject_pct = 10               # `ipsieve build` fails (and `ipsieve fetch` keeps the cached
//!                                   # copy) when more of the entries are rejected
//! min_prefix = { v4 = 24, v6 = 48 } # the widest entry the source may assert (see below)
//! max_decompressed_bytes = 8589934592 # `ipsieve build`: a gzip / bzip2 file stops there
//! optional = false                  # true: `ipsieve build` goes on without this source when it
//!                                   # fails (see below) and the report says so
//! max_grow_pct = 200                # `ipsieve fetch` refuses a download with this much more
//!                                   # records than the cached copy (0..=100000, default 200)
//! allow_hosts = ["cdn.example.org"] # `ipsieve fetch`: other hosts a redirect (or an index's
//!                                   # link) may lead to; `*.example.org` for subdomains
//! ```
//!
//! A source whose publisher puts the date in each file's name is **dated**: `ipsieve fetch`
//! finds its newest file, and that file's date becomes the source's snapshot date (so a dated
//! source has no `snapshot`). Either its `url` has date fields (`{yyyy}`, `{mm}`, `{dd}`,
//! `{hh}`, `{hhmm}`, `{yyyymmdd}`, UTC) and a search rule, and the newest URL that exists is
//! taken (asked with `HEAD`, or a one-byte ranged `GET` where `HEAD` is refused):
//!
//! ```toml
//! url = "https://archive.routeviews.org/bgpdata/{yyyy}.{mm}/RIBS/rib.{yyyymmdd}.{hhmm}.bz2"
//! publication_step = "2h"           # a file every two hours ("1d", "2h", "30m")
//! publication_offset = "0m"         # dated at offset + k × step (default "0m")
//! candidates = 12                   # how many steps back from now to try (1..=1000, default 24)
//! ```
//!
//! or it names an `index` (a creation log, a directory listing, a download page) and the
//! `link` pattern to take from it; of the links whose path ends like the pattern, the one with
//! the newest date is fetched. The index is read only for its links (at most
//! `--max-index-bytes`), never as data, and a link to another host than the index's is refused
//! unless `allow_hosts` names that host:
//!
//! ```toml
//! index = "https://publicdata.caida.org/datasets/routing/routeviews-prefix2as/pfx2as-creation.log"
//! link = "routeviews-rv2-{yyyymmdd}-{hhmm}.pfx2as.gz"   # `*`: any characters within a segment
//! ```
//!
//! A source that stops on a fatal error (a truncated or corrupt file, an HTML page where JSON
//! belongs, a gzip past `max_decompressed_bytes`) or yields no entries at all (an empty file)
//! fails `ipsieve build`, which then publishes nothing: an artifact silently missing a source
//! would lose data users rely on. With `optional = true` the build goes on instead, keeping
//! what the source read before the error, and the report names the source and the reason
//! ([`SourceReport::optional_failure`](crate::report::SourceReport::optional_failure)). Mark
//! only sources the artifact is meant to do without (an excerpt known to be cut short, a
//! best-effort extra list).
//!
//! `min_prefix` replaces, for this source's entries, the per-category minimum prefix lengths of
//! [`Limits`](crate::Limits) (defaults in [`Limits::DEFAULT_PER_CATEGORY`](crate::Limits::DEFAULT_PER_CATEGORY):
//! tor_exit, tor_relay and proxy /24 and /48, vpn /16 and /32, relay /16 and /24, hosting
//! /8 and /16); an entry wider than the limit is rejected with its line and the limit. Tighten
//! it for a list of hosts, loosen it for a list known to hold wide blocks; the floor of /8 and
//! /16 stays. A source without categories is not held to these minimums; its routing entries
//! (with an origin ASN) still meet the /8 and /16 floor and stay out of special-purpose space
//! (see [`Limits::reject_special`](crate::Limits::reject_special)).
//!
//! Unknown keys, unknown formats, categories or tiers, malformed dates, numbers out of range
//! (`weight`, the percentages, `max_bytes`, `min_prefix`, `max_decompressed_bytes`,
//! `candidates`), a source with neither `path` nor `url` nor `index`, unknown date fields, a
//! dated `url` without `publication_step` or whose fields cannot tell its steps apart, `url`
//! and `index` together, and a dated source with a `snapshot` are errors that name the
//! manifest line of the offending `[[source]]` table.

use std::path::{Path, PathBuf};

use ipsieve::{Categories, Tier};
use serde::Deserialize;

use crate::builder::{MinPrefix, SourceSpec};
use crate::dated::{self, Pattern};
use crate::error::BuildError;

/// A source's format: an entry of the [registry](ipsieve_sources::formats) of every format
/// ipsieve reads, named in the manifest by its [`name`](ipsieve_sources::formats::Format::name)
/// (`format = "tor-exit-list"`).
pub type Format = &'static ipsieve_sources::formats::Format;

/// Reads a `format` key: a name of the registry, or an error listing them all.
fn format_by_name<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Format, D::Error> {
    let name = String::deserialize(d)?;
    ipsieve_sources::formats::by_name(&name).ok_or_else(|| {
        serde::de::Error::custom(format!(
            "unknown format '{name}' (expected one of {})",
            ipsieve_sources::formats::names()
        ))
    })
}

/// One `[[source]]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceEntry {
    /// Unique name.
    pub name: String,
    /// Input format.
    #[serde(deserialize_with = "format_by_name")]
    pub format: Format,
    /// File to read, relative to the manifest (resolved by [`Manifest::load`]). `None` for a
    /// source that only names a `url`: `ipsieve build --cache DIR` then reads the copy that
    /// `ipsieve fetch` stored (see [`crate::cache::use_cache`]).
    pub path: Option<PathBuf>,
    /// Categories asserted by every entry.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Provider display name.
    pub provider: Option<String>,
    /// Evidence tier (default first-party).
    pub tier: Option<String>,
    /// Weight, 0..=1 (default 1).
    pub weight: Option<f32>,
    /// Snapshot date, `YYYY-MM-DD`.
    pub snapshot: Option<String>,
    /// Licence statement.
    pub licence: Option<String>,
    /// Upstream URL.
    pub url: Option<String>,
    /// Age in days past which the data is stale (reported, not refused).
    pub max_age_days: Option<u32>,
    /// Whether `ipsieve build` reads this source (default true).
    pub enabled: Option<bool>,
    /// `ipsieve fetch` refuses a download with more than this percentage fewer records than the
    /// cached copy (0..=100; default [`DEFAULT_MAX_SHRINK_PCT`]; 100 turns the check off).
    pub max_shrink_pct: Option<u8>,
    /// `ipsieve fetch`: the largest body accepted, on the wire and after gunzip, in bytes
    /// (default: the fetch command's `--max-bytes`).
    pub max_bytes: Option<u64>,
    /// `ipsieve build` fails (publishing nothing) when more than this percentage of the
    /// source's entries are rejected, rather than publish part of a broken list, and `ipsieve
    /// fetch` refuses such a download, keeping the cached copy (0..=100; default
    /// [`DEFAULT_MAX_REJECT_PCT`]; 100 turns the check off). Counted by
    /// [`SourceReport::rejects_more_than`](crate::report::SourceReport::rejects_more_than).
    pub max_reject_pct: Option<u8>,
    /// The widest entry the source may assert (`{ v4 = N, v6 = M }`), in place of the
    /// per-category minimums of [`Limits`](crate::Limits) (see [`SourceSpec::min_prefix`]).
    pub min_prefix: Option<MinPrefix>,
    /// `ipsieve build`: the most bytes a gzip or bzip2 source file may decompress to; past it
    /// the source stops with a fatal error and keeps what was read (default
    /// [`ipsieve_sources::input::MAX_DECOMPRESSED`], 8 GiB).
    pub max_decompressed_bytes: Option<u64>,
    /// `ipsieve build` goes on without this source when it stops on a fatal error or yields no
    /// entries, and reports it, instead of failing (default false: see the module docs).
    pub optional: Option<bool>,
    /// `ipsieve fetch` refuses a download with more than this percentage more records than the
    /// cached copy (0..=100000; default [`DEFAULT_MAX_GROW_PCT`]): a list that suddenly grows
    /// several times over is more likely broken upstream than real.
    pub max_grow_pct: Option<u32>,
    /// `ipsieve fetch`: a page or file to read the source's current URL from (a dated source
    /// whose publisher lists its files): the link matching [`SourceEntry::link`] with the newest
    /// date is fetched. Read only for links and dates, never as data. Give either `url` or
    /// `index`.
    pub index: Option<String>,
    /// With `index`: the pattern the link's path must end with, with date fields (`{yyyy}`,
    /// `{mm}`, `{dd}`, `{hh}`, `{hhmm}`, `{yyyymmdd}`) naming at least a whole date and `*` for
    /// any characters within a path segment, e.g. `"rib.{yyyymmdd}.{hhmm}.bz2"`.
    pub link: Option<String>,
    /// For a `url` with date fields: how often upstream publishes a file (`"1d"`, `"2h"`,
    /// `"30m"`). `ipsieve fetch` tries the URL at the latest step before now, then one step
    /// earlier each time, and takes the newest that exists.
    pub publication_step: Option<String>,
    /// For a `url` with date fields: where in each step files are dated (`"12h"`: daily at
    /// 12:00 UTC; default `"0m"`).
    pub publication_offset: Option<String>,
    /// For a `url` with date fields: how many steps back to try (1..=1000, default
    /// [`DEFAULT_CANDIDATES`]).
    pub candidates: Option<u32>,
    /// `ipsieve fetch`: hosts other than the requested URL's own that a redirect may lead to,
    /// and, for an `index` source, that the index's link may point to (exact names, or
    /// `*.example.org` for any subdomain). Default: none; anything else is refused.
    pub allow_hosts: Option<Vec<String>>,
    /// 1-based line of the `[[source]]` table in the manifest (set by [`Manifest::parse`]).
    #[serde(skip)]
    pub line: usize,
}

/// Default of [`SourceEntry::max_shrink_pct`]: a download with less than half the records of
/// the cached copy is refused.
pub const DEFAULT_MAX_SHRINK_PCT: u8 = 50;

/// Default of [`SourceEntry::max_reject_pct`].
pub const DEFAULT_MAX_REJECT_PCT: u8 = 10;

/// Default of [`SourceEntry::max_grow_pct`]: a download with more than three times the
/// records of the cached copy is refused.
pub const DEFAULT_MAX_GROW_PCT: u32 = 200;

/// Default of [`SourceEntry::candidates`].
pub const DEFAULT_CANDIDATES: u32 = 24;

/// The largest [`SourceEntry::max_grow_pct`].
const MAX_GROW_PCT_LIMIT: u32 = 100_000;

/// A parsed manifest with paths resolved.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The sources, in file order.
    pub sources: Vec<SourceEntry>,
    /// `as_name_keywords = true` (before the first `[[source]]`): the build runs the AS-name
    /// keyword rule ([`crate::keywords`]).
    pub as_name_keywords: bool,
    /// `vpn_colocation = true` (before the first `[[source]]`): the build runs the VPN
    /// co-location rule ([`crate::colocation`]).
    pub vpn_colocation: bool,
}

/// The manifest as written, with the position of each source table.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    #[serde(default)]
    as_name_keywords: bool,
    #[serde(default)]
    vpn_colocation: bool,
    #[serde(rename = "source", default)]
    sources: Vec<toml::Spanned<SourceEntry>>,
}

impl Manifest {
    /// Reads and checks the manifest at `path`, resolving source paths against its folder.
    ///
    /// # Errors
    /// [`BuildError::Input`] naming the file when it is not a regular file (a FIFO, a device:
    /// checked before it is opened), cannot be read, is not valid TOML of this shape, or a
    /// source has an unknown category or tier or a bad date.
    pub fn load(path: &Path) -> Result<Manifest, BuildError> {
        let text = ipsieve_sources::input::require_regular_file(path)
            .and_then(|()| std::fs::read_to_string(path))
            .map_err(|e| {
                BuildError::Input(format!("cannot read manifest {}: {e}", path.display()))
            })?;
        let mut m = Self::parse(&text)
            .map_err(|e| BuildError::Input(format!("{}: {e}", path.display())))?;
        let base = path.parent().unwrap_or(Path::new("."));
        for s in &mut m.sources {
            if let Some(p) = &s.path {
                s.path = Some(base.join(p));
            }
        }
        Ok(m)
    }

    /// Parses manifest text (paths stay as written) and checks every source.
    ///
    /// # Errors
    /// A message naming the offending source or the TOML position: bad values, a name that is
    /// not lowercase `[a-z0-9._-]` (or starts with `.`: it names the fetch cache's files), a
    /// source with neither `path` nor `url`, a repeated name.
    pub fn parse(text: &str) -> Result<Manifest, String> {
        let raw: RawManifest = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut sources = Vec::with_capacity(raw.sources.len());
        for spanned in raw.sources {
            let line = 1 + text
                .get(..spanned.span().start)
                .map_or(0, |t| t.matches('\n').count());
            let mut s = spanned.into_inner();
            s.line = line;
            s.spec().map_err(|e| format!("line {line}: {e}"))?;
            s.check_fetch_keys()
                .map_err(|e| format!("line {line}: source '{}': {e}", s.name))?;
            if sources.iter().any(|o: &SourceEntry| o.name == s.name) {
                return Err(format!(
                    "line {line}: source '{}' is declared twice",
                    s.name
                ));
            }
            sources.push(s);
        }
        Ok(Manifest {
            sources,
            as_name_keywords: raw.as_name_keywords,
            vpn_colocation: raw.vpn_colocation,
        })
    }

    /// The sources `ipsieve build` reads (those not `enabled = false`).
    pub fn enabled(&self) -> impl Iterator<Item = &SourceEntry> {
        self.sources.iter().filter(|s| s.enabled.unwrap_or(true))
    }
}

impl SourceEntry {
    /// The checks [`Manifest::parse`] adds to [`SourceEntry::spec`]'s: a usable name, a
    /// `path` or a `url`, sane fetch limits.
    fn check_fetch_keys(&self) -> Result<(), String> {
        if !valid_name(&self.name) {
            return Err(
                "a source name must be lowercase [a-z0-9._-], not start with '.' and not end \
                 in '.meta.json'"
                    .to_owned(),
            );
        }
        if self.path.is_none() && self.url.is_none() && self.index.is_none() {
            return Err(
                "needs a `path` (a local file), a `url` or an `index` (fetched with `ipsieve \
                 fetch`)"
                    .to_owned(),
            );
        }
        if let (None, Some(url)) = (&self.path, &self.url) {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(format!(
                    "url '{url}' is not an http:// or https:// address, and there is no `path`"
                ));
            }
        }
        for (key, value) in [
            ("max_shrink_pct", self.max_shrink_pct),
            ("max_reject_pct", self.max_reject_pct),
        ] {
            if let Some(p) = value.filter(|&p| p > 100) {
                return Err(format!("{key} {p} is not a percentage (0..=100)"));
            }
        }
        if self.max_bytes == Some(0) {
            return Err("max_bytes must be at least 1".to_owned());
        }
        if self.max_decompressed_bytes == Some(0) {
            return Err("max_decompressed_bytes must be at least 1".to_owned());
        }
        if let Some(p) = self.max_grow_pct.filter(|&p| p > MAX_GROW_PCT_LIMIT) {
            return Err(format!(
                "max_grow_pct {p} is out of range (0..={MAX_GROW_PCT_LIMIT})"
            ));
        }
        self.check_dated_keys()
    }

    /// The keys of dated sources: a `url` template with its search rule, or `index` + `link`;
    /// `allow_hosts`.
    fn check_dated_keys(&self) -> Result<(), String> {
        let search_keys = [
            ("publication_step", self.publication_step.is_some()),
            ("publication_offset", self.publication_offset.is_some()),
            ("candidates", self.candidates.is_some()),
        ];
        let dated_url = match &self.url {
            Some(url) => {
                let p = Pattern::parse(url, false).map_err(|e| format!("url: {e}"))?;
                p.is_dated().then_some(p)
            }
            None => None,
        };
        if let Some(index) = &self.index {
            if self.url.is_some() {
                return Err(
                    "give either `url` (a file, or a dated template) or `index` and \
                            `link` (a page listing the files), not both"
                        .to_owned(),
                );
            }
            if !(index.starts_with("https://") || index.starts_with("http://")) {
                return Err(format!(
                    "index '{index}' is not an http:// or https:// address"
                ));
            }
            if index.contains(['{', '}']) {
                return Err(format!(
                    "index '{index}' has date fields; only `link` (and a `url` template) may"
                ));
            }
            let link = self.link.as_deref().ok_or(
                "an `index` needs a `link`: the pattern of the link to take from it, e.g. \
                 \"rib.{yyyymmdd}.{hhmm}.bz2\"",
            )?;
            Pattern::parse(link, true)
                .and_then(|p| p.resolution())
                .map_err(|e| format!("link '{link}': {e}"))?;
        } else if self.link.is_some() {
            return Err("`link` needs an `index` to take the link from".to_owned());
        }
        if let Some(template) = &dated_url {
            let step = self.publication_step.as_deref().ok_or(
                "a `url` with date fields needs `publication_step`: how often upstream \
                 publishes a file (\"1d\", \"2h\", …)",
            )?;
            let step = dated::parse_step(step).map_err(|e| format!("publication_step {e}"))?;
            let offset = match &self.publication_offset {
                Some(o) => dated::parse_step(o).map_err(|e| format!("publication_offset {e}"))?,
                None => 0,
            };
            let resolution = template.resolution().map_err(|e| format!("url: {e}"))?;
            if step % resolution != 0 {
                let (apart, add) = if resolution == 86_400 {
                    ("less than a day", "{hh} or {hhmm}")
                } else {
                    ("less than an hour", "{hhmm}")
                };
                return Err(format!(
                    "url: its date fields cannot tell apart files {apart} apart \
                     (publication_step {}): add {add}",
                    self.publication_step.as_deref().unwrap_or(""),
                ));
            }
            if offset >= step {
                return Err(format!(
                    "publication_offset {} is not shorter than publication_step {}",
                    self.publication_offset.as_deref().unwrap_or(""),
                    self.publication_step.as_deref().unwrap_or(""),
                ));
            }
            if let Some(n) = self.candidates.filter(|n| !(1..=1000).contains(n)) {
                return Err(format!("candidates {n} is out of range (1..=1000)"));
            }
        } else if let Some((key, _)) = search_keys.iter().find(|(_, set)| *set) {
            return Err(format!(
                "`{key}` belongs to a `url` with date fields ({{yyyy}}, {{mm}}, {{dd}}, …), and \
                 this source has none"
            ));
        }
        if (dated_url.is_some() || self.index.is_some()) && self.snapshot.is_some() {
            return Err(
                "a dated source takes its snapshot date from the file it resolves to: \
                        remove `snapshot`"
                    .to_owned(),
            );
        }
        if let Some(hosts) = &self.allow_hosts {
            if self.url.is_none() && self.index.is_none() {
                return Err("`allow_hosts` needs a `url` or an `index`".to_owned());
            }
            if let Some(bad) = hosts.iter().find(|h| !valid_host_pattern(h)) {
                return Err(format!(
                    "allow_hosts: '{bad}' is not a lowercase host name (or `*.` and one)"
                ));
            }
        }
        Ok(())
    }

    /// Whether `ipsieve fetch` downloads this source: it has a `url` or an `index`.
    pub fn is_fetched(&self) -> bool {
        self.url.is_some() || self.index.is_some()
    }

    /// Whether the URL this source fetches is found anew on every fetch (a `url` with date
    /// fields, or an `index`), so that its snapshot date is the date of the file found.
    pub fn is_dated(&self) -> bool {
        self.index.is_some()
            || self
                .url
                .as_deref()
                .is_some_and(|u| Pattern::parse(u, false).is_ok_and(|p| p.is_dated()))
    }

    /// What the manifest says to fetch, as one string: the `url` (a template for a dated
    /// source), or the `index` and the `link` pattern. A cached copy fetched under another
    /// origin belongs to another definition of the source.
    pub fn origin(&self) -> Option<String> {
        match (&self.url, &self.index, &self.link) {
            (Some(url), _, _) => Some(url.clone()),
            (None, Some(index), Some(link)) => Some(format!("{index} link {link}")),
            (None, Some(index), None) => Some(index.clone()),
            (None, None, _) => None,
        }
    }

    /// The growth threshold `ipsieve fetch` applies to this source, in percent.
    pub fn grow_threshold_pct(&self) -> u32 {
        self.max_grow_pct.unwrap_or(DEFAULT_MAX_GROW_PCT)
    }

    /// The shrink threshold `ipsieve fetch` applies to this source, in percent.
    pub fn shrink_threshold_pct(&self) -> u8 {
        self.max_shrink_pct.unwrap_or(DEFAULT_MAX_SHRINK_PCT)
    }

    /// The builder's declaration of this source.
    ///
    /// # Errors
    /// A message naming the source and the bad field.
    pub fn spec(&self) -> Result<SourceSpec, String> {
        let fail = |what: String| format!("source '{}': {what}", self.name);
        let mut categories = Categories::empty();
        for c in &self.categories {
            categories |= Categories::from_name(c).ok_or_else(|| {
                fail(format!(
                    "unknown category '{c}' (expected one of tor_exit, tor_relay, vpn, proxy, hosting, relay)"
                ))
            })?;
        }
        let tier = match &self.tier {
            None => Tier::FirstParty,
            Some(t) => Tier::from_name(t).ok_or_else(|| {
                fail(format!(
                    "unknown tier '{t}' (expected first-party, curated, asn-heuristic, asn-sibling or keyword)"
                ))
            })?,
        };
        // NaN is not in the range either.
        if let Some(w) = self.weight.filter(|w| !(0.0..=1.0).contains(w)) {
            return Err(fail(format!("weight {w} is outside 0..=1")));
        }
        let snapshot_day = match &self.snapshot {
            None => None,
            Some(d) => Some(
                day_number(d)
                    .ok_or_else(|| fail(format!("snapshot '{d}' is not a YYYY-MM-DD date")))?,
            ),
        };
        if let Some(m) = self.min_prefix.filter(|m| m.v4 > 32 || m.v6 > 128) {
            return Err(fail(format!(
                "min_prefix {{ v4 = {}, v6 = {} }} is not a prefix length pair (v4 0..=32, \
                 v6 0..=128)",
                m.v4, m.v6
            )));
        }
        Ok(SourceSpec {
            name: self.name.clone(),
            format: self.format.name.to_owned(),
            categories,
            provider: self.provider.clone(),
            tier,
            weight: self.weight.unwrap_or(1.0),
            snapshot_day,
            licence: self.licence.clone(),
            url: self.url.clone(),
            min_prefix: self.min_prefix,
        })
    }
}

/// A source name usable as a cache file name: `[a-z0-9._-]`, not empty, not starting with `.`,
/// not ending like a sidecar (`.meta.json`).
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && !name.ends_with(".meta.json")
        && name
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b"-_.".contains(&c))
}

/// An `allow_hosts` entry: a lowercase host name, or `*.` and one.
fn valid_host_pattern(h: &str) -> bool {
    let name = h.strip_prefix("*.").unwrap_or(h);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        })
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date.
pub fn day_number(date: &str) -> Option<u32> {
    let ts = ipsieve_sources::time::Timestamp::parse_date(date)?;
    u32::try_from(ts.0.div_euclid(86_400)).ok()
}

/// `YYYY-MM-DD` of a day number.
pub fn day_string(day: u32) -> String {
    let ts = ipsieve_sources::time::Timestamp(i64::from(day) * 86_400).to_string();
    ts.get(..10).unwrap_or(&ts).to_owned()
}
