//! What changed between two artifacts: per category, provider and source, the ranges and
//! addresses added and removed and the coverage of each family, plus the largest changed
//! prefixes. `ipsieve diff` prints it; its `--max-shrink` guard reads [`Diff::shrinks`].
//!
//! Both artifacts are walked in address order together ([`crate::walk::merge`]), so the cost
//! is one pass over the two indexes, whatever the size of the address space.
//!
//! # How things are counted
//! * An address *has* a category, provider or source when its answer lists it: the answer's
//!   categories, its provider, its matching sources (by name, so sources are matched across
//!   artifacts by name, not by index).
//! * *Addresses* are exact counts, IPv4 and IPv6 alike: `u128` (a /64 is 2^64 addresses).
//! * *Ranges* are maximal runs of consecutive addresses. `old.ranges` counts the runs that have
//!   the key in the old artifact; `added.ranges` counts the runs of addresses that have it in
//!   the new artifact and did not have it in the old one (likewise `removed`). A run that grew
//!   by a few addresses at one end is one added range of those few addresses.
//! * IPv6 leaves out `::ffff:0:0/96` (answered as IPv4); coverage is a share of the whole
//!   family (2^32 or 2^128 addresses).
//!
//! ```
//! use ipsieve::{Categories, Database};
//! use ipsieve_builder::diff::{diff, KeyKind};
//! use ipsieve_builder::{Attrs, Builder, SourceSpec};
//!
//! let build = |nets: &[&str]| -> Result<Database, Box<dyn std::error::Error>> {
//!     let mut b = Builder::new();
//!     let vpn = b.add_source(SourceSpec::new("vpn-list", "ip-list").categories(Categories::VPN))?;
//!     for n in nets {
//!         b.add_net(vpn, n.parse()?, Attrs::default())?;
//!     }
//!     Ok(Database::from_bytes(&b.compile()?.bytes)?)
//! };
//! let old = build(&["198.51.100.0/24", "203.0.113.0/24"])?;
//! let new = build(&["198.51.100.0/25"])?;
//! let d = diff(&old, &new, 10);
//! let vpn = d.key(KeyKind::Category, "vpn").unwrap();
//! assert_eq!(vpn.v4.old.addresses, 512);
//! assert_eq!(vpn.v4.removed.addresses, 384);
//! assert_eq!(vpn.v4.removed.ranges, 2);
//! assert_eq!(d.largest_v4[0].net.to_string(), "203.0.113.0/24");
//! assert_eq!(d.shrinks(50.0).len(), 2); // the category and the source lost 75 %
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};

use ipnet::IpNet;
use ipsieve::{Answer, Categories, Database};

use crate::walk::{cidrs, merge, Family};

/// What a line of the diff is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyKind {
    /// Addresses with any category at all (named `any`).
    Any,
    /// One category (`tor_exit`, `vpn`, …).
    Category,
    /// One provider name.
    Provider,
    /// One source, by name.
    Source,
}

impl KeyKind {
    /// `any`, `category`, `provider` or `source`.
    pub const fn as_str(self) -> &'static str {
        match self {
            KeyKind::Any => "any",
            KeyKind::Category => "category",
            KeyKind::Provider => "provider",
            KeyKind::Source => "source",
        }
    }
}

/// A number of ranges and the addresses in them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Amount {
    /// Maximal runs of consecutive addresses.
    pub ranges: u64,
    /// Addresses in them (saturating at `u128::MAX`).
    pub addresses: u128,
}

/// One key in one family: before, after, and the difference both ways.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FamilyDiff {
    /// What the old artifact covers.
    pub old: Amount,
    /// What the new artifact covers.
    pub new: Amount,
    /// Covered by the new artifact and not by the old.
    pub added: Amount,
    /// Covered by the old artifact and not by the new.
    pub removed: Amount,
}

impl FamilyDiff {
    /// True when both artifacts cover exactly the same addresses.
    pub fn is_unchanged(&self) -> bool {
        self.added.addresses == 0 && self.removed.addresses == 0
    }

    /// How much smaller the new coverage is, in percent of the old (0 when it did not shrink
    /// or the old artifact covered nothing). Net of additions: a list that rotates addresses
    /// without shrinking does not count.
    pub fn shrink_pct(&self) -> f64 {
        if self.old.addresses == 0 || self.new.addresses >= self.old.addresses {
            return 0.0;
        }
        (self.old.addresses - self.new.addresses) as f64 * 100.0 / self.old.addresses as f64
    }
}

/// Coverage of `addresses` as a percentage of the family's whole space.
pub fn coverage_pct(addresses: u128, family: Family) -> f64 {
    // 2^32 or 2^128 as a float, exact.
    let space = 2f64.powi(i32::from(family.bits()));
    addresses as f64 * 100.0 / space
}

/// The diff of one category, provider or source, per family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyDiff {
    /// What the name names.
    pub kind: KeyKind,
    /// Category name, provider name or source name (`any` for [`KeyKind::Any`]).
    pub name: String,
    /// IPv4.
    pub v4: FamilyDiff,
    /// IPv6.
    pub v6: FamilyDiff,
}

impl KeyDiff {
    /// The family's part.
    pub fn family(&self, family: Family) -> &FamilyDiff {
        match family {
            Family::V4 => &self.v4,
            Family::V6 => &self.v6,
        }
    }

    /// True when nothing changed in either family.
    pub fn is_unchanged(&self) -> bool {
        self.v4.is_unchanged() && self.v6.is_unchanged()
    }
}

/// One changed prefix: an aligned block on which every address changed the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixChange {
    /// The block.
    pub net: IpNet,
    /// Addresses in it.
    pub addresses: u128,
    /// Categories the new artifact gives it that the old did not.
    pub categories_added: Categories,
    /// Categories the old artifact gave it that the new does not.
    pub categories_removed: Categories,
    /// Sources that match it in the new artifact only, by name.
    pub sources_added: Vec<String>,
    /// Sources that matched it in the old artifact only.
    pub sources_removed: Vec<String>,
    /// The provider before and after, when it changed.
    pub provider: Option<(Option<String>, Option<String>)>,
}

/// A category or source whose coverage shrank past a threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Shrink {
    /// [`KeyKind::Category`] or [`KeyKind::Source`].
    pub kind: KeyKind,
    /// Its name.
    pub name: String,
    /// The family that shrank.
    pub family: Family,
    /// Addresses in the old artifact.
    pub old: u128,
    /// Addresses in the new artifact.
    pub new: u128,
    /// The shrink, in percent of `old`.
    pub pct: f64,
}

/// Everything [`diff`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct Diff {
    /// `any` first, then every category in bit order, then providers and sources, each sorted
    /// by name. Every category is listed; providers and sources are those of either artifact
    /// that cover at least one address in either.
    pub keys: Vec<KeyDiff>,
    /// The largest changed IPv4 prefixes, largest first (ties in address order).
    pub largest_v4: Vec<PrefixChange>,
    /// The largest changed IPv6 prefixes, largest first.
    pub largest_v6: Vec<PrefixChange>,
}

impl Diff {
    /// The line of one key, if listed.
    pub fn key(&self, kind: KeyKind, name: &str) -> Option<&KeyDiff> {
        self.keys.iter().find(|k| k.kind == kind && k.name == name)
    }

    /// The lines of one kind, in order.
    pub fn of_kind(&self, kind: KeyKind) -> impl Iterator<Item = &KeyDiff> + '_ {
        self.keys.iter().filter(move |k| k.kind == kind)
    }

    /// Every category and every source that lost more than `max_pct` percent of its old
    /// addresses in a family ([`FamilyDiff::shrink_pct`]), in key order, IPv4 before IPv6.
    pub fn shrinks(&self, max_pct: f64) -> Vec<Shrink> {
        let mut out = Vec::new();
        for k in &self.keys {
            if !matches!(k.kind, KeyKind::Category | KeyKind::Source) {
                continue;
            }
            for family in Family::BOTH {
                let f = k.family(family);
                let pct = f.shrink_pct();
                if pct > max_pct {
                    out.push(Shrink {
                        kind: k.kind,
                        name: k.name.clone(),
                        family,
                        old: f.old.addresses,
                        new: f.new.addresses,
                        pct,
                    });
                }
            }
        }
        out
    }
}

/// Compares two artifacts, keeping the `top` largest changed prefixes of each family.
///
/// Never panics; one pass over both artifacts' indexes.
pub fn diff(old: &Database, new: &Database, top: usize) -> Diff {
    let mut state = State::new();
    let mut largest = [Vec::new(), Vec::new()];
    for (i, family) in Family::BOTH.into_iter().enumerate() {
        largest[i] = state.family(old, new, family, top);
    }
    let [largest_v4, largest_v6] = largest;
    Diff {
        keys: state.finish(),
        largest_v4,
        largest_v6,
    }
}

/// Index of the first category key; `any` is key 0.
const FIRST_CATEGORY: u32 = 1;

/// What one record says, as key ids.
#[derive(Debug, Default)]
struct RecordKeys {
    /// Every key the record has, ascending.
    all: Vec<u32>,
    /// Category bits.
    categories: u32,
    /// Provider key.
    provider: Option<u32>,
    /// Source keys, ascending.
    sources: Vec<u32>,
}

/// Running totals of one key in one family: old, new, added, removed.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    amounts: [Amount; 4],
    /// Last address counted per amount, to join consecutive pieces into one range.
    ends: [Option<u128>; 4],
}

const OLD: usize = 0;
const NEW: usize = 1;
const ADDED: usize = 2;
const REMOVED: usize = 3;

impl Tally {
    fn count(&mut self, which: usize, first: u128, last: u128) {
        let a = &mut self.amounts[which];
        if self.ends[which].and_then(|e| e.checked_add(1)) != Some(first) {
            a.ranges += 1;
        }
        a.addresses = a.addresses.saturating_add((last - first).saturating_add(1));
        self.ends[which] = Some(last);
    }
}

/// How a piece of space changed: the part of the two records' difference that a person reads.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Change {
    categories_added: u32,
    categories_removed: u32,
    sources_added: Vec<u32>,
    sources_removed: Vec<u32>,
    provider: Option<(Option<u32>, Option<u32>)>,
}

/// A candidate for the largest-changes list; ordered by size, then lower address first.
#[derive(Debug)]
struct Candidate {
    addresses: u128,
    start: u128,
    len: u8,
    change: Change,
}

impl Candidate {
    fn rank(&self) -> (u128, Reverse<u128>) {
        (self.addresses, Reverse(self.start))
    }
}

impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.rank() == other.rank()
    }
}
impl Eq for Candidate {}
impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> Ordering {
        self.rank().cmp(&other.rank())
    }
}

struct State {
    /// Key id → (kind, name).
    names: Vec<(KeyKind, String)>,
    ids: HashMap<(KeyKind, String), u32>,
    /// Key id → totals per family.
    tallies: Vec<[Tally; 2]>,
}

impl State {
    fn new() -> Self {
        let mut s = State {
            names: Vec::new(),
            ids: HashMap::new(),
            tallies: Vec::new(),
        };
        s.id(KeyKind::Any, "any");
        for (_, name) in Categories::NAMED {
            s.id(KeyKind::Category, name);
        }
        s
    }

    fn id(&mut self, kind: KeyKind, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(&(kind, name.to_owned())) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push((kind, name.to_owned()));
        self.ids.insert((kind, name.to_owned()), id);
        self.tallies.push(Default::default());
        id
    }

    /// The keys of an answer's record, computed once per record of each artifact.
    fn keys<'c>(
        &mut self,
        cache: &'c mut HashMap<usize, RecordKeys>,
        a: &Answer<'_>,
    ) -> &'c RecordKeys {
        let at = a.record_words().as_ptr() as usize;
        cache.entry(at).or_insert_with(|| {
            let categories = a.categories().bits();
            let mut all = Vec::new();
            if categories != 0 {
                all.push(0);
            }
            for (i, (c, _)) in Categories::NAMED.iter().enumerate() {
                if a.categories().contains(*c) {
                    all.push(FIRST_CATEGORY + i as u32);
                }
            }
            let provider = a.provider().map(|p| self.id(KeyKind::Provider, p));
            all.extend(provider);
            let mut sources: Vec<u32> = a.sources().map(|s| self.id(KeyKind::Source, s)).collect();
            sources.sort_unstable();
            sources.dedup();
            all.extend(&sources);
            all.sort_unstable();
            RecordKeys {
                all,
                categories,
                provider,
                sources,
            }
        })
    }

    /// Tallies one family and returns its `top` largest changed prefixes.
    fn family(
        &mut self,
        old: &Database,
        new: &Database,
        family: Family,
        top: usize,
    ) -> Vec<PrefixChange> {
        let fi = usize::from(family == Family::V6);
        let (mut old_cache, mut new_cache) = (HashMap::new(), HashMap::new());
        let mut heap: BinaryHeap<Reverse<Candidate>> = BinaryHeap::new();
        // The change being extended over consecutive pieces: (first, last, change).
        let mut run: Option<(u128, u128, Change)> = None;
        for pair in merge(old, new, family) {
            let o = self.keys(&mut old_cache, &pair.old);
            let n = self.keys(&mut new_cache, &pair.new);
            let (first, last) = (pair.first, pair.last);
            for &k in &o.all {
                self.tallies[k as usize][fi].count(OLD, first, last);
            }
            for &k in &n.all {
                self.tallies[k as usize][fi].count(NEW, first, last);
            }
            let change = if o.all == n.all {
                None
            } else {
                for k in minus(&o.all, &n.all) {
                    self.tallies[k as usize][fi].count(REMOVED, first, last);
                }
                for k in minus(&n.all, &o.all) {
                    self.tallies[k as usize][fi].count(ADDED, first, last);
                }
                Some(Change {
                    categories_added: n.categories & !o.categories,
                    categories_removed: o.categories & !n.categories,
                    sources_added: minus(&n.sources, &o.sources).collect(),
                    sources_removed: minus(&o.sources, &n.sources).collect(),
                    provider: (o.provider != n.provider).then_some((o.provider, n.provider)),
                })
            };
            match (&mut run, change) {
                (Some((_, end, c)), Some(change))
                    if end.checked_add(1) == Some(first) && *c == change =>
                {
                    *end = last;
                }
                (_, change) => {
                    if let Some((a, b, c)) = run.take() {
                        push_blocks(&mut heap, top, family, a, b, c);
                    }
                    run = change.map(|c| (first, last, c));
                }
            }
        }
        if let Some((a, b, c)) = run.take() {
            push_blocks(&mut heap, top, family, a, b, c);
        }
        let mut best: Vec<Candidate> = heap.into_iter().map(|Reverse(c)| c).collect();
        best.sort_unstable_by(|a, b| b.cmp(a));
        best.into_iter().map(|c| self.describe(family, c)).collect()
    }

    fn describe(&self, family: Family, c: Candidate) -> PrefixChange {
        let name = |id: u32| self.names[id as usize].1.clone();
        PrefixChange {
            net: family.net(c.start, c.len),
            addresses: c.addresses,
            categories_added: Categories::from_bits(c.change.categories_added),
            categories_removed: Categories::from_bits(c.change.categories_removed),
            sources_added: c.change.sources_added.iter().map(|&i| name(i)).collect(),
            sources_removed: c.change.sources_removed.iter().map(|&i| name(i)).collect(),
            provider: c.change.provider.map(|(a, b)| (a.map(name), b.map(name))),
        }
    }

    fn finish(self) -> Vec<KeyDiff> {
        let mut keys: Vec<KeyDiff> = self
            .names
            .into_iter()
            .zip(self.tallies)
            .map(|((kind, name), [t4, t6])| KeyDiff {
                kind,
                name,
                v4: family_diff(&t4),
                v6: family_diff(&t6),
            })
            .collect();
        // `any` and the categories keep their fixed order; the others sort by kind and name.
        let fixed = FIRST_CATEGORY as usize + Categories::NAMED.len();
        keys[fixed..].sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
        keys
    }
}

fn family_diff(t: &Tally) -> FamilyDiff {
    FamilyDiff {
        old: t.amounts[OLD],
        new: t.amounts[NEW],
        added: t.amounts[ADDED],
        removed: t.amounts[REMOVED],
    }
}

/// The elements of ascending `a` that are not in ascending `b`.
fn minus<'x>(a: &'x [u32], b: &'x [u32]) -> impl Iterator<Item = u32> + 'x {
    a.iter()
        .copied()
        .filter(move |x| b.binary_search(x).is_err())
}

/// Splits a changed run into aligned blocks and keeps those among the `top` largest.
fn push_blocks(
    heap: &mut BinaryHeap<Reverse<Candidate>>,
    top: usize,
    family: Family,
    first: u128,
    last: u128,
    change: Change,
) {
    if top == 0 {
        return;
    }
    for (start, len) in cidrs(first, last, family.bits()) {
        let size_log = u32::from(family.bits() - len);
        let addresses = 1u128.checked_shl(size_log).unwrap_or(u128::MAX);
        let c = Candidate {
            addresses,
            start,
            len,
            change: change.clone(),
        };
        if heap.len() < top {
            heap.push(Reverse(c));
        } else if heap.peek().is_some_and(|Reverse(min)| c > *min) {
            heap.pop();
            heap.push(Reverse(c));
        }
    }
}
