//! The vendored real snapshot (`data/snapshot`): its manifest, its artifact built once with
//! the library, and variants of its manifest.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ipsieve_builder::manifest::Manifest;
use ipsieve_builder::{load, Builder};

/// The build time of every artifact built here, so that builds compare byte for byte.
pub const BUILD_TIME: u64 = 1_750_000_000;

/// The vendored snapshot's manifest, `data/snapshot/sources.toml`.
pub fn manifest() -> PathBuf {
    crate::snapshot_manifest()
}

/// Builds a manifest's artifact with the library, at [`BUILD_TIME`]; every source must read
/// to its end and yield entries.
///
/// # Panics
/// When the manifest does not load or build, or a source stops early or reads nothing.
pub fn build(manifest: &Path) -> Vec<u8> {
    let mut b = Builder::new().build_time(BUILD_TIME);
    let m = Manifest::load(manifest).unwrap_or_else(|e| panic!("{}: {e}", manifest.display()));
    let reports = load::load_manifest(&m, &mut b, |_| {}).unwrap();
    for r in &reports {
        assert!(r.fatal.is_none(), "{}: {:?}", r.name, r.fatal);
        assert!(r.read > 0, "{} read nothing", r.name);
    }
    b.compile().unwrap().bytes
}

/// The snapshot's artifact, built once per test binary.
pub fn artifact() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| build(&manifest()))
}

/// Writes a copy of the vendored manifest to `dir/sources.toml` with every path made absolute,
/// after `edit` has seen each source table (returning false drops the source).
///
/// # Panics
/// When the manifest cannot be read or the copy written.
pub fn manifest_variant(dir: &Path, mut edit: impl FnMut(&mut toml::Table) -> bool) -> PathBuf {
    let original = manifest();
    let base = original.parent().unwrap().canonicalize().unwrap();
    let mut doc: toml::Table = std::fs::read_to_string(&original).unwrap().parse().unwrap();
    let sources = doc["source"].as_array_mut().unwrap();
    for s in sources.iter_mut() {
        let t = s.as_table_mut().unwrap();
        if let Some(p) = t.get("path").and_then(|p| p.as_str()) {
            let abs = base.join(p).display().to_string();
            t.insert("path".into(), toml::Value::String(abs));
        }
    }
    sources.retain_mut(|s| edit(s.as_table_mut().unwrap()));
    let path = dir.join("sources.toml");
    std::fs::write(&path, toml::to_string(&doc).unwrap()).unwrap();
    path
}

/// A manifest in `dir` with only the named sources of the vendored snapshot.
pub fn small_manifest(dir: &Path, names: &[&str]) -> PathBuf {
    manifest_variant(dir, |t| names.contains(&t["name"].as_str().unwrap()))
}
