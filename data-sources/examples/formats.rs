//! Prints the registry of source formats (`ipsieve_sources::formats::FORMATS`): one line per
//! format, `MODULE<TAB>NAME<TAB>FIXTURE-PREFIX…` (what `fuzz/run-all.sh` reads to name its
//! targets and seed their corpora), or with `--markdown` the crate overview's table.
//!
//! ```text
//! cargo run -q -p ipsieve-sources --features mmdb --example formats
//! ```

use ipsieve_sources::formats::{overview_table, FORMATS};

fn main() {
    if std::env::args().nth(1).as_deref() == Some("--markdown") {
        print!("{}", overview_table());
        return;
    }
    for f in FORMATS {
        println!("{}\t{}\t{}", f.module, f.name, f.fixtures.join("\t"));
    }
}
