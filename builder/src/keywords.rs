//! Hosting by AS name (`docs/INTELLIGENCE.md`, "AS-name keywords"): an AS whose name says it
//! hosts (`MAXIHOST`, `FREE RANGE CLOUD`, `Bangladesh Data Center Company Limited`) and that
//! no list names as hosting gets `hosting` at the weakest tier, [`Tier::Keyword`], through one
//! source the builder derives, `as-name-keywords`. Small hosters are on no ASN list; their
//! names are often the only public sign of what they do.
//!
//! * **Names**: every AS name the build reads for the AS (the answers' `as_org` and the
//!   organisation names of every naming source, [`crate::siblings::org_key`]), lower-cased; a
//!   name matches when it contains one of [`WORDS`].
//! * **Access words**: a name that also says it serves homes (`broadband`, `wifi`, `satellite`,
//!   …) or that holds a keyword inside an unrelated word (`ECHOSTAR`, `ELDERHOSTEL`) never
//!   matches: [`ACCESS`].
//! * **Eyeball guard**: an AS that announces 1 % or more of its country's routed space
//!   ([`crate::eyeball`]) never matches: a national ISP with "Cloud" or "Data" in its name is
//!   not a hoster.
//! * **Listed ASNs** keep their lists' signals and get no keyword signal on top.

use ipsieve::{Categories, Tier};
use serde::Serialize;

use crate::builder::{Builder, SourceSpec};
use crate::eyeball::Eyeball;
use crate::siblings::Derived;

/// The derived source's name.
pub const SOURCE: &str = "as-name-keywords";

/// Parts of an AS name that say it hosts (matched in the lower-cased name).
pub const WORDS: &[&str] = &[
    "host",
    "server",
    "vps",
    "datacenter",
    "datacentre",
    "data center",
    "data centre",
    "colocation",
    "cloud",
    "dedicated",
];

/// Parts of an AS name that veto a match: access networks with a hosting product in their name
/// (`cloudsky superfast broadband`, `CLOUDWIFI`, `IWserver Internet Banda Larga`), satellite
/// operators, and words that hold a keyword without meaning it (`ECHOSTAR`, `ELDERHOSTEL`).
/// Found by reading every AS name of the shared data that holds a keyword.
pub const ACCESS: &[&str] = &[
    "broadband",
    "banda larga",
    "wifi",
    "wi-fi",
    "satellite",
    "echostar",
    "hostel",
];

/// What the keyword rule derived, for the build report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct KeywordLine {
    /// ASNs whose names match, on no hosting list and not eyeball networks.
    pub asns: Vec<u32>,
    /// ASNs whose names match that the eyeball guard held back.
    pub eyeball: Vec<u32>,
    /// ASNs whose names match but also hold an [`ACCESS`] word.
    pub access: Vec<u32>,
}

impl KeywordLine {
    /// No AS name matched (or the rule did not run).
    pub fn is_empty(&self) -> bool {
        self.asns.is_empty() && self.eyeball.is_empty() && self.access.is_empty()
    }
}

/// Adds the `as-name-keywords` source to `out` when any unlisted AS's name matches.
pub(crate) fn derive(b: &Builder, eyeball: &Eyeball, out: &mut Derived) -> KeywordLine {
    let mut line = KeywordLine::default();
    for (&asn, name) in &b.as_names {
        let lower = name.to_lowercase();
        let orgs = b.as_orgs.get(&asn).into_iter().flatten();
        let names = || std::iter::once(lower.as_str()).chain(orgs.clone().map(String::as_str));
        let has = |words: &[&str]| names().any(|n| words.iter().any(|w| n.contains(w)));
        if !has(WORDS) || out.listed(asn).contains(Categories::HOSTING) {
            continue;
        }
        if has(ACCESS) {
            line.access.push(asn);
        } else if eyeball.holds(asn) {
            line.eyeball.push(asn);
        } else {
            line.asns.push(asn);
        }
    }
    if !line.asns.is_empty() {
        let id = out.sources.len() as u32;
        out.sources.push(
            SourceSpec::new(SOURCE, "asn-keyword")
                .categories(Categories::HOSTING)
                .tier(Tier::Keyword),
        );
        for &asn in &line.asns {
            out.asn_lists.entry(asn).or_default().push(id);
        }
    }
    line
}
