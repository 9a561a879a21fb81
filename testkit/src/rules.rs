//! The builder's derivation rules (siblings, aggregates inside eyeball networks, VPN
//! co-location, AS-name keywords) tested on real excerpts: a manifest's text compiled at a fixed
//! build time, what an address answers, the build report's text, and the pieces the rules' tests
//! share (a listed hosting ASN, a country with an eyeball network).

use ipsieve::{Categories, Database};
use ipsieve_builder::manifest::Manifest;
use ipsieve_builder::report::BuildReport;
use ipsieve_builder::{load, Builder, Compiled};

/// Compiles manifest text (absolute paths) at a fixed build time.
///
/// # Panics
/// When the manifest does not parse or a source does not load.
pub fn compile_text(text: &str) -> Compiled {
    let m = Manifest::parse(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let mut b = Builder::new().build_time(1_796_601_000);
    load::load_manifest(&m, &mut b, |_| {}).unwrap();
    b.compile().unwrap()
}

/// What one address answers in an artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// Its categories.
    pub categories: Categories,
    /// The categories only weak evidence supports.
    pub weak: Categories,
    /// Its origin AS.
    pub asn: Option<u32>,
    /// The sources that match, by name.
    pub sources: Vec<String>,
}

/// What `ip` answers in `compiled`.
///
/// # Panics
/// When the artifact does not open or `ip` is not an address.
pub fn facts(compiled: &Compiled, ip: &str) -> Facts {
    let db = Database::from_bytes(&compiled.bytes).unwrap();
    let a = db.lookup(ip.parse().unwrap());
    Facts {
        categories: a.categories(),
        weak: a.weak_categories(),
        asn: a.asn(),
        sources: a.sources().map(str::to_owned).collect(),
    }
}

/// The build report `ipsieve build` would print for `compiled` (no per-source lines).
pub fn report_text(compiled: &Compiled) -> String {
    BuildReport::new(
        Vec::new(),
        &compiled.stats,
        compiled.bytes.len(),
        std::time::Duration::ZERO,
    )
    .to_string()
}

/// A manifest table for `hosting-asns`: an ASN list (tier `asn-heuristic`, `hosting`) naming
/// `asn` alone, written to a fresh directory named after `test`. The rules that derive hosting
/// for unlisted ASNs must leave a listed one alone.
///
/// # Panics
/// When the list cannot be written.
pub fn hosting_asn_list(test: &str, asn: u32) -> String {
    let list = crate::fresh_dir(test).join("asns.txt");
    std::fs::write(&list, format!("AS{asn}\n")).unwrap();
    crate::table(
        "hosting-asns",
        "asn-list",
        &list.display().to_string(),
        "categories = [\"hosting\"]\ntier = \"asn-heuristic\"\n",
    )
}

/// Adds the routing of one (unnamed) country to `b`, as the eyeball guards' tests need it:
/// source `bgp` with AS64500 announcing `20.0.0.0/8` (nearly all of it: a large access
/// network) and AS64501 announcing `21.0.0.0/24`.
///
/// # Panics
/// When the builder refuses the source or a route.
pub fn eyeball_country(b: &mut Builder) {
    let bgp = b
        .add_source(ipsieve_builder::SourceSpec::new("bgp", "pfx2as"))
        .unwrap();
    for (net, asn) in [("20.0.0.0/8", 64500), ("21.0.0.0/24", 64501)] {
        let attrs = ipsieve_builder::Attrs {
            asn: Some(asn),
            ..Default::default()
        };
        b.add_net(bgp, net.parse().unwrap(), attrs).unwrap();
    }
}
