//! Ad-hoc: distribution of IPv4 chunk sizes in the full-size artifact.
use ipsieve::format::Section;
fn main() {
    let set = ipsieve_benches::data_set();
    let db = ipsieve::Database::from_bytes(&set.bytes).unwrap();
    let top: &[u32] = db.raw_slice(Section::V4Top);
    let keys: &[u16] = db.raw_slice(Section::V4Keys);
    let mut hist = std::collections::BTreeMap::new();
    let mut direct = 0;
    let mut weighted = 0u64;
    for &e in top {
        if e & 0x8000_0000 != 0 {
            direct += 1;
            continue;
        }
        let n = keys[e as usize] as usize;
        let b = (n + 1).next_power_of_two();
        *hist.entry(b).or_insert(0u32) += 1;
        weighted += n as u64;
    }
    println!(
        "direct {direct}, chunked {}, total keys {weighted}",
        65536 - direct
    );
    for (b, c) in hist {
        println!("<= {:5} keys: {c}", b - 1);
    }
}
