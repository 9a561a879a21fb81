//! Small value types shared by the answer, the builder and the command line.

use std::fmt;

/// A set of categories, as stored in a record (a bit set).
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Categories(u32);

impl Categories {
    /// Measured Tor exit: traffic from this address comes out of the Tor network.
    pub const TOR_EXIT: Categories = Categories(1);
    /// Tor relay (guard, middle, or exit OR address): not anonymous traffic by itself.
    pub const TOR_RELAY: Categories = Categories(1 << 1);
    /// Commercial or self-hosted VPN endpoint.
    pub const VPN: Categories = Categories(1 << 2);
    /// Public (open) proxy.
    pub const PROXY: Categories = Categories(1 << 3);
    /// Hosting, cloud or datacenter address space.
    pub const HOSTING: Categories = Categories(1 << 4);
    /// Privacy relay such as iCloud Private Relay: low risk, never a VPN.
    pub const RELAY: Categories = Categories(1 << 5);

    /// Every defined category with its stable name, in bit order.
    pub const NAMED: [(Categories, &'static str); 6] = [
        (Categories::TOR_EXIT, "tor_exit"),
        (Categories::TOR_RELAY, "tor_relay"),
        (Categories::VPN, "vpn"),
        (Categories::PROXY, "proxy"),
        (Categories::HOSTING, "hosting"),
        (Categories::RELAY, "relay"),
    ];
    /// The bits this version defines; others are reserved.
    pub const KNOWN_BITS: u32 = (1 << 6) - 1;

    /// The empty set.
    pub const fn empty() -> Self {
        Categories(0)
    }
    /// From raw bits; bits this version does not know are dropped.
    pub const fn from_bits(bits: u32) -> Self {
        Categories(bits & Self::KNOWN_BITS)
    }
    /// The raw bits.
    pub const fn bits(self) -> u32 {
        self.0
    }
    /// True when no category is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// True when every category of `other` is in `self`.
    pub const fn contains(self, other: Categories) -> bool {
        self.0 & other.0 == other.0 && other.0 != 0
    }
    /// The union.
    #[must_use]
    pub const fn union(self, other: Categories) -> Self {
        Categories(self.0 | other.0)
    }
    /// Looks a category up by its stable name (`tor_exit`, `vpn`, …).
    pub fn from_name(name: &str) -> Option<Categories> {
        Self::NAMED
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(c, _)| *c)
    }
    /// Names of the categories in the set, in bit order.
    pub fn names(self) -> impl Iterator<Item = &'static str> + Clone {
        Self::NAMED
            .into_iter()
            .filter(move |(c, _)| self.contains(*c))
            .map(|(_, n)| n)
    }
}

impl std::ops::BitOr for Categories {
    type Output = Categories;
    fn bitor(self, rhs: Categories) -> Categories {
        self.union(rhs)
    }
}

impl std::ops::BitOrAssign for Categories {
    fn bitor_assign(&mut self, rhs: Categories) {
        *self = self.union(rhs);
    }
}

impl fmt::Debug for Categories {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.names()).finish()
    }
}

impl fmt::Display for Categories {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, n) in self.names().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(n)?;
        }
        Ok(())
    }
}

/// The overall judgement, in the shape of the IPLogs `verdict` field: a function of the score
/// (see [`crate::classify`] and `docs/INTELLIGENCE.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(u8)]
pub enum Verdict {
    /// Score below 0.30: nothing, or only weak signals (a Tor relay, a privacy relay, hosting
    /// known only from an ASN-wide list).
    #[default]
    Clean = 0,
    /// Score 0.30 to below 0.50: hosting space from a provider's or a curated list.
    Suspicious = 1,
    /// Score 0.50 to below 0.75: probably an anonymizer (a listed public proxy).
    VpnLikely = 2,
    /// Score 0.75 and above: a listed anonymizer (a VPN's or Tor's own list, a curated VPN
    /// or Tor list).
    VpnDetected = 3,
}

impl Verdict {
    /// From the stored byte; unknown values read as `Clean` (validated at open).
    pub const fn from_u8(v: u8) -> Verdict {
        match v {
            1 => Verdict::Suspicious,
            2 => Verdict::VpnLikely,
            3 => Verdict::VpnDetected,
            _ => Verdict::Clean,
        }
    }
    /// The stable lowercase name (`clean`, `suspicious`, `vpn_likely`, `vpn_detected`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Verdict::Clean => "clean",
            Verdict::Suspicious => "suspicious",
            Verdict::VpnLikely => "vpn_likely",
            Verdict::VpnDetected => "vpn_detected",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The ip2geoapi-style `riskLevel`: the score in four bands, with the same thresholds as the
/// [`Verdict`] (`low` = clean, `medium` = suspicious, `high` = vpn_likely, `critical` =
/// vpn_detected).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(u8)]
pub enum RiskLevel {
    /// Score below 0.30.
    #[default]
    Low = 0,
    /// Score 0.30 to below 0.50.
    Medium = 1,
    /// Score 0.50 to below 0.75.
    High = 2,
    /// Score 0.75 and above.
    Critical = 3,
}

impl RiskLevel {
    /// All levels, lowest first.
    pub const ALL: [RiskLevel; 4] = [
        RiskLevel::Low,
        RiskLevel::Medium,
        RiskLevel::High,
        RiskLevel::Critical,
    ];
    /// The stable lowercase name (`low`, `medium`, `high`, `critical`).
    pub const fn as_str(self) -> &'static str {
        match self {
            RiskLevel::Low => "low",
            RiskLevel::Medium => "medium",
            RiskLevel::High => "high",
            RiskLevel::Critical => "critical",
        }
    }
    /// Parses a stable name.
    pub fn from_name(name: &str) -> Option<RiskLevel> {
        Self::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

impl fmt::Display for RiskLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How strong a source's evidence is; stronger tiers come first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(u8)]
pub enum Tier {
    /// The operator's own list (a provider's published ranges, a VPN's server list, the Tor
    /// exit list).
    #[default]
    FirstParty = 0,
    /// A curated list aggregated by a third party.
    Curated = 1,
    /// Inferred from the origin ASN of a BGP prefix.
    AsnHeuristic = 2,
    /// Inherited by an unlisted ASN from a listed ASN of the same organisation
    /// (`docs/INTELLIGENCE.md`, "AS-organisation siblings").
    AsnSibling = 3,
    /// Inferred from names or keywords.
    Keyword = 4,
}

impl Tier {
    /// All tiers, strongest first.
    pub const ALL: [Tier; 5] = [
        Tier::FirstParty,
        Tier::Curated,
        Tier::AsnHeuristic,
        Tier::AsnSibling,
        Tier::Keyword,
    ];
    /// From the stored byte.
    pub const fn from_u8(v: u8) -> Option<Tier> {
        match v {
            0 => Some(Tier::FirstParty),
            1 => Some(Tier::Curated),
            2 => Some(Tier::AsnHeuristic),
            3 => Some(Tier::AsnSibling),
            4 => Some(Tier::Keyword),
            _ => None,
        }
    }
    /// Weak evidence: inferred (`asn-heuristic`, `asn-sibling`, `keyword`) rather than
    /// published by the operator or a curator. The policy never blocks on it alone, and it
    /// counts nothing at a privacy relay (`docs/INTELLIGENCE.md`).
    pub const fn is_weak(self) -> bool {
        self as u8 >= Tier::AsnHeuristic as u8
    }
    /// The stable name (`first-party`, `curated`, `asn-heuristic`, `asn-sibling`, `keyword`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Tier::FirstParty => "first-party",
            Tier::Curated => "curated",
            Tier::AsnHeuristic => "asn-heuristic",
            Tier::AsnSibling => "asn-sibling",
            Tier::Keyword => "keyword",
        }
    }
    /// Parses a stable name.
    pub fn from_name(name: &str) -> Option<Tier> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
