//! The MMDB export as a MaxMind reader sees it: one record decoded by field name
//! ([`Exported`]), and what it must say for an ipsieve answer ([`Exported::expected`]). Shared
//! by the export's read-back test (`builder/tests/export.rs`) and the command line's
//! (`cli/tests/export.rs`).

use ipsieve::Answer;
use serde::Deserialize;

/// The `country` map of a record.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Country {
    /// ISO 3166 alpha-2.
    pub iso_code: String,
}

/// One record of the export, as a MaxMind reader decodes it by name (unknown fields refused).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exported {
    /// As [`Answer::is_anonymous`].
    #[serde(default)]
    pub is_anonymous: bool,
    /// As [`Answer::is_anonymous_vpn`].
    #[serde(default)]
    pub is_anonymous_vpn: bool,
    /// As [`Answer::is_hosting_provider`].
    #[serde(default)]
    pub is_hosting_provider: bool,
    /// As [`Answer::is_public_proxy`].
    #[serde(default)]
    pub is_public_proxy: bool,
    /// As [`Answer::is_residential_proxy`].
    #[serde(default)]
    pub is_residential_proxy: bool,
    /// As [`Answer::is_tor_exit_node`].
    #[serde(default)]
    pub is_tor_exit_node: bool,
    /// The origin ASN.
    pub autonomous_system_number: Option<u32>,
    /// The AS organisation.
    pub autonomous_system_organization: Option<String>,
    /// The provider.
    pub provider_name: Option<String>,
    /// The country.
    pub country: Option<Country>,
    /// ipsieve's category names.
    #[serde(default)]
    pub categories: Vec<String>,
    /// ipsieve's verdict.
    pub verdict: String,
    /// ipsieve's score, in hundredths.
    pub score: f64,
    /// The matching sources' names.
    #[serde(default)]
    pub sources: Vec<String>,
    /// The newest snapshot day asserting a category (`YYYY-MM-DD`).
    pub network_last_seen: Option<String>,
}

impl Exported {
    /// What the export must say for an address whose ipsieve answer is `a` (`None`: no
    /// record, for the empty answer).
    pub fn expected(a: &Answer<'_>) -> Option<Exported> {
        if a.is_empty() {
            return None;
        }
        Some(Exported {
            is_anonymous: a.is_anonymous(),
            is_anonymous_vpn: a.is_anonymous_vpn(),
            is_hosting_provider: a.is_hosting_provider(),
            is_public_proxy: a.is_public_proxy(),
            is_residential_proxy: a.is_residential_proxy(),
            is_tor_exit_node: a.is_tor_exit_node(),
            autonomous_system_number: a.asn(),
            autonomous_system_organization: a.as_org().map(str::to_owned),
            provider_name: a.provider().map(str::to_owned),
            country: a.country().map(|c| Country {
                iso_code: c.to_owned(),
            }),
            categories: a.categories().names().map(str::to_owned).collect(),
            verdict: a.verdict().as_str().to_owned(),
            score: f64::from((a.score() * 100.0).round()) / 100.0,
            sources: a.sources().map(str::to_owned).collect(),
            network_last_seen: a.last_seen_day().map(ipsieve_builder::manifest::day_string),
        })
    }
}
