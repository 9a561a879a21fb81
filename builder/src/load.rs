//! Reading a manifest's sources with the `ipsieve-sources` parsers into a [`Builder`].
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

use ipnet::IpNet;
use ipsieve::Categories;
use ipsieve_sources::rir::{Resource, RirRecord};
use ipsieve_sources::tor_consensus::ConsensusItem;
use ipsieve_sources::{
    asn_list, asnames, aws, azure, bad_asn, geofeed, geofeed_json, google, icloud, input,
    ip_location_db, ipcat, ipfetcher, iptoasn, mmdb, mrt, mullvad, oracle, pfx2as, plain, proxy,
    rir, tor, tor_consensus, GeofeedEntry, Located, ParseError, Position,
};

use crate::builder::{Attrs, Builder, SourceId};
use crate::error::BuildError;
use crate::manifest::{Format, Manifest, SourceEntry};
use crate::report::SourceReport;

/// Reads every source of `manifest` into `builder`, calling `progress` with each source's name
/// before reading it, and returns one report per source in manifest order.
///
/// # Errors
/// [`BuildError::Input`] when a source is invalid, its file cannot be opened, it stops on a
/// fatal error or yields no entries (unless it is `optional`), or it rejects more than its
/// `max_reject_pct`; [`BuildError::DuplicateSource`] for a repeated name.
pub fn load_manifest(
    manifest: &Manifest,
    builder: &mut Builder,
    mut progress: impl FnMut(&str),
) -> Result<Vec<SourceReport>, BuildError> {
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
    let reader = input::open_with_limit(path, max_decompressed).map_err(|e| {
        BuildError::Input(format!(
            "source '{}': cannot open {}: {e}",
            entry.name,
            path.display()
        ))
    })?;
    let mut rep = SourceReport {
        name: entry.name.clone(),
        format: entry.format.as_str().to_owned(),
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
    let name = entry.name.as_str();
    // Where each entry came from, to name the lines of repeated entries.
    let mut at = EntryLines::default();
    let mark = builder.entry_counts();
    // Ranges of AS 0 in an IP-to-AS table: space no AS announces, skipped.
    let mut unrouted = 0u64;
    let net = |b: &mut Builder, n: IpNet| b.add_net(id, n, Attrs::default());
    // A network with the country it is located in (geofeeds and their relatives).
    let located = |b: &mut Builder, g: GeofeedEntry| {
        let attrs = Attrs {
            country: g.country,
            ..Attrs::default()
        };
        b.add_net(id, g.network, attrs)
    };
    match entry.format {
        Format::TorExitList => drain(
            tor::parse_located(reader, name),
            &mut rep,
            &mut at,
            builder,
            |b, r| net(b, IpNet::from(r.address)),
        ),
        Format::IpList => drain(
            plain::parse_located(reader, name),
            &mut rep,
            &mut at,
            builder,
            net,
        ),
        Format::AwsIpRanges => drain(
            aws::parse_located(reader, name),
            &mut rep,
            &mut at,
            builder,
            |b, r| net(b, r.net),
        ),
        Format::GoogleCloud => drain(
            google::parse_located(reader, name),
            &mut rep,
            &mut at,
            builder,
            |b, r| net(b, r.net),
        ),
        Format::Pfx2as => drain(
            pfx2as::parse_located(reader, name),
            &mut rep,
            &mut at,
            builder,
            |b, r| {
                let attrs = Attrs {
                    asn: r.origins.first().copied(),
                    ..Attrs::default()
                };
                b.add_net(id, r.net, attrs)
            },
        ),
        Format::Asnames => drain(
            asnames::parse_located(reader, name),
            &mut rep,
            &mut at,
            builder,
            |b, r| {
                b.add_as_name(r.asn, r.name);
                Ok(())
            },
        ),
        Format::TorConsensus => drain(
            tor_consensus::parse_located(reader, name),
            &mut rep,
            &mut at,
            builder,
            |b, item| match item {
                ConsensusItem::Header(_) => Ok(()),
                ConsensusItem::Relay(relay) => {
                    // Exits and relay-only addresses are different facts: never both.
                    let categories = if relay.is_exit() {
                        Categories::TOR_EXIT
                    } else {
                        Categories::TOR_RELAY
                    };
                    for ip in relay.addresses() {
                        let attrs = Attrs {
                            categories,
                            ..Attrs::default()
                        };
                        b.add_net(id, IpNet::from(ip), attrs)?;
                    }
                    Ok(())
                }
            },
        ),
        Format::RirDelegated => drain(
            rir::parse_located(reader, name),
            &mut rep,
            &mut at,
            builder,
            |b, record| {
                let RirRecord::Delegation(d) = record else {
                    return Ok(());
                };
                let attrs = Attrs {
                    country: d.country,
                    ..Attrs::default()
                };
                match d.resource {
                    Resource::Ipv4 { start, end } => {
                        b.add_range(id, start.into(), end.into(), attrs)
                    }
                    Resource::Ipv6(net) => b.add_net(id, IpNet::V6(net), attrs),
                    Resource::Asn { .. } => Ok(()),
                }
            },
        ),
        Format::ProxyList => drain(
            proxy::parse_located(reader, name),
            &mut rep,
            &mut at,
            builder,
            |b, p| net(b, IpNet::from(p.address)),
        ),
        Format::Geofeed => drain(
            geofeed::parse_located(reader, name),
            &mut rep,
            &mut at,
            builder,
            located,
        ),
        Format::IcloudEgress => drain(
            icloud::parse_located(reader, name),
            &mut rep,
            &mut at,
            builder,
            located,
        ),
        Format::GeofeedJson => drain(
            geofeed_json::parse_located(reader, name),
            &mut rep,
            &mut at,
            builder,
            located,
        ),
        Format::Iptoasn => drain(
            iptoasn::parse_located(reader, name),
            &mut rep,
            &mut at,
            builder,
            |b, r| {
                unrouted += u64::from(!r.is_routed());
                let routed = r.is_routed();
                as_range(
                    b,
                    id,
                    (r.start, r.end),
                    routed.then_some(r.asn),
                    r.description,
                )
            },
        ),
        Format::IpLocationDbAsn => drain(
            ip_location_db::parse_located(reader, name),
            &mut rep,
            &mut at,
            builder,
            |b, r| {
                unrouted += u64::from(!r.is_routed());
                let routed = r.is_routed();
                as_range(b, id, (r.start, r.end), routed.then_some(r.asn), r.org)
            },
        ),
        Format::Ipcat => drain(
            ipcat::parse_located(reader, name),
            &mut rep,
            &mut at,
            builder,
            |b, r| {
                let attrs = Attrs {
                    provider: Some(r.name),
                    ..Attrs::default()
                };
                b.add_range(id, r.start, r.end, attrs)
            },
        ),
        Format::AzureServiceTags => drain(
            azure::parse_located(reader, name),
            &mut rep,
            &mut at,
            builder,
            |b, r| net(b, r.net),
        ),
        Format::OracleCloud => drain(
            oracle::parse_located(reader, name),
            &mut rep,
            &mut at,
            builder,
            |b, r| net(b, r.net),
        ),
        Format::IpFetcher => drain(
            ipfetcher::parse_located(reader, name),
            &mut rep,
            &mut at,
            builder,
            net,
        ),
        Format::MullvadRelays => {
            let mut inactive = 0u64;
            drain(
                mullvad::parse_located(reader, name),
                &mut rep,
                &mut at,
                builder,
                |b, relay| {
                    if !relay.active {
                        inactive += 1;
                        return Ok(());
                    }
                    for ip in relay.addresses() {
                        net(b, IpNet::from(ip))?;
                    }
                    Ok(())
                },
            );
            if inactive > 0 {
                rep.warnings
                    .push(format!("{inactive} inactive relays skipped"));
            }
        }
        Format::AsnList => drain(
            asn_list::parse_located(reader, name),
            &mut rep,
            &mut at,
            builder,
            |b, r| b.add_asn(id, r.asn),
        ),
        Format::BadAsnList => drain(
            bad_asn::parse_located(reader, name),
            &mut rep,
            &mut at,
            builder,
            |b, r| b.add_asn(id, r.asn),
        ),
        Format::Mrt => drain(
            mrt::parse_located(reader, name),
            &mut rep,
            &mut at,
            builder,
            |b, p| {
                let attrs = Attrs {
                    asn: p.origins.first().copied(),
                    ..Attrs::default()
                };
                b.add_net(id, p.net, attrs)
            },
        ),
        Format::Mmdb => {
            drop(reader);
            match mmdb::MmdbDatabase::open(path, name) {
                Err(e) => rep.fatal = Some(e.to_string()),
                Ok(db) => {
                    let networks = db.networks().map(|r| {
                        r.map(|record| Located {
                            position: Position::Whole,
                            record,
                        })
                    });
                    drain(networks, &mut rep, &mut at, builder, |b, r| {
                        if let (Some(asn), Some(org)) = (r.asn, r.as_org.clone()) {
                            b.add_as_name(asn, org);
                        }
                        b.add_net(id, r.net, mmdb_attrs(&r))
                    });
                }
            }
        }
    }
    if unrouted > 0 {
        rep.warnings.push(format!(
            "ranges of AS 0 skipped: {unrouted} (AS 0 marks space no AS announces, RFC 7607: \
             it is no origin)"
        ));
    }
    rep.warnings.extend(at.repeats(builder, mark));
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
            entry.format.as_str()
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

/// A MaxMind record's flags and fields as builder attributes. Residential proxies are
/// `proxy`; `is_anonymous` alone (without a more specific flag) asserts nothing, as MaxMind
/// sets it only together with one of the others.
fn mmdb_attrs(r: &mmdb::MmdbRecord) -> Attrs {
    let mut categories = Categories::empty();
    for (flag, c) in [
        (r.is_anonymous_vpn, Categories::VPN),
        (r.is_hosting_provider, Categories::HOSTING),
        (
            r.is_public_proxy || r.is_residential_proxy,
            Categories::PROXY,
        ),
        (r.is_tor_exit_node, Categories::TOR_EXIT),
    ] {
        if flag {
            categories |= c;
        }
    }
    let country = r
        .country
        .as_deref()
        .and_then(|c| <[u8; 2]>::try_from(c.as_bytes()).ok())
        .filter(|c| c.iter().all(u8::is_ascii_uppercase));
    Attrs {
        categories,
        // An ASN database's rows are routing data, like a prefix-to-AS table.
        asn: r.asn,
        provider: r.provider_name.clone(),
        country,
    }
}

/// An address range originated by `asn` (`None`: not routed, skipped), with the AS's name.
fn as_range(
    b: &mut Builder,
    id: SourceId,
    (start, end): (std::net::IpAddr, std::net::IpAddr),
    asn: Option<u32>,
    name: String,
) -> Result<(), BuildError> {
    let Some(asn) = asn else {
        return Ok(());
    };
    if !name.is_empty() {
        b.add_as_name(asn, name);
    }
    let attrs = Attrs {
        asn: Some(asn),
        ..Attrs::default()
    };
    b.add_range(id, start, end, attrs)
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
        self.v4.extend(std::iter::repeat(position).take(v4));
        self.v6.extend(std::iter::repeat(position).take(v6));
    }

    /// Warnings about the entries added since `mark` that repeat an earlier entry's range: the
    /// same entry again (counted once in the artifact), or the same range with other
    /// attributes (resolved as the compiler always does, by the smallest value).
    fn repeats(&self, builder: &Builder, mark: (usize, usize)) -> Vec<String> {
        let mut out = Vec::new();
        for (v6, from, at) in [(false, mark.0, &self.v4), (true, mark.1, &self.v6)] {
            let r = builder.repeats_since(v6, from);
            let pos = |i: usize| at.get(i).map_or(Position::Whole, |p| *p);
            if let Some((earlier, later)) = r.first_same {
                out.push(format!(
                    "entries repeating an earlier entry of this source: {}, each counted once \
                     (first: {} at {}, as at {})",
                    r.same,
                    builder.entry_summary(v6, from + later),
                    pos(later),
                    pos(earlier)
                ));
            }
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
        out
    }
}

/// Feeds parsed records to `add`, counting and quoting what the parser or the builder rejects,
/// noting in `at` where each added entry came from.
fn drain<T>(
    records: impl Iterator<Item = Result<Located<T>, ParseError>>,
    rep: &mut SourceReport,
    at: &mut EntryLines,
    builder: &mut Builder,
    mut add: impl FnMut(&mut Builder, T) -> Result<(), BuildError>,
) {
    for r in records {
        match r {
            Ok(Located { position, record }) => {
                rep.read += 1;
                let before = builder.entry_counts();
                if let Err(e) = add(builder, record) {
                    rep.reject(format!("{}: {position}: {e}", rep.name));
                }
                at.note(before, builder.entry_counts(), position);
            }
            Err(e) if e.fatal => rep.fatal = Some(e.to_string()),
            Err(e) => {
                rep.unparsable += 1;
                rep.reject(e.to_string());
            }
        }
    }
}
