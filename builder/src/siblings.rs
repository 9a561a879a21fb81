//! AS-organisation siblings (`docs/INTELLIGENCE.md`, "AS-organisation siblings"): one
//! organisation often announces through several ASNs and an ASN list names only some of them.
//! An unlisted ASN whose organisation owns an ASN on a list inherits the list's categories at
//! the weaker tier [`Tier::AsnSibling`], through a source derived from the list
//! (`<list>.sibling`), unless a guard holds it back.
//!
//! * **Organisations** come from the AS names the build reads ([`org_key`]): the organisation
//!   part of each name, normalised. An ASN may have several (one per naming source); two ASNs
//!   are siblings when they share one.
//! * **Generic names.** An organisation name carried by more than [`MAX_ORG_ASNS`] ASNs is not
//!   used: placeholders ("Reserved") and the big carriers with dozens of regional ASNs.
//! * **Eyeball guard.** An ASN that announces [`crate::eyeball::EYEBALL_SHARE_PERMILLE`]‰ or
//!   more of its country's routed space (either family; its registered country as the AS-name source
//!   gives it, else the whole routed space) never inherits: a national ISP with a hosting arm
//!   must not become hosting.
//!   Nor does any other ASN of an organisation that has such an ASN among those the list
//!   does not name (a listed one is vouched for as what the list says, however large).
//! * **No bigger than the evidence.** An ASN that announces more addresses than the listed
//!   ASNs of its organisation together (IPv4; IPv6 for an IPv6-only ASN) never inherits: the
//!   listed part of a family is what the list vouches for, and a larger sibling is another
//!   business.

use std::collections::{BTreeMap, BTreeSet};

use ipsieve::{Categories, Tier};
use serde::Serialize;

use crate::builder::{Builder, SourceSpec};
use crate::eyeball::Eyeball;

/// Organisation names carried by more ASNs than this are not used.
pub const MAX_ORG_ASNS: usize = 32;

/// Legal-form words dropped from organisation names (`Amazon.com, Inc.` and `Amazon.com Inc`
/// are one organisation).
const LEGAL_FORMS: &[&str] = &[
    "ab",
    "ag",
    "as",
    "bhd",
    "bv",
    "co",
    "company",
    "corp",
    "corporation",
    "gmbh",
    "inc",
    "jsc",
    "kft",
    "kg",
    "limited",
    "llc",
    "llp",
    "lp",
    "ltd",
    "nv",
    "nyrt",
    "oy",
    "oyj",
    "plc",
    "pjsc",
    "pte",
    "pty",
    "pvt",
    "sa",
    "sarl",
    "sas",
    "sasu",
    "sdn",
    "se",
    "sl",
    "sp",
    "spa",
    "sro",
    "srl",
    "sti",
    "uab",
    "zoo",
    "zrt",
    "doo",
    "lda",
    "ehf",
    "ooo",
    "ооо",
];

/// Names that say no organisation is known (the generic-name guard would catch them too).
const PLACEHOLDERS: &[&str] = &[
    "no registry entry",
    "reserved",
    "unknown",
    "private",
    "none",
];

/// The organisation of an AS name, normalised, or `None` when the name carries none (a bare
/// handle such as `AMAZON-02, US`).
///
/// The AS-name sources write `HANDLE - Organisation, CC` (ARIN in the CIDR report),
/// `HANDLE Organisation, CC` (the other registries), or the organisation alone
/// (ip-location-db, MMDB ASN databases). The trailing country, a leading all-capitals handle
/// and a `HANDLE - ` prefix are dropped; the rest is lower-cased, cut into words of letters and
/// digits, and legal forms (`Inc`, `GmbH`, `S.A.`…) are left out.
///
/// ```
/// use ipsieve_builder::siblings::org_key;
///
/// assert_eq!(org_key("Amazon.com, Inc.").as_deref(), Some("amazon com"));
/// assert_eq!(org_key("AMAZON-02 - Amazon.com, Inc., US").as_deref(), Some("amazon com"));
/// assert_eq!(
///     org_key("CNNIC-ALIBABA-US-NET-AP Alibaba (US) Technology Co., Ltd., CN").as_deref(),
///     org_key("Alibaba (US) Technology Co., Ltd.").as_deref(),
/// );
/// assert_eq!(org_key("AMAZON-02, US"), None);
/// ```
pub fn org_key(name: &str) -> Option<String> {
    let mut s = name.trim();
    if let Some((rest, cc)) = s.rsplit_once(", ") {
        if country_code(cc).is_some() {
            s = rest;
        }
    }
    if let Some((_, org)) = s.split_once(" - ") {
        s = org;
    } else if let Some((first, rest)) = s.split_once(' ') {
        if is_handle(first) && rest.bytes().any(|c| c.is_ascii_lowercase()) {
            s = rest;
        }
    }
    if !s.bytes().any(|c| c.is_ascii_lowercase()) && !s.contains(' ') {
        // A bare handle: it names the AS, not who runs it.
        return None;
    }
    let lower = s.to_lowercase();
    // Runs of single letters join into one word: `S.A.` is `sa`, `s.r.o.` is `sro`.
    let mut words: Vec<String> = Vec::new();
    let mut letters = false;
    for w in lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let single = w.chars().count() == 1;
        match words.last_mut() {
            Some(last) if single && letters => last.push_str(w),
            _ => words.push(w.to_owned()),
        }
        letters = single;
    }
    words.retain(|w| !LEGAL_FORMS.contains(&w.as_str()));
    let key = words.join(" ");
    if PLACEHOLDERS.contains(&key.as_str()) {
        return None;
    }
    (key.chars().filter(|c| c.is_alphabetic()).count() >= 3).then_some(key)
}

fn country_code(s: &str) -> Option<[u8; 2]> {
    match s.as_bytes() {
        &[a, b] if a.is_ascii_uppercase() && b.is_ascii_uppercase() => Some([a, b]),
        _ => None,
    }
}

/// An AS handle: capitals, digits and punctuation with at least one capital and one `-` or
/// `_` (`MAGYAR-TELEKOM-MAIN-AS`, `TMVADS-AP`). A capitalised first word without one is part
/// of the organisation's name (`KDDI Europe Ltd`, `M247 Europe SRL`), not a handle.
fn is_handle(w: &str) -> bool {
    w.bytes().any(|c| c.is_ascii_uppercase())
        && w.bytes().any(|c| b"-_".contains(&c))
        && w.bytes()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || b"-_.".contains(&c))
}

/// Why an ASN of a listed organisation does not inherit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HeldBack {
    /// It announces [`crate::eyeball::EYEBALL_SHARE_PERMILLE`]‰ or more of its country's
    /// routed space.
    EyeballShare,
    /// Another unlisted ASN of its organisation does: the organisation runs an eyeball
    /// network, and its name cannot tell the hosting arm from the access networks.
    EyeballOrganisation,
    /// It announces more than the listed ASNs of its organisation together.
    BiggerThanListed,
}

/// What one derived sibling source holds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SiblingLine {
    /// The derived source (`<list>.sibling`).
    pub source: String,
    /// The ASN list it derives from.
    pub from: String,
    /// ASNs that inherit the list's categories.
    pub asns: Vec<u32>,
    /// The organisations (normalised, [`org_key`]) they inherit through.
    pub orgs: Vec<String>,
    /// ASNs of a listed organisation held back, with the reason.
    pub held_back: Vec<(u32, HeldBack)>,
    /// Organisation names skipped as generic (more than [`MAX_ORG_ASNS`] ASNs).
    pub generic_orgs: usize,
}

/// The sources and ASN lists a build compiles: the builder's own plus the derived ones.
pub(crate) struct Derived {
    pub sources: Vec<SourceSpec>,
    pub asn_lists: BTreeMap<u32, Vec<u32>>,
    pub lines: Vec<SiblingLine>,
}

impl Derived {
    /// The categories the ASN lists naming `asn` assert (derived lists included).
    pub fn listed(&self, asn: u32) -> Categories {
        list_categories(&self.sources, self.asn_lists.get(&asn))
    }
}

/// The categories the ASN-list sources `srcs` (indices into `sources`) assert.
fn list_categories(sources: &[SourceSpec], srcs: Option<&Vec<u32>>) -> Categories {
    srcs.into_iter()
        .flatten()
        .fold(Categories::empty(), |c, &s| {
            c | sources[s as usize].categories
        })
}

/// Derives the sibling sources of a build (see the module docs).
pub(crate) fn derive(b: &Builder, eyeball: &Eyeball) -> Derived {
    let mut out = Derived {
        sources: b.sources.clone(),
        asn_lists: b.asn_lists.clone(),
        lines: Vec::new(),
    };
    if b.asn_lists.is_empty() || b.as_orgs.is_empty() {
        return out;
    }
    // Organisation → its ASNs.
    let mut members: BTreeMap<&str, BTreeSet<u32>> = BTreeMap::new();
    for (&asn, orgs) in &b.as_orgs {
        for org in orgs {
            members.entry(org.as_str()).or_default().insert(asn);
        }
    }
    // ASN → the categories the lists naming it assert.
    // (The builder's own lists only: `out` gains the derived ones as the loop below runs.)
    let listed = |asn: u32| list_categories(&b.sources, b.asn_lists.get(&asn));
    // List source → its ASNs.
    let mut by_list: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for (&asn, srcs) in &b.asn_lists {
        for &s in srcs {
            by_list.entry(s).or_default().push(asn);
        }
    }
    let space = &eyeball.space;
    let eyeball = |asn: u32| eyeball.holds(asn);
    for (&list, asns) in &by_list {
        let spec = &b.sources[list as usize];
        let name = format!("{}.sibling", spec.name);
        if b.by_name.contains_key(&name) {
            continue;
        }
        let mut line = SiblingLine {
            source: name.clone(),
            from: spec.name.clone(),
            ..SiblingLine::default()
        };
        let on_list: BTreeSet<u32> = asns.iter().copied().collect();
        let orgs: BTreeSet<&str> = asns
            .iter()
            .filter_map(|a| b.as_orgs.get(a))
            .flatten()
            .map(String::as_str)
            .collect();
        let mut inherit = BTreeSet::new();
        let mut held = BTreeMap::new();
        for org in orgs {
            let family = &members[org];
            if family.len() > MAX_ORG_ASNS {
                line.generic_orgs += 1;
                continue;
            }
            let (l4, l6) = family
                .iter()
                .filter(|a| on_list.contains(a))
                .filter_map(|a| space.get(a))
                .fold((0u128, 0u128), |s, t| {
                    (s.0.saturating_add(t.0), s.1.saturating_add(t.1))
                });
            // The members no list asserting as much vouches for (this list's own included).
            let unlisted = || {
                family
                    .iter()
                    .copied()
                    .filter(|&a| !listed(a).contains(spec.categories))
            };
            let eyeball_org = unlisted().any(eyeball);
            let inheriting = inherit.len();
            for asn in unlisted() {
                let (v4, v6) = space.get(&asn).copied().unwrap_or_default();
                let why = if eyeball(asn) {
                    Some(HeldBack::EyeballShare)
                } else if eyeball_org {
                    Some(HeldBack::EyeballOrganisation)
                } else if (v4 > 0 && v4 > l4) || (v4 == 0 && v6 > l6) {
                    Some(HeldBack::BiggerThanListed)
                } else {
                    None
                };
                match why {
                    Some(w) => {
                        held.entry(asn).or_insert(w);
                    }
                    None => {
                        inherit.insert(asn);
                    }
                }
            }
            if inherit.len() > inheriting {
                line.orgs.push(org.to_owned());
            }
        }
        // Held back through one organisation, inheriting through another: it inherits.
        held.retain(|a, _| !inherit.contains(a));
        line.asns = inherit.iter().copied().collect();
        line.held_back = held.into_iter().collect();
        if line.asns.is_empty() && line.held_back.is_empty() && line.generic_orgs == 0 {
            continue;
        }
        if !line.asns.is_empty() {
            let id = out.sources.len() as u32;
            out.sources.push(SourceSpec {
                name,
                format: "asn-sibling".into(),
                tier: Tier::AsnSibling,
                min_prefix: None,
                ..spec.clone()
            });
            for &asn in &line.asns {
                out.asn_lists.entry(asn).or_default().push(id);
            }
        }
        out.lines.push(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::org_key;

    #[test]
    fn organisations_from_every_naming_style() {
        let cases = [
            // ip-location-db (2026) and the CIDR report's styles for one AS.
            (
                "Comcast Cable Communications, LLC",
                Some("comcast cable communications"),
            ),
            (
                "MAGYAR-TELEKOM-MAIN-AS Magyar Telekom Nyrt., HU",
                Some("magyar telekom"),
            ),
            ("Magyar Telekom plc.", Some("magyar telekom")),
            ("Hetzner Online GmbH", Some("hetzner online")),
            ("SCALEWAY S.A.S.", Some("scaleway")),
            ("France Telecom - Orange, FR", Some("orange")),
            // A capitalised first word is part of the name, not a handle.
            ("KDDI Europe Ltd", Some("kddi europe")),
            ("M247 Europe SRL", Some("m247 europe")),
            ("KDDI-EUROPE KDDI Europe Ltd., GB", Some("kddi europe")),
            ("AMAZON-02 - Amazon.com, Inc., US", Some("amazon com")),
            // Bare handles and names without an organisation.
            ("AMAZON-02, US", None),
            ("GOOGLE", None),
            ("--No Registry Entry--", None),
            ("Inc.", None),
            ("", None),
            (", US", None),
            ("   ", None),
            ("A B", None),
        ];
        for (name, want) in cases {
            assert_eq!(org_key(name).as_deref(), want, "{name:?}");
        }
    }

    #[test]
    fn hostile_names_give_a_bounded_key_or_none() {
        assert_eq!(org_key("\u{0}\u{7f} - \u{202e}"), None);
        let long = "Example Hosting ".repeat(10_000);
        let key = org_key(&long).unwrap();
        assert!(key.len() <= long.len() && key.starts_with("example hosting"));
        // Non-ASCII letters are kept, lower-cased: "Türk Telekom" is not "turk telekom".
        assert_eq!(org_key("Türk Telekom").as_deref(), Some("türk telekom"));
        assert_eq!(org_key("ООО Яндекс").as_deref(), Some("яндекс"));
    }
}
