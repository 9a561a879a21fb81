//! The registry of source formats (`ipsieve_sources::formats`): each format declared once,
//! with a unique manifest name and module, fixtures that exist, and the crate docs listing
//! exactly the registry.

use std::collections::HashSet;

use ipsieve_sources::formats::{self, overview_table, FORMATS};

#[test]
fn names_and_modules_are_unique_and_found() {
    let (mut names, mut modules) = (HashSet::new(), HashSet::new());
    for f in FORMATS {
        assert!(names.insert(f.name), "{} declared twice", f.name);
        assert!(
            modules.insert(f.module),
            "module {} declared twice",
            f.module
        );
        assert_eq!(formats::by_name(f.name).map(|g| g.module), Some(f.module));
        assert_eq!(formats::by_module(f.module).map(|g| g.name), Some(f.name));
        assert!(
            !f.summary.is_empty() && !f.yields.is_empty() && !f.fixtures.is_empty(),
            "{}",
            f.name
        );
    }
    assert!(formats::names().starts_with("tor-exit-list, "));
}

/// Every fixture prefix of the registry names at least one file of `tests/fixtures/`.
#[test]
fn every_fixture_prefix_names_a_fixture() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for f in FORMATS {
        for prefix in f.fixtures {
            assert!(
                files.iter().any(|n| n.starts_with(prefix)),
                "{}: no fixture named {prefix}*",
                f.name
            );
        }
    }
}

/// The crate overview's table of formats (`src/lib.rs`, between `formats:begin` and
/// `formats:end`) is the registry's, row for row.
#[test]
fn the_crate_docs_list_exactly_the_registry() {
    let lib = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs"),
    )
    .unwrap();
    let (begin, end) = ("//! <!-- formats:begin -->\n", "//! <!-- formats:end -->");
    let from = lib.find(begin).expect("formats:begin in src/lib.rs") + begin.len();
    let to = from + lib[from..].find(end).expect("formats:end in src/lib.rs");
    let documented: String = lib[from..to]
        .lines()
        .map(|l| format!("{}\n", l.strip_prefix("//! ").unwrap_or(l)))
        .collect();
    assert_eq!(
        documented,
        overview_table(),
        "src/lib.rs lists other formats than the registry: paste the output of \
         `cargo run -p ipsieve-sources --features mmdb --example formats -- --markdown`"
    );
}
