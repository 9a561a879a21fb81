//! Resolving overlaps into disjoint ranges, interning records, encoding the index and
//! serialising the artifact.
//!
//! Merge semantics (the reference model in the tests mirrors them):
//! * categories and sources: the union over every entry covering an address;
//! * ASN: from the covering entry with an ASN of the smallest size (most specific), ties broken
//!   by source name, then by the smaller ASN;
//! * provider and country: likewise from the most specific covering entry that carries one,
//!   ties broken by source name, then by the value.
//!
//! Everything is ordered by content, never by insertion order, so the same inputs in any order
//! produce the same bytes.

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use ipsieve::classify::{weak_categories, Scorer};
use ipsieve::format::{
    self, class, hdr, hot, leaf, rec, src, Section, DIRECTORY_SLOTS, HEADER_LEN, NONE,
    SECTION_COUNT,
};
use ipsieve::{Categories, Tier};

use crate::builder::{Builder, Entry, SourceSpec};
use crate::error::BuildError;
use crate::eyeball::Eyeball;
use crate::siblings::{self, SiblingLine};

/// A compiled artifact and figures about it.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// The artifact's bytes.
    pub bytes: Vec<u8>,
    /// Figures for the build report.
    pub stats: CompileStats,
}

/// Figures about a compiled artifact.
#[derive(Debug, Clone, Default)]
pub struct CompileStats {
    /// Disjoint, coalesced ranges (IPv4, IPv6).
    pub ranges: (usize, usize),
    /// Distinct records, including the empty one.
    pub records: usize,
    /// Bytes of the index sections (tops, keys, values), excluding records and strings.
    pub index_bytes: usize,
    /// Per category name: (IPv4 ranges, IPv4 addresses, IPv6 ranges, IPv6 addresses).
    pub per_category: Vec<(&'static str, CategoryCoverage)>,
    /// The sources the AS-organisation sibling rule derived ([`crate::siblings`]).
    pub siblings: Vec<SiblingLine>,
    /// The ASNs the VPN co-location rule flagged and held back ([`crate::colocation`]).
    pub colocation: crate::colocation::ColocationLine,
    /// The ASNs the AS-name keyword rule flagged and held back ([`crate::keywords`]).
    pub keywords: crate::keywords::KeywordLine,
    /// Per aggregate, the addresses whose hosting claim it alone made inside eyeball networks,
    /// held back ([`crate::eyeball`]), by source name.
    pub eyeball_held: Vec<EyeballHeld>,
}

/// What the aggregates-inside-eyeball-space rule held back of one source ([`crate::eyeball`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct EyeballHeld {
    /// The aggregate.
    pub source: String,
    /// IPv4 addresses.
    pub v4_addresses: u64,
    /// IPv6 addresses (saturating; a decimal string in JSON, as it may exceed 64 bits).
    #[serde(serialize_with = "decimal")]
    pub v6_addresses: u128,
}

fn decimal<S: serde::Serializer>(n: &u128, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(n)
}

/// Coverage of one category.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CategoryCoverage {
    /// Maximal runs of consecutive IPv4 addresses with the category (adjacent ranges that
    /// differ only in other fields count once), as `diff` and the coverage report count them.
    pub v4_ranges: u64,
    /// IPv4 addresses covered.
    pub v4_addresses: u64,
    /// The same for IPv6.
    pub v6_ranges: u64,
    /// IPv6 addresses covered (saturating).
    pub v6_addresses: u128,
}

/// What a record holds before serialisation; the interning key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct RecordKey {
    cats: u32,
    asn: Option<u32>,
    /// Provider as its rank in the sorted provider pool.
    provider: Option<u32>,
    country: Option<[u8; 2]>,
    /// Source ranks, ascending.
    sources: Vec<u32>,
}

impl RecordKey {
    fn empty() -> Self {
        RecordKey {
            cats: 0,
            asn: None,
            provider: None,
            country: None,
            sources: Vec::new(),
        }
    }
}

/// The categories each source asserts, by source index: those it declares, plus those its
/// entries add (a Tor consensus declares none and asserts `tor_exit` and `tor_relay`).
fn asserted_categories(b: &Builder, sources: &[SourceSpec]) -> Vec<Categories> {
    let mut cats: Vec<Categories> = sources.iter().map(|s| s.categories).collect();
    for e in b.v4.iter().chain(&b.v6) {
        cats[e.src as usize] |= Categories::from_bits(e.cats);
    }
    cats
}

/// A source's own weight as stored in the artifact, in hundredths.
fn weight_hundredths(weight: f32) -> u8 {
    (weight * 100.0).round().clamp(0.0, 100.0) as u8
}

/// Ranks used for content-based ordering.
struct Ranks {
    /// Source index → rank by name.
    source: Vec<u32>,
    /// Provider pool index → rank by string.
    provider: Vec<u32>,
    /// ASN → (source rank, categories) of every ASN-list source naming it, by rank.
    asn_lists: HashMap<u32, Vec<(u32, u32)>>,
    /// Source rank → snapshot day.
    day: Vec<Option<u32>>,
    /// Source rank → whether it is a historical routing source ([`historical_routes`]).
    historical: Vec<bool>,
    /// The newest snapshot day of a source that lists Tor exits (see [`tor_relay_rule`]).
    newest_exit_list: Option<u32>,
    /// Source rank → whether it is a hosting aggregate ([`crate::eyeball`]).
    aggregate: Vec<bool>,
    /// Eyeball ASNs that no list names as hosting: aggregates' hosting claims in their
    /// ranges are held back ([`crate::eyeball`]).
    eyeball: HashSet<u32>,
}

/// The Tor relay rule (`docs/INTELLIGENCE.md`, "Newer evidence"): newer first-party evidence
/// that an address is a relay and not an exit outweighs older exit claims. Given, for the
/// sources covering a range, which assert `tor_exit` and which assert `tor_relay` there (by
/// rank, as `(exit entries, relay entries)` counts), decides whether the range's `tor_exit`
/// is superseded: some source dated `r` sees a relay there and no exit; every source calling
/// it an exit is dated before `r` (an undated one is never overruled); and the build holds a
/// list of exits dated `r` or later (which does not name it, or its claim would be dated `r`
/// or later). A Tor consensus is both: its relays without the Exit flag are relays and not
/// exits, and its Exit-flagged relays are that day's exit list.
fn tor_exit_superseded(ranks: &Ranks, tor: &[[u32; 2]], active: &[u32]) -> bool {
    let mut relay_day: Option<u32> = None;
    let mut exit_day: Option<u32> = None;
    for &rank in active {
        let [exits, relays] = tor[rank as usize];
        let day = ranks.day[rank as usize];
        if exits > 0 {
            match day {
                None => return false,
                Some(d) => exit_day = exit_day.max(Some(d)),
            }
        } else if relays > 0 {
            relay_day = relay_day.max(day);
        }
    }
    match (relay_day, exit_day, ranks.newest_exit_list) {
        (Some(r), Some(e), Some(census)) => e < r && census >= r,
        _ => false,
    }
}

pub(crate) fn rank_by<T: Ord>(items: &[T]) -> Vec<u32> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&a, &b| items[a].cmp(&items[b]));
    let mut rank = vec![0u32; items.len()];
    for (r, i) in order.into_iter().enumerate() {
        rank[i] = r as u32;
    }
    rank
}

/// Active entries with a value, ordered by (size, source rank, value, entry index): the first
/// is the most specific.
type Active<V> = BTreeSet<(u128, u32, V, usize)>;

/// Active routing entries, ordered by (historical, size, source rank, ASN, entry index): the
/// first gives the origin AS.
type Routes = BTreeSet<(bool, u128, u32, u32, usize)>;

/// A routing source dated more than this many days before the newest one is historical: its
/// routes give the origin AS only where no current routing source covers the address.
pub const HISTORICAL_ROUTES_DAYS: u32 = 3 * 365;

/// Per source of `b` (by index), whether it is a historical routing source
/// ([`HISTORICAL_ROUTES_DAYS`]); undated sources never are.
pub(crate) fn historical_routes(b: &Builder) -> Vec<bool> {
    let sources = &b.sources;
    let mut routing = vec![false; sources.len()];
    for e in b.v4.iter().chain(&b.v6).filter(|e| e.asn.is_some()) {
        routing[e.src as usize] = true;
    }
    let newest = sources
        .iter()
        .zip(&routing)
        .filter(|(_, &r)| r)
        .filter_map(|(s, _)| s.snapshot_day)
        .max();
    sources
        .iter()
        .zip(&routing)
        .map(|(s, &r)| {
            r && matches!((s.snapshot_day, newest), (Some(d), Some(n)) if n - d > HISTORICAL_ROUTES_DAYS)
        })
        .collect()
}

/// Sweeps one family's entries into disjoint coalesced ranges `(start, record)`; the first
/// starts at 0 and the list covers the whole space.
fn sweep(
    entries: &[Entry],
    top: u128,
    ranks: &Ranks,
    records: &mut Vec<RecordKey>,
    ids: &mut HashMap<RecordKey, u32>,
    held: &mut Held,
) -> Vec<(u128, u32)> {
    // Events: (position, is_start, entry). Ends are at hi + 1; none past `top`.
    let mut events: Vec<(u128, bool, usize)> = Vec::with_capacity(entries.len() * 2);
    for (i, e) in entries.iter().enumerate() {
        events.push((e.lo, true, i));
        if e.hi < top {
            events.push((e.hi + 1, false, i));
        }
    }
    events.sort_unstable();

    let nsrc = ranks.source.len();
    let mut cat_count = [0u32; 32];
    let mut src_count = vec![0u32; nsrc];
    // Per source rank: active entries asserting tor_exit, and tor_relay.
    let mut tor = vec![[0u32; 2]; nsrc];
    let tor_bits = [Categories::TOR_EXIT.bits(), Categories::TOR_RELAY.bits()];
    let mut asn: Routes = BTreeSet::new();
    let mut provider: Active<u32> = BTreeSet::new();
    let mut country: Active<[u8; 2]> = BTreeSet::new();
    // Active entries asserting hosting from sources other than aggregates, and the indices of
    // the active entries of aggregates.
    let mut hosting_vouched = 0u32;
    let mut aggregates: BTreeSet<usize> = BTreeSet::new();
    let hosting = Categories::HOSTING.bits();
    // The range being emitted, when aggregates were held back in it: its start and the
    // held-back source ranks (counted in `held` once its end is known).
    let mut holding: Option<(u128, Vec<u32>)> = None;

    let mut out: Vec<(u128, u32)> = Vec::new();
    let mut emit = |pos: u128, key: RecordKey, out: &mut Vec<(u128, u32)>| {
        let id = match ids.get(&key) {
            Some(&id) => id,
            None => {
                let id = records.len() as u32;
                records.push(key.clone());
                ids.insert(key, id);
                id
            }
        };
        if out.last().map(|&(_, r)| r) != Some(id) {
            out.push((pos, id));
        }
    };

    let mut i = 0;
    let mut pos = 0u128;
    loop {
        // Apply every event at `pos`.
        while i < events.len() && events[i].0 == pos {
            let (_, start, idx) = events[i];
            let e = &entries[idx];
            let size = e.hi - e.lo;
            let srank = ranks.source[e.src as usize];
            for (b, count) in cat_count.iter_mut().enumerate() {
                if e.cats & (1 << b) != 0 {
                    if start {
                        *count += 1;
                    } else {
                        *count -= 1;
                    }
                }
            }
            let aggregate = ranks.aggregate[srank as usize];
            let vouches = e.cats & hosting != 0 && !aggregate;
            if start {
                src_count[srank as usize] += 1;
                hosting_vouched += u32::from(vouches);
                if aggregate {
                    aggregates.insert(idx);
                }
            } else {
                src_count[srank as usize] -= 1;
                hosting_vouched -= u32::from(vouches);
                aggregates.remove(&idx);
            }
            for (count, bit) in tor[srank as usize].iter_mut().zip(tor_bits) {
                if e.cats & bit != 0 {
                    if start {
                        *count += 1;
                    } else {
                        *count -= 1;
                    }
                }
            }
            let toggle = |key: (u128, u32, u32, usize), set: &mut Active<u32>| {
                if start {
                    set.insert(key);
                } else {
                    set.remove(&key);
                }
            };
            if let Some(a) = e.asn {
                let key = (ranks.historical[srank as usize], size, srank, a, idx);
                if start {
                    asn.insert(key);
                } else {
                    asn.remove(&key);
                }
            }
            if let Some(p) = e.provider {
                toggle(
                    (size, srank, ranks.provider[p as usize], idx),
                    &mut provider,
                );
            }
            if let Some(c) = e.country {
                let key = (size, srank, c, idx);
                if start {
                    country.insert(key);
                } else {
                    country.remove(&key);
                }
            }
            i += 1;
        }
        let cats = cat_count
            .iter()
            .enumerate()
            .filter(|(_, &n)| n > 0)
            .fold(0u32, |acc, (b, _)| acc | (1 << b));
        let mut key = RecordKey {
            cats,
            asn: asn.first().map(|k| k.3),
            provider: provider.first().map(|k| k.2),
            country: country.first().map(|k| k.2),
            sources: (0..nsrc as u32)
                .filter(|&r| src_count[r as usize] > 0)
                .collect(),
        };
        if key.cats & tor_bits[0] != 0 && tor_exit_superseded(ranks, &tor, &key.sources) {
            key.cats = (key.cats & !tor_bits[0]) | tor_bits[1];
        }
        if let Some((from, srcs)) = holding.take() {
            held.count(from, pos, &srcs);
        }
        // Aggregates inside eyeball space: only aggregates assert hosting here, each over the
        // whole of the routing entry that gives the origin AS (not a block inside it), and
        // that AS is a large eyeball network no list names as hosting: their claim (all they
        // assert) is held back.
        if key.cats & hosting != 0
            && hosting_vouched == 0
            && key.asn.is_some_and(|a| ranks.eyeball.contains(&a))
            && asn.first().is_some_and(|k| {
                let route = &entries[k.4];
                aggregates
                    .iter()
                    .all(|&i| entries[i].lo <= route.lo && entries[i].hi >= route.hi)
            })
        {
            let (dropped, kept) = key
                .sources
                .iter()
                .partition(|&&r| ranks.aggregate[r as usize]);
            key.sources = kept;
            key.cats &= !hosting;
            let vouched = |rank: u32| !ranks.aggregate[rank as usize];
            key.provider = provider.iter().find(|k| vouched(k.1)).map(|k| k.2);
            key.country = country.iter().find(|k| vouched(k.1)).map(|k| k.2);
            holding = Some((pos, dropped));
        }
        // ASN-list sources: the range's origin AS (from the most specific routing entry) is
        // on the list, so the list's categories apply and the list joins the sources.
        if let Some(lists) = key.asn.and_then(|a| ranks.asn_lists.get(&a)) {
            for &(rank, cats) in lists {
                key.cats |= cats;
                if let Err(at) = key.sources.binary_search(&rank) {
                    key.sources.insert(at, rank);
                }
            }
        }
        emit(pos, key, &mut out);
        match events.get(i) {
            Some(&(next, _, _)) => pos = next,
            None => break,
        }
    }
    if let Some((from, srcs)) = holding {
        held.count(from, top.wrapping_add(1), &srcs);
    }
    out
}

/// Addresses the aggregates-inside-eyeball-space rule held back in one family, per source
/// rank (saturating).
#[derive(Default)]
struct Held(BTreeMap<u32, u128>);

impl Held {
    /// Counts `[from, to)` (`to` 0: to the end of the IPv6 space) for each source rank.
    fn count(&mut self, from: u128, to: u128, srcs: &[u32]) {
        let n = match to.wrapping_sub(from) {
            0 => u128::MAX,
            n => n,
        };
        for &r in srcs {
            let slot = self.0.entry(r).or_default();
            *slot = slot.saturating_add(n);
        }
    }
}

/// Deduplicating string table.
#[derive(Default)]
struct Strings {
    ids: HashMap<String, u32>,
    offsets: Vec<u32>,
    blob: Vec<u8>,
}

impl Strings {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.offsets.len() as u32;
        self.offsets.push(self.blob.len() as u32);
        self.blob.extend_from_slice(s.as_bytes());
        self.ids.insert(s.to_owned(), id);
        id
    }
    fn opt(&mut self, s: Option<&str>) -> u32 {
        s.map_or(NONE, |s| self.id(s))
    }
}

/// Per category bit: (maximal runs of consecutive addresses with the category, addresses).
/// A run may span several ranges that differ in something else (an ASN, a provider), so the
/// count is the same one `diff` and the report's coverage give: one meaning of "ranges".
fn coverage(ranges: &[(u128, u32)], records: &[RecordKey], top: u128) -> Vec<(u64, u128)> {
    let mut per = vec![(0u64, 0u128); 32];
    let mut prev = 0u32;
    for (i, &(start, r)) in ranges.iter().enumerate() {
        let end = ranges.get(i + 1).map_or(top, |&(s, _)| s - 1);
        let size = (end - start).saturating_add(1);
        let cats = records[r as usize].cats;
        for (b, slot) in per.iter_mut().enumerate() {
            if cats & (1 << b) != 0 {
                // The ranges tile the space, so the previous one is the adjacent one.
                if prev & (1 << b) == 0 {
                    slot.0 += 1;
                }
                slot.1 = slot.1.saturating_add(size);
            }
        }
        prev = cats;
    }
    per
}

pub(crate) fn compile(b: &Builder) -> Result<Compiled, BuildError> {
    // The builder's sources plus those the AS-organisation sibling rule derives.
    let eyeball = Eyeball::new(b);
    // Per source of `b` (the derived sources, appended below, route nothing).
    let historical = historical_routes(b);
    let mut derived = siblings::derive(b, &eyeball);
    let colocation = if b.vpn_colocation {
        crate::colocation::derive(b, &eyeball, &historical, &mut derived)
    } else {
        crate::colocation::ColocationLine::default()
    };
    let keywords = if b.as_name_keywords {
        crate::keywords::derive(b, &eyeball, &mut derived)
    } else {
        crate::keywords::KeywordLine::default()
    };
    let sources = &derived.sources[..];
    let names: Vec<&str> = sources.iter().map(|s| s.name.as_str()).collect();
    let source_rank = rank_by(&names);
    let mut asn_lists: HashMap<u32, Vec<(u32, u32)>> = HashMap::default();
    for (&asn, srcs) in &derived.asn_lists {
        let mut v: Vec<(u32, u32)> = srcs
            .iter()
            .map(|&s| {
                (
                    source_rank[s as usize],
                    sources[s as usize].categories.bits(),
                )
            })
            .collect();
        v.sort_unstable();
        v.dedup();
        asn_lists.insert(asn, v);
    }
    let asserted = asserted_categories(b, sources);
    let mut day = vec![None; sources.len()];
    let mut historical_by_rank = vec![false; sources.len()];
    for (i, s) in sources.iter().enumerate() {
        day[source_rank[i] as usize] = s.snapshot_day;
        historical_by_rank[source_rank[i] as usize] = historical.get(i) == Some(&true);
    }
    let newest_exit_list = sources
        .iter()
        .zip(&asserted)
        .filter(|(_, c)| c.contains(Categories::TOR_EXIT))
        .filter_map(|(s, _)| s.snapshot_day)
        .max();
    let mut aggregate = vec![false; sources.len()];
    for (i, s) in sources.iter().enumerate() {
        aggregate[source_rank[i] as usize] =
            s.tier == Tier::Curated && asserted[i] == Categories::HOSTING && s.provider.is_none();
    }
    let eyeball = eyeball
        .large()
        .filter(|&a| !derived.listed(a).contains(Categories::HOSTING))
        .collect();
    let ranks = Ranks {
        source: source_rank,
        provider: rank_by(&b.providers),
        asn_lists,
        day,
        historical: historical_by_rank,
        newest_exit_list,
        aggregate,
        eyeball,
    };
    // Provider rank → string.
    let mut provider_by_rank = vec![""; b.providers.len()];
    for (i, p) in b.providers.iter().enumerate() {
        provider_by_rank[ranks.provider[i] as usize] = p.as_str();
    }
    // Source rank → source index.
    let mut source_by_rank = vec![0usize; sources.len()];
    for (i, &r) in ranks.source.iter().enumerate() {
        source_by_rank[r as usize] = i;
    }

    let mut records = vec![RecordKey::empty()];
    let mut ids: HashMap<RecordKey, u32> = HashMap::default();
    ids.insert(RecordKey::empty(), 0);
    let (mut held4, mut held6) = (Held::default(), Held::default());
    let v4 = sweep(
        &b.v4,
        u128::from(u32::MAX),
        &ranks,
        &mut records,
        &mut ids,
        &mut held4,
    );
    let v6 = sweep(&b.v6, u128::MAX, &ranks, &mut records, &mut ids, &mut held6);
    let mut eyeball_held: BTreeMap<u32, (u128, u128)> = BTreeMap::new();
    for (&r, &n) in &held4.0 {
        eyeball_held.entry(r).or_default().0 = n;
    }
    for (&r, &n) in &held6.0 {
        eyeball_held.entry(r).or_default().1 = n;
    }
    let eyeball_held = eyeball_held
        .into_iter()
        .map(|(r, (v4, v6))| EyeballHeld {
            source: sources[source_by_rank[r as usize]].name.clone(),
            v4_addresses: v4 as u64,
            v6_addresses: v6,
        })
        .collect();
    drop(ids);
    if records.len() > format::MAX_RECORDS {
        return Err(BuildError::TooLarge(format!(
            "{} distinct records exceed the format's {}",
            records.len(),
            format::MAX_RECORDS
        )));
    }

    // Strings and sources, in a content-determined order.
    let mut strings = Strings::default();
    let mut source_words = Vec::with_capacity(sources.len() * src::WORDS);
    for &i in &source_by_rank {
        let s = &sources[i];
        let words = [
            strings.id(&s.name),
            strings.id(&s.format),
            asserted[i].bits(),
            s.tier as u32 | u32::from(weight_hundredths(s.weight)) << 8,
            s.snapshot_day.unwrap_or(NONE),
            strings.opt(s.licence.as_deref()),
            strings.opt(s.url.as_deref()),
            strings.opt(s.provider.as_deref()),
        ];
        source_words.extend_from_slice(&words);
    }
    let mut set_ids: HashMap<Vec<u32>, u32> = HashMap::default();
    let mut set_offsets = vec![0u32];
    let mut set_items: Vec<u32> = Vec::new();
    let mut record_words = Vec::with_capacity(records.len() * rec::WORDS);
    let mut hot_words = Vec::with_capacity(records.len() * hot::WORDS);
    // Summary classes (class 0 is the empty summary, the empty record's) and each record's
    // leaf value.
    let mut class_words: Vec<u32> = vec![0];
    let mut class_ids: HashMap<u32, u32> = HashMap::from_iter([(0, 0)]);
    let mut leaf_values: Vec<u32> = Vec::with_capacity(records.len());
    // The day every source's evidence ages to (the reader works out the same from the
    // source table).
    let data_day =
        ipsieve::classify::data_day(b.build_time, sources.iter().map(|s| s.snapshot_day));
    for r in &records {
        let set = if r.sources.is_empty() {
            NONE
        } else if let Some(&id) = set_ids.get(&r.sources) {
            id
        } else {
            let id = set_offsets.len() as u32 - 1;
            set_items.extend_from_slice(&r.sources);
            set_offsets.push(set_items.len() as u32);
            set_ids.insert(r.sources.clone(), id);
            id
        };
        let as_org = r.asn.and_then(|a| b.as_names.get(&a)).map(String::as_str);
        let provider = r.provider.map(|p| provider_by_rank[p as usize]);
        // The classification rules (`ipsieve::classify`, docs/INTELLIGENCE.md): one signal
        // per matching source.
        let mut scorer = Scorer::new(Categories::from_bits(r.cats));
        for &rank in &r.sources {
            let i = source_by_rank[rank as usize];
            let s = &sources[i];
            let age = ipsieve::classify::evidence_age(data_day, s.snapshot_day);
            scorer.add_aged(asserted[i], s.tier, weight_hundredths(s.weight), age);
        }
        let (verdict, score) = scorer.finish();
        // The newest snapshot day of a source asserting one of the answer's categories here.
        let last_seen = r
            .sources
            .iter()
            .map(|&rank| source_by_rank[rank as usize])
            .filter(|&i| asserted[i].bits() & r.cats != 0)
            .filter_map(|i| sources[i].snapshot_day)
            .max();
        let cc = r.country.unwrap_or([0, 0]);
        let words = [
            r.cats,
            r.asn.unwrap_or(0),
            strings.opt(as_org),
            strings.opt(provider),
            u32::from(cc[0])
                | u32::from(cc[1]) << 8
                | (verdict as u32) << 16
                | u32::from(score) << 24,
            set,
            if r.asn.is_some() {
                rec::FLAG_HAS_ASN
            } else {
                0
            },
            last_seen.unwrap_or(NONE),
        ];
        hot_words.extend_from_slice(&hot::of_record(&words));
        record_words.extend_from_slice(&words);
        // The summary leaves carry: categories, the weak ones (for the policy) and verdict.
        let weak = weak_categories(
            Categories::from_bits(r.cats),
            r.sources.iter().map(|&rank| {
                let i = source_by_rank[rank as usize];
                (asserted[i], sources[i].tier)
            }),
        );
        let summary = class::encode(r.cats, weak.bits(), verdict as u32);
        let next = class_words.len() as u32;
        let c = *class_ids.entry(summary).or_insert_with(|| {
            if class_words.len() < leaf::MAX_CLASSES {
                class_words.push(summary);
                next
            } else {
                leaf::CLASS_IN_RECORD
            }
        });
        leaf_values.push(leaf::encode(leaf_values.len() as u32, c));
    }
    let leaves = |ranges: &[(u128, u32)]| -> Vec<(u128, u32)> {
        ranges
            .iter()
            .map(|&(start, r)| (start, leaf_values[r as usize]))
            .collect()
    };
    let v4_trie = crate::trie::encode_v4(&leaves(&v4))?;
    let v6_trie = crate::trie::encode_v6(&leaves(&v6))?;
    // The builder's version, unless the caller recorded its own (the golden artifact does,
    // so a version bump does not change its bytes).
    let mut meta = vec![
        ("ipv4_ranges".to_owned(), v4.len().to_string()),
        ("ipv6_ranges".to_owned(), v6.len().to_string()),
    ];
    if !b.metadata.contains_key("builder") {
        meta.push((
            "builder".to_owned(),
            format!("ipsieve-builder {}", env!("CARGO_PKG_VERSION")),
        ));
    }
    if !b.rir_registries.is_empty()
        && !b
            .metadata
            .contains_key(ipsieve::special::RIR_REGISTRIES_KEY)
    {
        let read: Vec<&str> = b.rir_registries.iter().map(String::as_str).collect();
        meta.push((
            ipsieve::special::RIR_REGISTRIES_KEY.to_owned(),
            read.join(","),
        ));
    }
    meta.extend(b.metadata.iter().map(|(k, v)| (k.clone(), v.clone())));
    meta.sort();
    let mut meta_words = Vec::new();
    for (k, v) in &meta {
        meta_words.push(strings.id(k));
        meta_words.push(strings.id(v));
    }
    let string_count = strings.offsets.len();
    strings.offsets.push(strings.blob.len() as u32);
    if strings.blob.len() > u32::MAX as usize {
        return Err(BuildError::TooLarge("string table exceeds 4 GiB".into()));
    }

    let mut sections: Vec<(Section, Vec<u8>)> = vec![
        (Section::V4Top, le(&v4_trie.top)),
        (Section::V4Nodes, le64(&v4_trie.nodes)),
        (Section::V4Leaves, le(&v4_trie.leaves)),
        (Section::V6Top, le(&v6_trie.top)),
        (Section::V6Nodes, le64(&v6_trie.nodes)),
        (Section::V6Leaves, le(&v6_trie.leaves)),
        (Section::Classes, le(&class_words)),
        (Section::Records, le(&record_words)),
        (Section::StrOffsets, le(&strings.offsets)),
        (Section::StrBlob, strings.blob),
        (Section::Sources, le(&source_words)),
        (Section::SetOffsets, le(&set_offsets)),
        (Section::SetItems, le(&set_items)),
        (Section::Meta, le(&meta_words)),
        (Section::V4Spans, v4_trie.spans),
        (Section::V6Spans, v6_trie.spans),
        (Section::Hot, le(&hot_words)),
    ];
    let index_bytes = sections
        .iter()
        .filter(|(s, _)| s.is_index())
        .map(|(_, v)| v.len())
        .sum();

    let counts = [
        (hdr::RECORD_COUNT, records.len() as u32),
        (hdr::STRING_COUNT, string_count as u32),
        (hdr::SOURCE_COUNT, sources.len() as u32),
        (hdr::SET_COUNT, set_offsets.len() as u32 - 1),
    ];
    let bytes = serialise(&mut sections, b.build_time, &counts);

    let cov4 = coverage(&v4, &records, u32::MAX as u128);
    let cov6 = coverage(&v6, &records, u128::MAX);
    let per_category = Categories::NAMED
        .iter()
        .map(|&(c, name)| {
            let bit = c.bits().trailing_zeros() as usize;
            (
                name,
                CategoryCoverage {
                    v4_ranges: cov4[bit].0,
                    v4_addresses: cov4[bit].1 as u64,
                    v6_ranges: cov6[bit].0,
                    v6_addresses: cov6[bit].1,
                },
            )
        })
        .collect();
    Ok(Compiled {
        bytes,
        stats: CompileStats {
            ranges: (v4.len(), v6.len()),
            records: records.len(),
            index_bytes,
            per_category,
            siblings: derived.lines,
            colocation,
            keywords,
            eyeball_held,
        },
    })
}

fn le(words: &[u32]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

fn le64(words: &[u64]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

fn serialise(
    sections: &mut [(Section, Vec<u8>)],
    build_time: u64,
    counts: &[(usize, u32)],
) -> Vec<u8> {
    let mut out = vec![0u8; HEADER_LEN];
    let mut dir = [(0u64, 0u64); DIRECTORY_SLOTS];
    for (s, data) in sections.iter_mut() {
        if data.is_empty() {
            continue;
        }
        let pad = out.len().next_multiple_of(format::SECTION_ALIGN) - out.len();
        out.resize(out.len() + pad, 0);
        dir[*s as usize] = (out.len() as u64, data.len() as u64);
        out.append(data);
    }
    let put = |out: &mut Vec<u8>, at: usize, bytes: &[u8]| {
        out[at..at + bytes.len()].copy_from_slice(bytes)
    };
    put(&mut out, hdr::MAGIC, &format::MAGIC);
    put(&mut out, hdr::ENDIAN, &format::ENDIAN_PROBE.to_le_bytes());
    put(&mut out, hdr::MAJOR, &format::FORMAT_MAJOR.to_le_bytes());
    put(&mut out, hdr::MINOR, &format::FORMAT_MINOR.to_le_bytes());
    put(
        &mut out,
        hdr::HEADER_LEN,
        &(HEADER_LEN as u32).to_le_bytes(),
    );
    put(
        &mut out,
        hdr::SECTION_COUNT,
        &(SECTION_COUNT as u32).to_le_bytes(),
    );
    let len = out.len() as u64;
    put(&mut out, hdr::FILE_LEN, &len.to_le_bytes());
    put(&mut out, hdr::BUILD_TIME, &build_time.to_le_bytes());
    for &(at, v) in counts {
        put(&mut out, at, &v.to_le_bytes());
    }
    for (i, (off, len)) in dir.iter().enumerate() {
        let at = hdr::DIRECTORY + 16 * i;
        put(&mut out, at, &off.to_le_bytes());
        put(&mut out, at + 8, &len.to_le_bytes());
    }
    let hcrc = format::header_crc(&out);
    put(&mut out, hdr::HEADER_CRC, &hcrc.to_le_bytes());
    let fcrc = format::file_crc(&out);
    put(&mut out, hdr::FILE_CRC, &fcrc.to_le_bytes());
    out
}
