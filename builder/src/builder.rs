//! The [`Builder`]: declare sources, add their entries, then compile an artifact.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::RangeInclusive;
use std::path::Path;

use ipnet::IpNet;
use ipsieve::{Categories, Tier};

use crate::compile::{self, Compiled};
use crate::error::BuildError;

/// Declares one input source.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceSpec {
    /// Unique name (`[a-z0-9-]`), shown in answers and reports.
    pub name: String,
    /// Input format (parser) name, recorded for operators.
    pub format: String,
    /// Categories every entry of the source asserts.
    pub categories: Categories,
    /// Provider display name every entry carries unless the entry names its own.
    pub provider: Option<String>,
    /// Evidence tier.
    pub tier: Tier,
    /// Weight of the source's signal, 0..=1.
    pub weight: f32,
    /// Snapshot date of the data, days since 1970-01-01.
    pub snapshot_day: Option<u32>,
    /// Licence statement.
    pub licence: Option<String>,
    /// Upstream URL.
    pub url: Option<String>,
    /// The widest entry this source may assert, in place of the per-category minimums of
    /// [`Limits::per_category`] (the floor, [`Limits::min_v4_prefix`] and
    /// [`Limits::min_v6_prefix`], still applies). `None`: the categories' minimums.
    pub min_prefix: Option<MinPrefix>,
}

impl SourceSpec {
    /// A source named `name` in `format`, first-party, weight 1, with no categories.
    pub fn new(name: impl Into<String>, format: impl Into<String>) -> Self {
        SourceSpec {
            name: name.into(),
            format: format.into(),
            categories: Categories::empty(),
            provider: None,
            tier: Tier::FirstParty,
            weight: 1.0,
            snapshot_day: None,
            licence: None,
            url: None,
            min_prefix: None,
        }
    }
    /// Sets the asserted categories.
    #[must_use]
    pub fn categories(mut self, c: Categories) -> Self {
        self.categories = c;
        self
    }
    /// Sets the provider display name.
    #[must_use]
    pub fn provider(mut self, p: impl Into<String>) -> Self {
        self.provider = Some(p.into());
        self
    }
    /// Sets the evidence tier.
    #[must_use]
    pub fn tier(mut self, t: Tier) -> Self {
        self.tier = t;
        self
    }
    /// Sets the widest entry the source may assert (see [`SourceSpec::min_prefix`]).
    #[must_use]
    pub fn min_prefix(mut self, min: MinPrefix) -> Self {
        self.min_prefix = Some(min);
        self
    }
}

/// Per-entry attributes beyond what the source asserts: the same type the source formats yield
/// ([`ipsieve_sources::formats::Attrs`]), so a parsed entry goes into the builder as it is.
pub use ipsieve_sources::formats::Attrs;

/// Handle of a declared source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SourceId(pub(crate) u32);

/// One accepted entry: an inclusive range in its family's integer space.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub lo: u128,
    pub hi: u128,
    pub src: u32,
    pub cats: u32,
    pub asn: Option<u32>,
    /// Index into the provider pool (entry's own or the source's).
    pub provider: Option<u32>,
    pub country: Option<[u8; 2]>,
}

/// The widest block an entry may cover: an IPv4 entry wider than a /`v4` or an IPv6 entry wider
/// than a /`v6` is rejected (a range that is not one CIDR block counts by its size). 0 allows
/// anything. In a manifest: `min_prefix = { v4 = 16, v6 = 32 }` on a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinPrefix {
    /// Minimum IPv4 prefix length, 0..=32.
    pub v4: u8,
    /// Minimum IPv6 prefix length, 0..=128.
    pub v6: u8,
}

impl MinPrefix {
    /// No limit: `0.0.0.0/0` and `::/0` pass.
    pub const NONE: MinPrefix = MinPrefix { v4: 0, v6: 0 };

    /// The minimums `v4` (IPv4) and `v6` (IPv6).
    pub const fn new(v4: u8, v6: u8) -> Self {
        MinPrefix { v4, v6 }
    }

    fn family(self, v6: bool) -> u8 {
        if v6 {
            self.v6
        } else {
            self.v4
        }
    }
}

/// What a categorised entry (one whose source or entry asserts a category) may cover before
/// it is rejected as absurd.
///
/// An entry must meet the floor ([`min_v4_prefix`](Limits::min_v4_prefix),
/// [`min_v6_prefix`](Limits::min_v6_prefix)) and the minimum of every category it asserts
/// ([`per_category`](Limits::per_category)), or its source's own
/// [`SourceSpec::min_prefix`] instead of the categories'. Entries without categories are not
/// limited by the categories' minimums; routing entries (an origin ASN, no category) must meet
/// the floor block by block and stay out of special-purpose space (see
/// [`reject_special`](Limits::reject_special)); RIR delegations and geofeeds are never limited.
///
/// ```
/// use ipsieve::Categories;
/// use ipsieve_builder::{Attrs, Builder, Limits, MinPrefix, SourceSpec};
///
/// // VPN entries may be no wider than a /24 or a /48 here (the default is /16 and /32).
/// let limits = Limits::default().category(Categories::VPN, MinPrefix::new(24, 48));
/// let mut b = Builder::new().limits(limits);
/// let vpn = b.add_source(SourceSpec::new("vpn", "ip-list").categories(Categories::VPN))?;
/// assert!(b.add_net(vpn, "198.51.100.0/24".parse()?, Attrs::default()).is_ok());
/// let e = b.add_net(vpn, "198.51.96.0/20".parse()?, Attrs::default()).unwrap_err();
/// assert!(e.to_string().starts_with("198.51.96.0/20 is wider than a /24"), "{e}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Minimum IPv4 prefix length of every categorised entry, whatever its categories or
    /// source, and of every CIDR block of a routing entry (one naming an origin AS; default 8:
    /// no organisation was ever allocated more than a /8, so a wider route is a default or an
    /// aggregate that names no origin for its addresses).
    pub min_v4_prefix: u8,
    /// Minimum IPv6 prefix length of every categorised entry and of every CIDR block of a
    /// routing entry (default 16).
    pub min_v6_prefix: u8,
    /// Minimum prefix lengths per category, in [`Categories::NAMED`] order (tor_exit,
    /// tor_relay, vpn, proxy, hosting, relay); an entry asserting several categories must meet
    /// the strictest. Default [`Limits::DEFAULT_PER_CATEGORY`].
    pub per_category: [MinPrefix; Categories::NAMED.len()],
    /// Reject entries that overlap a special-purpose block: private, CGNAT, loopback,
    /// link-local, multicast, reserved, unspecified, IPv6 unique-local (default on; see
    /// the `special` table in the builder's source), and routing entries (an origin AS without
    /// a category: prefix-to-AS, IP-to-AS, MRT, MMDB ASN rows) that overlap one, which would
    /// give private space an owner. Entries with neither categories nor an ASN (RIR
    /// delegations, geofeeds) are not affected.
    pub reject_special: bool,
}

impl Limits {
    /// The default per-category minimums, each below the shortest prefix real lists of the
    /// category hold (measured over the shared data mirror, `sources/shared-data.toml`, and the
    /// vendored snapshot; `builder/tests/hostile_sources.rs` checks it):
    ///
    /// | category | default | shortest real prefix (IPv4, IPv6) |
    /// |---|---|---|
    /// | tor_exit | /24, /48 | /32, /128: exit lists name hosts |
    /// | tor_relay | /24, /48 | /32, /128 |
    /// | vpn | /16, /32 | /26 (X4BNet ProtonVPN and PIA lists), /128; the disabled X4BNet aggregate has /16 |
    /// | proxy | /24, /48 | /32 (proxy lists name hosts), none |
    /// | hosting | /8, /16 (the floor) | /9 (X4BNet datacenter list), /29 (Cloudflare, Hetzner, Leaseweb, Vultr) |
    /// | relay | /16, /24 | /22, /34 (iCloud Private Relay egress) |
    pub const DEFAULT_PER_CATEGORY: [MinPrefix; Categories::NAMED.len()] = [
        MinPrefix::new(24, 48),
        MinPrefix::new(24, 48),
        MinPrefix::new(16, 32),
        MinPrefix::new(24, 48),
        MinPrefix::new(8, 16),
        MinPrefix::new(16, 24),
    ];

    /// No limit at all: any width, special-purpose space allowed (reference models, fuzzing).
    pub const fn none() -> Self {
        Limits {
            min_v4_prefix: 0,
            min_v6_prefix: 0,
            per_category: [MinPrefix::NONE; Categories::NAMED.len()],
            reject_special: false,
        }
    }

    /// Sets the minimum of every category in `categories`.
    #[must_use]
    pub fn category(mut self, categories: Categories, min: MinPrefix) -> Self {
        for (slot, (c, _)) in self.per_category.iter_mut().zip(Categories::NAMED) {
            if categories.contains(c) {
                *slot = min;
            }
        }
        self
    }

    /// The minimum an entry asserting `categories` must meet without a source override: per
    /// family, the longest of the floor and of each category's minimum.
    pub fn min_prefix(&self, categories: Categories) -> MinPrefix {
        MinPrefix::new(
            self.limit(None, categories, false).0,
            self.limit(None, categories, true).0,
        )
    }

    /// The longest of the floor and of `source`'s minimum (when it has one) or else of every
    /// asserted category's minimum, in one family, with what sets it.
    fn limit(&self, source: Option<MinPrefix>, cats: Categories, v6: bool) -> (u8, LimitBy) {
        let floor = MinPrefix::new(self.min_v4_prefix, self.min_v6_prefix).family(v6);
        let (min, by) = match source {
            Some(m) => (m.family(v6), LimitBy::Source),
            None => self
                .per_category
                .iter()
                .zip(Categories::NAMED)
                .filter(|(_, (c, _))| cats.contains(*c))
                .map(|(m, (_, name))| (m.family(v6), LimitBy::Category(name)))
                .fold((0, LimitBy::Floor), |best, next| {
                    if next.0 > best.0 {
                        next
                    } else {
                        best
                    }
                }),
        };
        if min > floor {
            (min, by)
        } else {
            (floor, LimitBy::Floor)
        }
    }
}

/// What sets the prefix limit an entry failed, for the rejection's reason.
#[derive(Debug, Clone, Copy)]
enum LimitBy {
    /// [`Limits::min_v4_prefix`] / [`Limits::min_v6_prefix`].
    Floor,
    /// The named category's [`Limits::per_category`] entry.
    Category(&'static str),
    /// The source's [`SourceSpec::min_prefix`].
    Source,
}

impl LimitBy {
    fn describe(self, spec: &SourceSpec) -> String {
        match self {
            LimitBy::Floor => "the limit for any categorised entry".to_owned(),
            LimitBy::Category(name) => {
                format!("the limit for {name} entries (a source's min_prefix can change it)")
            }
            LimitBy::Source => format!("the limit source '{}' sets (its min_prefix)", spec.name),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            min_v4_prefix: 8,
            min_v6_prefix: 16,
            per_category: Self::DEFAULT_PER_CATEGORY,
            reject_special: true,
        }
    }
}

/// Collects sources and entries and compiles them into an artifact.
///
/// The result depends only on the set of sources and entries, not on the order they were
/// added: the same inputs give a byte-identical artifact.
///
/// ```
/// use ipsieve::{Categories, Database};
/// use ipsieve_builder::{Attrs, Builder, SourceSpec};
///
/// let mut b = Builder::new().build_time(1_700_000_000);
/// let tor = b.add_source(SourceSpec::new("tor", "tor-exit-list").categories(Categories::TOR_EXIT))?;
/// b.add_net(tor, "185.220.101.1/32".parse().unwrap(), Attrs::default())?;
/// let bytes = b.compile()?.bytes;
/// let db = Database::from_bytes(&bytes)?;
/// assert!(db.lookup("185.220.101.1".parse().unwrap()).is_tor());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default)]
pub struct Builder {
    pub(crate) sources: Vec<SourceSpec>,
    pub(crate) by_name: HashMap<String, u32>,
    pub(crate) v4: Vec<Entry>,
    pub(crate) v6: Vec<Entry>,
    pub(crate) providers: Vec<String>,
    provider_ids: HashMap<String, u32>,
    pub(crate) as_names: BTreeMap<u32, String>,
    /// ASN → the organisations its names give ([`crate::siblings::org_key`]).
    pub(crate) as_orgs: BTreeMap<u32, BTreeSet<String>>,
    /// ASN → its registered country ([`Builder::add_as_country`]).
    pub(crate) as_country: BTreeMap<u32, [u8; 2]>,
    /// The registries whose delegations the sources hold ([`Builder::add_rir_registry`]).
    pub(crate) rir_registries: BTreeSet<String>,
    /// ASN → the ASN-list sources naming it.
    pub(crate) asn_lists: BTreeMap<u32, Vec<u32>>,
    pub(crate) build_time: u64,
    pub(crate) limits: Limits,
    pub(crate) metadata: BTreeMap<String, String>,
    /// Whether the AS-name keyword rule runs ([`Builder::as_name_keywords`]).
    pub(crate) as_name_keywords: bool,
    /// Whether the VPN co-location rule runs ([`Builder::vpn_colocation`]).
    pub(crate) vpn_colocation: bool,
}

impl Builder {
    /// An empty builder with build time 0 and default [`Limits`].
    pub fn new() -> Self {
        Builder::default()
    }

    /// Sets the build time recorded in the header (Unix seconds). Fix it (e.g. from
    /// `SOURCE_DATE_EPOCH`) for reproducible builds.
    #[must_use]
    pub fn build_time(mut self, secs: u64) -> Self {
        self.build_time = secs;
        self
    }

    /// The build time recorded in the header (Unix seconds).
    pub fn time(&self) -> u64 {
        self.build_time
    }

    /// Turns on the AS-name keyword rule ([`crate::keywords`]; off by default, as in a
    /// manifest without `as_name_keywords = true`): an AS on no hosting list whose name says it
    /// hosts gets `hosting` at the `keyword` tier.
    #[must_use]
    pub fn as_name_keywords(mut self, on: bool) -> Self {
        self.as_name_keywords = on;
        self
    }

    /// Turns on the VPN co-location rule ([`crate::colocation`]; off by default, as in a
    /// manifest without `vpn_colocation = true`): an AS on no hosting list that announces the
    /// servers of three or more VPN providers gets `hosting` at the `asn-heuristic` tier.
    #[must_use]
    pub fn vpn_colocation(mut self, on: bool) -> Self {
        self.vpn_colocation = on;
        self
    }

    /// Sets the limits on absurdly wide entries.
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Adds a (key, value) pair to the build metadata.
    pub fn metadata(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.metadata.insert(key.into(), value.into());
    }

    /// Declares a source.
    ///
    /// # Errors
    /// [`BuildError::DuplicateSource`] when the name is taken, [`BuildError::InvalidSource`]
    /// when the name is empty or not `[a-z0-9._-]`, or the weight is outside 0..=1.
    pub fn add_source(&mut self, spec: SourceSpec) -> Result<SourceId, BuildError> {
        let valid_name = !spec.name.is_empty()
            && spec
                .name
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b"-_.".contains(&c));
        if !valid_name {
            return Err(BuildError::InvalidSource {
                name: spec.name,
                reason: "a source name must be non-empty lowercase [a-z0-9._-]".into(),
            });
        }
        if !(0.0..=1.0).contains(&spec.weight) {
            return Err(BuildError::InvalidSource {
                name: spec.name,
                reason: format!("weight {} is outside 0..=1", spec.weight),
            });
        }
        if self.by_name.contains_key(&spec.name) {
            return Err(BuildError::DuplicateSource(spec.name));
        }
        let id = self.sources.len() as u32;
        self.by_name.insert(spec.name.clone(), id);
        self.sources.push(spec);
        Ok(SourceId(id))
    }

    /// The declared source with this handle.
    pub fn source(&self, id: SourceId) -> &SourceSpec {
        &self.sources[id.0 as usize]
    }

    /// Adds a network.
    ///
    /// # Errors
    /// [`BuildError::Rejected`] when the entry is wider than [`Limits`] (or its source's
    /// [`SourceSpec::min_prefix`]) allow for a source or entry that asserts categories, overlaps
    /// special-purpose space, names AS 0 as its origin (RFC 7607), is a routing entry (an
    /// origin ASN, no category) wider than the floor or in special-purpose space, or the
    /// country code is not two uppercase letters.
    pub fn add_net(&mut self, src: SourceId, net: IpNet, attrs: Attrs) -> Result<(), BuildError> {
        let net = net.trunc();
        self.add_range(src, net.network(), net.broadcast(), attrs)
    }

    /// Adds an inclusive address range (both ends of the same family, `start <= end`).
    ///
    /// # Errors
    /// As [`Builder::add_net`], plus [`BuildError::Rejected`] for mixed families or
    /// `start > end`.
    pub fn add_range(
        &mut self,
        src: SourceId,
        start: IpAddr,
        end: IpAddr,
        attrs: Attrs,
    ) -> Result<(), BuildError> {
        let (lo, hi, v6) = match (start, end) {
            (IpAddr::V4(a), IpAddr::V4(b)) => (u32::from(a) as u128, u32::from(b) as u128, false),
            (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), true),
            _ => {
                return Err(BuildError::Rejected(format!(
                    "range {start}-{end} mixes IPv4 and IPv6"
                )))
            }
        };
        if lo > hi {
            return Err(BuildError::Rejected(format!(
                "range {start}-{end} ends before it starts"
            )));
        }
        if attrs.asn == Some(0) {
            return Err(BuildError::Rejected(format!(
                "{} has origin AS0, which is reserved (RFC 7607): no route originates from it, \
                 a route naming it is treated as withdrawn",
                describe(lo, hi, v6)
            )));
        }
        let spec = &self.sources[src.0 as usize];
        let cats = spec.categories.bits() | attrs.categories.bits();
        if cats == 0 && attrs.asn.is_some() {
            self.check_routing(lo, hi, v6)?;
        }
        if cats != 0 {
            let bits = if v6 { 128u32 } else { 32 };
            let (min, by) = self
                .limits
                .limit(spec.min_prefix, Categories::from_bits(cats), v6);
            // A range wider than a /min block is absurd for a list of endpoints.
            let max_width = u128::MAX
                .checked_shr(128 - bits + u32::from(min).min(bits))
                .unwrap_or(0);
            if hi - lo > max_width {
                let cats = Categories::from_bits(cats);
                return Err(BuildError::Rejected(format!(
                    "{} is wider than a /{min}, {}: too broad for a {cats} list",
                    describe(lo, hi, v6),
                    by.describe(spec)
                )));
            }
            if self.limits.reject_special {
                if let Some(block) = crate::special::overlap(lo, hi, v6) {
                    let cats = Categories::from_bits(cats);
                    return Err(BuildError::Rejected(format!(
                        "{} overlaps {block}: not an address a {cats} list can claim",
                        describe(lo, hi, v6)
                    )));
                }
            }
        }
        if let Some(cc) = attrs.country {
            if !cc.iter().all(u8::is_ascii_uppercase) {
                return Err(BuildError::Rejected(format!(
                    "country code {:?} is not two uppercase letters",
                    String::from_utf8_lossy(&cc)
                )));
            }
        }
        let provider = attrs
            .provider
            .or_else(|| spec.provider.clone())
            .map(|p| self.intern_provider(p));
        let e = Entry {
            lo,
            hi,
            src: src.0,
            cats,
            asn: attrs.asn,
            provider,
            country: attrs.country,
        };
        if v6 {
            self.v6.push(e);
        } else {
            self.v4.push(e);
        }
        Ok(())
    }

    /// The limits on a routing entry (one that names an origin AS and asserts no category): no
    /// wider than the floor ([`Limits::min_v4_prefix`], [`Limits::min_v6_prefix`]), no
    /// overlap with special-purpose space ([`Limits::reject_special`]). A default route
    /// (`0.0.0.0/0` in a RIB dump) or a private prefix would otherwise give private, loopback
    /// and multicast addresses an owner.
    fn check_routing(&self, lo: u128, hi: u128, v6: bool) -> Result<(), BuildError> {
        let (bits, min) = if v6 {
            (128, self.limits.min_v6_prefix)
        } else {
            (32, self.limits.min_v4_prefix)
        };
        // A range from an IP-to-AS table merges adjacent prefixes of one AS (two /8s of the
        // same network make one range), so each of its CIDR blocks is judged, not its size.
        let (start, len) = widest_block(lo, hi, bits);
        if len < u32::from(min) {
            let block = describe(start, block_end(start, bits - len), v6);
            let entry = describe(lo, hi, v6);
            let what = if block == entry {
                format!("{entry} is")
            } else {
                format!("{entry} holds {block},")
            };
            return Err(BuildError::Rejected(format!(
                "{what} wider than a /{min}, the limit for routing entries: a default or \
                 aggregate route names no origin for the addresses it covers"
            )));
        }
        if self.limits.reject_special {
            if let Some(block) = crate::special::overlap(lo, hi, v6) {
                return Err(BuildError::Rejected(format!(
                    "{} overlaps {block}: special-purpose space has no origin AS",
                    describe(lo, hi, v6)
                )));
            }
        }
        Ok(())
    }

    fn intern_provider(&mut self, p: String) -> u32 {
        if let Some(&id) = self.provider_ids.get(&p) {
            return id;
        }
        let id = self.providers.len() as u32;
        self.providers.push(p.clone());
        self.provider_ids.insert(p, id);
        id
    }

    /// Puts `asn` on the ASN list of source `src`: every range whose origin AS (from the most
    /// specific routing entry covering it) is `asn` gets the source's categories, and the
    /// source joins its matching sources. This is how hosting- and VPN-ASN lists apply.
    ///
    /// # Errors
    /// [`BuildError::Rejected`] for AS 0 and the reserved AS 4294967295, or when the source
    /// asserts no category (the list would change nothing).
    pub fn add_asn(&mut self, src: SourceId, asn: u32) -> Result<(), BuildError> {
        if asn == 0 || asn == u32::MAX {
            return Err(BuildError::Rejected(format!("AS{asn} is reserved")));
        }
        if self.sources[src.0 as usize].categories.is_empty() {
            return Err(BuildError::Rejected(
                "an ASN list must declare the categories it asserts".into(),
            ));
        }
        let list = self.asn_lists.entry(asn).or_default();
        if !list.contains(&src.0) {
            list.push(src.0);
        }
        Ok(())
    }

    /// Records the organisation name of an AS (the last name given for an ASN wins as the
    /// answers' `as_org`). Every name given also names the AS's organisation for the
    /// AS-organisation sibling rule ([`crate::siblings`]).
    pub fn add_as_name(&mut self, asn: u32, name: impl Into<String>) {
        let name = name.into();
        if self.as_names.get(&asn) == Some(&name) {
            // Range after range of one AS carries its name again (ip-location-db, iptoasn).
            return;
        }
        if let Some(org) = crate::siblings::org_key(&name) {
            self.as_orgs.entry(asn).or_default().insert(org);
        }
        self.as_names.insert(asn, name);
    }

    /// Records the country an AS is registered in (two letters; the alphabetically first
    /// wins when sources differ, so the order of sources does not matter). The sibling rule's
    /// eyeball guard compares an AS with its country's routed space ([`crate::siblings`]).
    pub fn add_as_country(&mut self, asn: u32, cc: [u8; 2]) {
        let slot = self.as_country.entry(asn).or_insert(cc);
        *slot = (*slot).min(cc);
    }

    /// Records that a source holds delegations of `registry` (an RIR statistics file's rows):
    /// the artifact lists the registries read (metadata key
    /// [`ipsieve::special::RIR_REGISTRIES_KEY`]), and names undelegated space a bogon only
    /// when all five are there ([`ipsieve::Database::has_rir_delegations`]).
    pub fn add_rir_registry(&mut self, registry: impl Into<String>) {
        self.rir_registries.insert(registry.into());
    }

    /// Number of entries added so far (IPv4, IPv6).
    pub fn entry_counts(&self) -> (usize, usize) {
        (self.v4.len(), self.v6.len())
    }

    /// The IPv4 entries added so far, as inclusive ranges in insertion order (for probes and
    /// evaluations that need to know what went in).
    pub fn ranges_v4(&self) -> impl Iterator<Item = RangeInclusive<Ipv4Addr>> + '_ {
        self.v4
            .iter()
            .map(|e| Ipv4Addr::from(e.lo as u32)..=Ipv4Addr::from(e.hi as u32))
    }

    /// The IPv6 entries added so far, as inclusive ranges in insertion order.
    pub fn ranges_v6(&self) -> impl Iterator<Item = RangeInclusive<Ipv6Addr>> + '_ {
        self.v6
            .iter()
            .map(|e| Ipv6Addr::from(e.lo)..=Ipv6Addr::from(e.hi))
    }

    /// Compiles everything added into an artifact.
    ///
    /// # Errors
    /// [`BuildError::TooLarge`] when the artifact would exceed the format's limits.
    pub fn compile(&self) -> Result<Compiled, BuildError> {
        compile::compile(self)
    }

    /// Compiles and writes the artifact to `path` safely: a temporary file in the same
    /// directory, fsync, a check that it opens, then an atomic rename over `path`. An existing
    /// file at `path` is never modified in place.
    ///
    /// # Errors
    /// [`BuildError::Io`] when writing fails (the old file is untouched), or as
    /// [`Builder::compile`].
    pub fn write_to(&self, path: impl AsRef<Path>) -> Result<Compiled, BuildError> {
        let compiled = self.compile()?;
        crate::write::publish(&compiled.bytes, path.as_ref())?;
        Ok(compiled)
    }
}

/// The widest of the CIDR blocks `lo..=hi` splits into (the fewest aligned blocks that cover
/// it exactly), as its first address and prefix length, in a family of `bits` bits.
fn widest_block(lo: u128, hi: u128, bits: u32) -> (u128, u32) {
    let mut widest = (lo, bits);
    let mut at = lo;
    loop {
        // The largest block starting at `at`: as aligned as `at` is, and not past `hi`.
        let aligned = if at == 0 {
            bits
        } else {
            at.trailing_zeros().min(bits)
        };
        let fits = match (hi - at).checked_add(1) {
            Some(n) => 127 - n.leading_zeros(),
            None => 128,
        };
        let k = aligned.min(fits);
        if bits - k < widest.1 {
            widest = (at, bits - k);
        }
        let end = block_end(at, k);
        if end >= hi {
            return widest;
        }
        at = end + 1;
    }
}

/// The last address of the block of `2^k` addresses starting at `start`.
fn block_end(start: u128, k: u32) -> u128 {
    start + u128::MAX.checked_shr(128 - k).unwrap_or(0)
}

/// `lo..=hi` as a CIDR block (`192.0.2.0/24`) when it is exactly one, else as `first-last`.
fn describe(lo: u128, hi: u128, v6: bool) -> String {
    let addr = |x: u128| {
        if v6 {
            IpAddr::V6(Ipv6Addr::from(x))
        } else {
            IpAddr::V4(Ipv4Addr::from(x as u32))
        }
    };
    let width = hi - lo;
    let bits = if v6 { 128 } else { 32 };
    if width & width.wrapping_add(1) == 0 && lo & width == 0 {
        let len = bits - width.count_ones() as u8;
        if let Ok(net) = IpNet::new(addr(lo), len) {
            return net.to_string();
        }
    }
    format!("{}-{}", addr(lo), addr(hi))
}

/// Entries repeated within one source: see [`Builder::repeats_since`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Repeats {
    /// Entries equal to an earlier one in range and every attribute.
    pub same: u64,
    /// The earliest such (earlier, later) pair, as indices counted from the mark.
    pub first_same: Option<(usize, usize)>,
    /// Entries with the range of an earlier one but other attributes.
    pub differing: u64,
    /// The earliest such pair.
    pub first_differing: Option<(usize, usize)>,
}

impl Builder {
    /// One entry as `192.0.2.0/24 (AS64500, DE, provider "Acme", vpn)` for reports.
    pub(crate) fn entry_summary(&self, v6: bool, index: usize) -> String {
        let Some(e) = (if v6 { &self.v6 } else { &self.v4 }).get(index) else {
            return String::new();
        };
        let mut attrs = Vec::new();
        attrs.extend(e.asn.map(|a| format!("AS{a}")));
        attrs.extend(e.country.map(|c| String::from_utf8_lossy(&c).into_owned()));
        attrs.extend(
            e.provider
                .and_then(|p| self.providers.get(p as usize))
                .map(|p| format!("provider {p:?}")),
        );
        let cats = Categories::from_bits(e.cats);
        if !cats.is_empty() {
            attrs.push(cats.to_string());
        }
        let range = describe(e.lo, e.hi, v6);
        if attrs.is_empty() {
            range
        } else {
            format!("{range} ({})", attrs.join(", "))
        }
    }

    /// Repeats among one family's entries from index `from` on (one source's, when `from` was
    /// taken just before it was read): each entry whose range an earlier entry in that span
    /// already had is counted once, as `same` or `differing`.
    pub(crate) fn repeats_since(&self, v6: bool, from: usize) -> Repeats {
        let entries = if v6 {
            &self.v6[from..]
        } else {
            &self.v4[from..]
        };
        let key = |i: usize| {
            let e = &entries[i];
            (e.lo, e.hi, e.cats, e.asn, e.provider, e.country)
        };
        // By range, then attributes, then input order: equal entries end up side by side.
        let mut order: Vec<usize> = (0..entries.len()).collect();
        order.sort_unstable_by_key(|&i| (key(i), i));
        let mut out = Repeats::default();
        let earliest = |slot: &mut Option<(usize, usize)>, pair: (usize, usize)| {
            if slot.is_none_or(|(_, later)| pair.1 < later) {
                *slot = Some(pair);
            }
        };
        let range = |i: usize| (entries[i].lo, entries[i].hi);
        let mut start = 0;
        while start < order.len() {
            let end = start
                + order[start..]
                    .iter()
                    .take_while(|&&i| range(i) == range(order[start]))
                    .count();
            let group = &order[start..end];
            // Runs of equal attributes: a run's first entry restates the range with other
            // attributes (unless it is the range's first entry), the others repeat it.
            let oldest = group.iter().copied().min().unwrap_or(group[0]);
            let mut run = group[0];
            let new_run = |first: usize, out: &mut Repeats| {
                if first != oldest {
                    out.differing += 1;
                    earliest(&mut out.first_differing, (oldest, first));
                }
            };
            new_run(run, &mut out);
            for pair in group.windows(2) {
                let &[before, i] = pair else { continue };
                if key(before) == key(i) {
                    out.same += 1;
                    earliest(&mut out.first_same, (run, i));
                } else {
                    run = i;
                    new_run(run, &mut out);
                }
            }
            start = end;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::widest_block;

    fn v4(s: &str) -> u128 {
        u128::from(u32::from(s.parse::<std::net::Ipv4Addr>().unwrap()))
    }

    #[test]
    fn widest_block_of_a_range() {
        // Two /8s of one AS, merged by an IP-to-AS table; a range starting mid-/8.
        assert_eq!(
            widest_block(v4("21.0.0.0"), v4("22.255.255.255"), 32),
            (v4("21.0.0.0"), 8)
        );
        assert_eq!(
            widest_block(v4("28.4.61.0"), v4("30.255.255.255"), 32),
            (v4("29.0.0.0"), 8)
        );
        assert_eq!(
            widest_block(v4("3.255.255.0"), v4("6.0.0.0"), 32),
            (v4("4.0.0.0"), 7)
        );
        assert_eq!(widest_block(0, u128::from(u32::MAX), 32), (0, 0));
        assert_eq!(
            widest_block(v4("192.0.2.7"), v4("192.0.2.7"), 32),
            (v4("192.0.2.7"), 32)
        );
        assert_eq!(widest_block(0, u128::MAX, 128), (0, 0));
        assert_eq!(widest_block(1, u128::MAX, 128), (1 << 127, 1));
        assert_eq!(widest_block(u128::MAX, u128::MAX, 128), (u128::MAX, 128));
    }
}
