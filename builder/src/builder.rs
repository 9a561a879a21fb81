//! The [`Builder`]: declare sources, add their entries, then compile an artifact.

use std::collections::{BTreeMap, HashMap};
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
}

/// Per-entry attributes beyond what the source asserts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attrs {
    /// Categories added to the source's.
    pub categories: Categories,
    /// Origin ASN: marks the entry as BGP routing data (most specific prefix wins).
    pub asn: Option<u32>,
    /// Provider name overriding the source's.
    pub provider: Option<String>,
    /// ISO 3166-1 alpha-2 country code (uppercase ASCII).
    pub country: Option<[u8; 2]>,
}

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

/// What a categorised entry (one whose source or entry asserts a category) may cover before
/// it is rejected as absurd.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Minimum IPv4 prefix length (default 8: a /0 or /4 in a VPN list is refused).
    pub min_v4_prefix: u8,
    /// Minimum IPv6 prefix length (default 16).
    pub min_v6_prefix: u8,
    /// Reject entries that overlap a special-purpose block: private, CGNAT, loopback,
    /// link-local, multicast, reserved, unspecified, IPv6 unique-local (default on; see
    /// the `special` table in the builder's source). Entries without categories (BGP, RIR,
    /// geofeeds without a category) are not affected.
    pub reject_special: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            min_v4_prefix: 8,
            min_v6_prefix: 16,
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
    /// ASN → the ASN-list sources naming it.
    pub(crate) asn_lists: BTreeMap<u32, Vec<u32>>,
    pub(crate) build_time: u64,
    pub(crate) limits: Limits,
    pub(crate) metadata: BTreeMap<String, String>,
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
    /// [`BuildError::Rejected`] when the entry is wider than [`Limits`] allow for a source or
    /// entry that asserts categories, or the country code is not two uppercase letters.
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
        let spec = &self.sources[src.0 as usize];
        let cats = spec.categories.bits() | attrs.categories.bits();
        if cats != 0 {
            let (bits, min) = if v6 {
                (128u32, self.limits.min_v6_prefix)
            } else {
                (32u32, self.limits.min_v4_prefix)
            };
            // A range wider than a /min block is absurd for a list of endpoints.
            let width = hi - lo;
            let max_width = if u32::from(min) == 0 {
                u128::MAX
            } else {
                (1u128 << (bits - u32::from(min))) - 1
            };
            if width > max_width {
                let cats = Categories::from_bits(cats);
                return Err(BuildError::Rejected(format!(
                    "{start}-{end} is wider than a /{min}: too broad for a {cats} list"
                )));
            }
            if self.limits.reject_special {
                if let Some(block) = crate::special::overlap(lo, hi, v6) {
                    let cats = Categories::from_bits(cats);
                    return Err(BuildError::Rejected(format!(
                        "{start}-{end} overlaps {block}: not an address a {cats} list can claim"
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

    /// Records the organisation name of an AS (the last name given for an ASN wins).
    pub fn add_as_name(&mut self, asn: u32, name: impl Into<String>) {
        self.as_names.insert(asn, name.into());
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
