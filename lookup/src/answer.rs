//! The answer to one lookup: borrowed from the database, never allocated.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use crate::database::Database;
use crate::format::{class, hot, rec, NONE};
use crate::types::{Categories, Verdict};

/// The words of the empty record (nothing known), used for record 0 of every artifact.
pub(crate) static EMPTY_RECORD: [u32; rec::WORDS] = [0, 0, NONE, NONE, 0, NONE, 0, NONE];

/// What the artifact knows about one address.
///
/// An answer holds the leaf value the lookup ended on: the record index and a summary class.
/// Categories, verdict and the policy's evidence check come from the summary (a table of at
/// most 255 words that stays in the L1 cache); the record, a 32-byte line elsewhere in the
/// artifact, is read only by the accessors of its fields (ASN, AS organisation, provider,
/// country, score, sources and signals). Every accessor is allocation-free and, but for
/// [`Answer::network`] and [`Answer::range`] (worked out on demand by walking the index beside
/// the address), O(1); strings borrow from the database.
#[derive(Clone, Copy)]
pub struct Answer<'a> {
    db: &'a Database,
    ip: IpAddr,
    /// The leaf value ([`crate::format::leaf`]).
    leaf: u32,
}

impl std::fmt::Debug for Answer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Answer")
            .field("ip", &self.ip)
            .field("network", &self.network())
            .field("categories", &self.categories())
            .field("verdict", &self.verdict())
            .field("score", &self.score())
            .field("asn", &self.asn())
            .field("as_org", &self.as_org())
            .field("provider", &self.provider())
            .field("country", &self.country())
            .field("sources", &self.sources().collect::<Vec<_>>())
            .finish()
    }
}

impl<'a> Answer<'a> {
    #[inline(always)]
    pub(crate) fn new(db: &'a Database, ip: IpAddr, leaf: u32) -> Self {
        Answer { db, ip, leaf }
    }

    /// The record's words (one read of the record's line).
    #[inline(always)]
    fn rec(&self) -> &'a [u32; rec::WORDS] {
        self.db.record(self.leaf)
    }

    /// The summary class word: from the class table, or from the record for a leaf whose
    /// class says so.
    #[inline(always)]
    fn summary(&self) -> u32 {
        match self.db.class(self.leaf) {
            Some(word) => word,
            None => crate::database::record_summary(self.db, self.rec()),
        }
    }

    /// First and last address (in the family's integer space) of the range with this answer.
    fn bounds(&self) -> (u128, u128) {
        self.db.bounds(self.ip, self.leaf)
    }

    /// The address looked up (IPv4-mapped IPv6 reads as its IPv4 address).
    pub fn ip(&self) -> IpAddr {
        self.ip
    }

    /// The largest network containing the address in which every address has this same
    /// answer (the MaxMind notion of "network"), and never wider than the special-purpose block
    /// holding it ([`Answer::special`]: `10.0.0.1` answers `10.0.0.0/8`, not the `10.0.0.0/7`
    /// of unknown space around it). Worked out on demand in O(trie depth).
    pub fn network(&self) -> IpNet {
        let special = self.special().map_or(0, |s| s.network().prefix_len());
        let len = crate::special::clear_len(self.ip, self.db.network_len(self.ip).max(special));
        match self.ip {
            IpAddr::V4(a) => IpNet::V4(
                Ipv4Net::new(a, len.min(32))
                    .unwrap_or_else(|_| Ipv4Net::from(a))
                    .trunc(),
            ),
            IpAddr::V6(a) => IpNet::V6(
                Ipv6Net::new(a, len.min(128))
                    .unwrap_or_else(|_| Ipv6Net::from(a))
                    .trunc(),
            ),
        }
    }

    /// First and last address of the maximal range (not necessarily a CIDR block) sharing
    /// this answer, as far as the index resolves it.
    pub fn range(&self) -> (IpAddr, IpAddr) {
        let (lo, hi) = self.bounds();
        match self.ip {
            IpAddr::V4(_) => (
                IpAddr::V4(Ipv4Addr::from(lo as u32)),
                IpAddr::V4(Ipv4Addr::from(hi as u32)),
            ),
            IpAddr::V6(_) => (
                IpAddr::V6(Ipv6Addr::from(lo)),
                IpAddr::V6(Ipv6Addr::from(hi)),
            ),
        }
    }

    /// All categories of all sources covering the address. Reads no record.
    #[inline]
    pub fn categories(&self) -> Categories {
        Categories::from_bits(class::categories(self.summary()))
    }
    /// The categories only weak evidence supports (asn-heuristic, asn-sibling or keyword sources; see
    /// [`crate::classify::weak_categories`]). Reads no record.
    #[inline]
    pub fn weak_categories(&self) -> Categories {
        Categories::from_bits(class::weak(self.summary()))
    }
    /// The special-purpose block holding the address (private-use, shared/CGNAT, loopback,
    /// link-local, documentation, benchmarking, multicast, reserved, unique-local, …: the IANA
    /// registries, built into this crate, see [`crate::special`]), or `None` for ordinary
    /// unicast space. Reads nothing from the artifact.
    pub fn special(&self) -> Option<crate::special::Special> {
        crate::special::lookup(self.ip)
    }
    /// Whether the address is a bogon in the usual operator sense: special-purpose space that
    /// cannot be a real client on the public internet ([`crate::special::Special::is_bogon`]),
    /// or, when the artifact was built with the delegation files of all five RIRs
    /// ([`Database::has_rir_delegations`]), space that no RIR has delegated (allocated or
    /// assigned). A request from a bogon source address over the internet was spoofed.
    /// Special-purpose blocks that are globally reachable (6to4, AS112, NAT64) are not bogons.
    /// Reads the record's sources when the address is in no special-purpose block.
    pub fn is_bogon(&self) -> bool {
        match self.special() {
            Some(block) => block.is_bogon(),
            None => {
                self.db.has_rir_delegations()
                    && !self
                        .signals()
                        .any(|s| s.format() == crate::special::RIR_DELEGATED_FORMAT)
            }
        }
    }
    /// A Tor exit (measured exit address or a relay with the Exit flag). Relays without the
    /// exit role are [`Answer::is_tor_relay`] and are not anonymous traffic by themselves.
    #[inline]
    pub fn is_tor(&self) -> bool {
        self.categories().contains(Categories::TOR_EXIT)
    }
    /// Same as [`Answer::is_tor`], named like MaxMind's `is_tor_exit_node`.
    #[inline]
    pub fn is_tor_exit(&self) -> bool {
        self.is_tor()
    }
    /// A Tor relay's OR address (any role).
    #[inline]
    pub fn is_tor_relay(&self) -> bool {
        self.categories().contains(Categories::TOR_RELAY)
    }
    /// A VPN endpoint.
    #[inline]
    pub fn is_vpn(&self) -> bool {
        self.categories().contains(Categories::VPN)
    }
    /// A public proxy.
    #[inline]
    pub fn is_proxy(&self) -> bool {
        self.categories().contains(Categories::PROXY)
    }
    /// Hosting, cloud or datacenter space.
    #[inline]
    pub fn is_hosting(&self) -> bool {
        self.categories().contains(Categories::HOSTING)
    }
    /// A privacy relay such as iCloud Private Relay (not a VPN).
    #[inline]
    pub fn is_relay(&self) -> bool {
        self.categories().contains(Categories::RELAY)
    }
    /// Traffic that hides its origin: a Tor exit, a VPN or a public proxy (MaxMind's
    /// `is_anonymous`: any of [`Answer::is_anonymous_vpn`], [`Answer::is_public_proxy`],
    /// [`Answer::is_tor_exit_node`], [`Answer::is_residential_proxy`]). Privacy relays, Tor
    /// relays and hosting alone are not counted; MaxMind's data also sets `is_anonymous` on
    /// hosting ranges, so `is_anonymous() || is_hosting_provider()` is the closest match to it.
    #[inline]
    pub fn is_anonymous(&self) -> bool {
        self.categories().bits()
            & (Categories::TOR_EXIT.bits() | Categories::VPN.bits() | Categories::PROXY.bits())
            != 0
    }
    /// True when no source covers the address (empty categories, no ASN, `clean`).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.rec()[rec::SOURCE_SET] == NONE
    }

    /// Origin ASN of the most specific BGP prefix covering the address. Reads the record's
    /// 8-byte entry in the dense hot column, not the record.
    #[inline]
    pub fn asn(&self) -> Option<u32> {
        hot::asn(self.db.hot(self.leaf))
    }
    /// Name of the origin AS's organisation.
    #[inline]
    pub fn as_org(&self) -> Option<&'a str> {
        self.db.string(self.rec()[rec::AS_ORG])
    }
    /// Operator of the service (`"Mullvad"`, `"Amazon AWS"`), from the most specific source
    /// that names one.
    #[inline]
    pub fn provider(&self) -> Option<&'a str> {
        self.db.string(self.rec()[rec::PROVIDER])
    }
    /// ISO 3166-1 alpha-2 country code, from the most specific source that carries one. Reads
    /// the hot column, as [`Answer::asn`] does.
    #[inline]
    pub fn country(&self) -> Option<&'a str> {
        let words: &'a [u32] = self.db.hot(self.leaf);
        let bytes: &'a [u8] = bytemuck::cast_slice(words);
        let at = hot::COUNTRY_FLAGS * 4;
        let cc = bytes.get(at..at + 2)?;
        if cc == [0, 0] {
            return None;
        }
        std::str::from_utf8(cc).ok()
    }
    /// When the evidence was last seen: the newest snapshot day (days since 1970-01-01, UTC)
    /// of a source asserting one of the answer's categories here; `None` when the answer has
    /// no category or no such source is dated. Like MaxMind's `network_last_seen`: an
    /// address a list gave up years ago answers an old day. Reads the record.
    #[inline]
    pub fn last_seen_day(&self) -> Option<u32> {
        let day = self.rec()[rec::LAST_SEEN];
        (day != NONE).then_some(day)
    }
    /// The verdict. Reads no record.
    #[inline]
    pub fn verdict(&self) -> Verdict {
        Verdict::from_u8(class::verdict(self.summary()))
    }
    /// Risk score in 0..=1 (hundredths).
    #[inline]
    pub fn score(&self) -> f32 {
        // `verify` checks the stored hundredths are at most 100; clamp for unverified files.
        (self.rec()[rec::COUNTRY_VERDICT_SCORE] >> 24).min(100) as f32 / 100.0
    }
    /// Names of the sources whose data covers the address, in source order.
    #[inline]
    pub fn sources(&self) -> SourceNames<'a> {
        SourceNames {
            db: self.db,
            set: self.db.source_set(self.rec()[rec::SOURCE_SET]).iter(),
        }
    }
    /// The matching sources with their metadata (tier, snapshot date, …).
    pub fn source_infos(&self) -> impl Iterator<Item = crate::SourceInfo<'a>> + 'a {
        let db = self.db;
        db.source_set(self.rec()[rec::SOURCE_SET])
            .iter()
            .filter_map(move |&i| db.source(i as usize))
    }
    /// The signals behind the answer, one per matching source in source order: its name,
    /// format, the categories it asserts here, its tier, its weight and its snapshot date
    /// (see [`crate::classify`] and `docs/INTELLIGENCE.md`). Allocation-free.
    ///
    /// ```
    /// let db = ipsieve::Database::from_bytes(include_bytes!("../tests/golden/v4.ipsieve"))?;
    /// let a = db.lookup("185.220.101.1".parse().unwrap());
    /// for s in a.signals() {
    ///     println!("{} ({}, {}): {} weight {:.2}", s.name(), s.format(), s.tier(), s.categories(), s.weight());
    /// }
    /// let tor = a.signals().find(|s| s.name() == "tor-exit-addresses").unwrap();
    /// assert_eq!(tor.categories(), ipsieve::Categories::TOR_EXIT);
    /// assert_eq!(tor.weight(), 1.0);
    /// # Ok::<(), ipsieve::OpenError>(())
    /// ```
    #[inline]
    pub fn signals(&self) -> crate::Signals<'a> {
        crate::Signals::new(
            self.db,
            self.db.source_set(self.rec()[rec::SOURCE_SET]),
            self.categories(),
        )
    }
    /// The strongest evidence tier among the signals that count (weight above zero), or
    /// `None` when nothing counts. O(matching sources), allocation-free.
    pub fn tier(&self) -> Option<crate::Tier> {
        self.signals()
            .filter(|s| s.weight_hundredths() > 0)
            .map(|s| s.tier())
            .min()
    }
    /// The score in hundredths, 0..=100: [`Answer::score`] exactly, for JSON and counters
    /// that should not print `0.10000000149011612`.
    #[inline]
    pub fn score_hundredths(&self) -> u8 {
        (self.rec()[rec::COUNTRY_VERDICT_SCORE] >> 24).min(100) as u8
    }
    /// The ip2geoapi-style `trustScore`, 0..=100, higher is more trustworthy: `100 − 100 ×`
    /// [`Answer::score`].
    #[inline]
    pub fn trust_score(&self) -> u8 {
        100 - self.score_hundredths()
    }
    /// The ip2geoapi-style `riskLevel`: the score in four bands with the verdict's thresholds.
    #[inline]
    pub fn risk_level(&self) -> crate::RiskLevel {
        crate::classify::risk_level_for_score(self.score_hundredths())
    }
    /// MaxMind's `is_anonymous_vpn`: a source lists the address as a VPN endpoint (any tier;
    /// the score tells how strong the evidence is).
    #[inline]
    pub fn is_anonymous_vpn(&self) -> bool {
        self.is_vpn()
    }
    /// MaxMind's `is_hosting_provider`: hosting, cloud or datacenter space (any tier, ASN-wide
    /// lists included; the score weighs them less).
    #[inline]
    pub fn is_hosting_provider(&self) -> bool {
        self.is_hosting()
    }
    /// MaxMind's `is_public_proxy`: a listed public proxy.
    #[inline]
    pub fn is_public_proxy(&self) -> bool {
        self.is_proxy()
    }
    /// MaxMind's `is_tor_exit_node`: a Tor exit (never a relay without the exit role).
    #[inline]
    pub fn is_tor_exit_node(&self) -> bool {
        self.is_tor()
    }
    /// MaxMind's `is_residential_proxy`. Format 1.0 has no residential-proxy category (a
    /// MaxMind database's residential-proxy flag is read as `proxy`), so this is always false.
    #[inline]
    pub fn is_residential_proxy(&self) -> bool {
        false
    }
    /// The record's words (for tests and tools that compare answers).
    #[doc(hidden)]
    pub fn record_words(&self) -> &'a [u32; rec::WORDS] {
        self.rec()
    }
    /// The leaf value the lookup ended on: equal values mean equal answers.
    #[doc(hidden)]
    pub fn leaf_value(&self) -> u32 {
        self.leaf
    }
}

/// An answer that owns a handle on its database: for keeping an answer beyond the borrow of
/// one lookup (in a request's extensions, across an `await`) without looking the address up
/// again. [`OwnedAnswer::get`] gives the [`Answer`] back, at no cost.
///
/// ```
/// use std::sync::Arc;
/// let db = Arc::new(ipsieve::Database::from_bytes(include_bytes!("../tests/golden/v4.ipsieve"))?);
/// let owned = ipsieve::OwnedAnswer::new(Arc::clone(&db), "185.220.101.1".parse().unwrap());
/// let handed_on = owned.clone(); // a reference count and a few words
/// assert!(handed_on.get().is_tor());
/// # Ok::<(), ipsieve::OpenError>(())
/// ```
#[derive(Clone)]
pub struct OwnedAnswer {
    db: std::sync::Arc<Database>,
    ip: IpAddr,
    leaf: u32,
}

impl OwnedAnswer {
    /// Looks `ip` up in `db` and keeps the answer with the handle.
    pub fn new(db: std::sync::Arc<Database>, ip: IpAddr) -> OwnedAnswer {
        let a = db.lookup(ip);
        let (ip, leaf) = (a.ip(), a.leaf);
        OwnedAnswer { db, ip, leaf }
    }

    /// The answer, borrowed from the database this value keeps alive.
    #[inline]
    pub fn get(&self) -> Answer<'_> {
        Answer::new(&self.db, self.ip, self.leaf)
    }

    /// The database the answer came from.
    pub fn database(&self) -> &std::sync::Arc<Database> {
        &self.db
    }
}

impl std::fmt::Debug for OwnedAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}

/// Iterator over the names of the sources that matched; see [`Answer::sources`].
#[derive(Clone, Debug)]
pub struct SourceNames<'a> {
    db: &'a Database,
    set: std::slice::Iter<'a, u32>,
}

impl<'a> Iterator for SourceNames<'a> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        let &i = self.set.next()?;
        Some(self.db.source(i as usize).map_or("", |s| s.name()))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.set.size_hint()
    }
}

impl ExactSizeIterator for SourceNames<'_> {}
