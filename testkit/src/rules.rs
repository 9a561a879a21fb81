//! The builder's derivation rules (siblings, aggregates inside eyeball networks, AS-name
//! keywords) tested on real excerpts: a manifest's text compiled at a fixed build time, what an
//! address answers, and the build report's text.

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
