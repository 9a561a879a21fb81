//! Packet-level blocking: one address set per category and family, aggregated to the fewest
//! CIDR blocks, written for nftables (`nft -f`) or ipset (`ipset restore`).
//!
//! A category's set holds every address whose answer has the category ([`category_sets`]);
//! adjacent and overlapping ranges are joined before they are cut into CIDR blocks
//! ([`aggregate`]), so the list is the shortest exact one. IPv4 and IPv6 are separate sets
//! (`vpn_v4`, `vpn_v6`); IPv4-mapped IPv6 is left to the IPv4 set.
//!
//! # nftables ([`write_nft`])
//! A `define NAME_CATEGORY_v4 = { … }` per non-empty set (for rulesets that `include` the
//! file and use the variables), a table `inet NAME` declaring every set with `flags interval`,
//! then for each set `flush set` and `add element … $NAME_CATEGORY_v4`. `nft -f FILE` loads
//! it in one transaction and reloading replaces the elements, keeping the table's chains:
//!
//! ```text
//! table inet ipsieve {
//!     chain input {
//!         type filter hook input priority 0; policy accept;
//!         ip saddr @tor_exit_v4 drop
//!         ip6 saddr @tor_exit_v6 drop
//!     }
//! }
//! ```
//!
//! # ipset ([`write_ipset`])
//! For each set `NAME_CATEGORY_v4` a `hash:net` set (`family inet` or `inet6`), filled through a
//! `…_new` copy that is then swapped in and destroyed, so matching never sees a half-filled
//! set. Load with `ipset restore -exist < FILE` (`-exist` lets the `create` lines pass when the
//! sets already exist). `hash:net` cannot hold a /0, so one is written as two /1 blocks.
//!
//! # Names
//! ipset refuses a set name over [`IPSET_MAX_NAME_LEN`] (31) bytes, and `ipset restore` stops
//! at that line, leaving the sets made before it. The longest name made,
//! `NAME_tor_relay_v6_new`, is 17 bytes longer than `NAME`, so [`SetName`] accepts at most
//! [`SetName::max_len`] (14) characters, for both formats, so one `--name` serves both.
//! nftables names may be 255 bytes (measured on Linux 6.18: 256 is refused); its table is
//! `NAME` and its sets `CATEGORY_v4`, at most 12 bytes, far below that and below 31.

use std::io::Write;
use std::net::IpAddr;

use ipnet::{Ipv4Net, Ipv4Subnets, Ipv6Net, Ipv6Subnets};
use ipsieve::{Categories, Database};

use super::ExportError;
use crate::walk::Space;

/// The `maxelem` of every ipset (larger when a set holds more): fixed, so that
/// `create -exist` matches the sets an earlier load made.
pub const IPSET_MAXELEM: usize = 1 << 20;

/// Longest ipset set name, in bytes (the kernel's `IPSET_MAXNAMELEN`, 32, holds the NUL).
pub const IPSET_MAX_NAME_LEN: usize = 31;

/// The addresses of one category, as CIDR blocks per family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategorySet {
    /// The category.
    pub category: Categories,
    /// Its stable name (`tor_exit`, `vpn`, …).
    pub name: &'static str,
    /// IPv4 blocks, in address order, the fewest that cover the category exactly.
    pub v4: Vec<Ipv4Net>,
    /// IPv6 blocks, likewise.
    pub v6: Vec<Ipv6Net>,
}

/// The fewest CIDR blocks, in address order, that cover exactly the union of `ranges`
/// (inclusive `(first, last)` pairs, in any order, overlapping or not) in a `bits`-bit space
/// (1 to 128; 32 for IPv4): each range cut into blocks by ipnet's [`Ipv6Subnets`], the blocks
/// joined by [`Ipv6Net::aggregate`], over the space laid on top of IPv6 (as
/// [`crate::walk::cidrs`] does). [`category_sets`] does the same on addresses.
///
/// # Panics
/// When `bits` is 0 or over 128.
///
/// ```
/// use ipsieve_builder::export::firewall::aggregate;
/// // 10.0.0.0-10.0.0.127 and 10.0.0.128-10.0.1.255: one /23.
/// let a = 0x0a00_0000;
/// assert_eq!(aggregate([(a + 128, a + 511), (a, a + 127)], 32), vec![(a, 23)]);
/// ```
pub fn aggregate(ranges: impl IntoIterator<Item = (u128, u128)>, bits: u8) -> Vec<(u128, u8)> {
    let space = Space::new(bits);
    let blocks: Vec<Ipv6Net> = ranges
        .into_iter()
        .flat_map(|(first, last)| {
            Ipv6Subnets::new(space.lift_first(first), space.lift_last(last), 0)
        })
        .collect();
    Ipv6Net::aggregate(&blocks)
        .into_iter()
        .map(|n| space.lower(n))
        .collect()
}

/// One [`CategorySet`] per category of `categories`, in the order given, repeats dropped
/// (every category of [`Categories::NAMED`] when empty), read from `db` in one walk of
/// [`Database::ranges`]. Each entry should be one named category; others are left out.
pub fn category_sets(db: &Database, categories: &[Categories]) -> Vec<CategorySet> {
    let mut wanted: Vec<Categories> = Vec::new();
    for &c in categories {
        if !wanted.contains(&c) {
            wanted.push(c);
        }
    }
    if wanted.is_empty() {
        wanted = Categories::NAMED.iter().map(|(c, _)| *c).collect();
    }
    let mut sets: Vec<CategorySet> = wanted
        .iter()
        .filter_map(|c| Categories::NAMED.iter().find(|(n, _)| n == c))
        .map(|&(category, name)| CategorySet {
            category,
            name,
            v4: Vec::new(),
            v6: Vec::new(),
        })
        .collect();
    // One walk over the artifact's ranges: each range cut into blocks for every set whose
    // category it has, then each set's blocks aggregated.
    let mut v4: Vec<Vec<Ipv4Net>> = vec![Vec::new(); sets.len()];
    let mut v6: Vec<Vec<Ipv6Net>> = vec![Vec::new(); sets.len()];
    for range in db.ranges() {
        let cats = range.answer.categories();
        if cats.is_empty() {
            continue;
        }
        for (i, set) in sets.iter().enumerate() {
            if !cats.contains(set.category) {
                continue;
            }
            match (range.first, range.last) {
                (IpAddr::V4(first), IpAddr::V4(last)) => {
                    v4[i].extend(Ipv4Subnets::new(first, last, 0));
                }
                (IpAddr::V6(first), IpAddr::V6(last)) => {
                    v6[i].extend(Ipv6Subnets::new(first, last, 0));
                }
                // A range never spans families.
                _ => {}
            }
        }
    }
    for ((set, v4), v6) in sets.iter_mut().zip(v4).zip(v6) {
        set.v4 = Ipv4Net::aggregate(&v4);
        set.v6 = Ipv6Net::aggregate(&v6);
    }
    sets
}

/// A table name or set-name prefix that nftables and ipset both accept: 1 to
/// [`SetName::max_len`] (14) ASCII letters, digits or `_`, starting with a letter, so that every
/// ipset name made from it (the longest is `NAME_tor_relay_v6_new`) stays within
/// [`IPSET_MAX_NAME_LEN`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetName(String);

impl SetName {
    /// Checks `name`.
    ///
    /// ```
    /// use ipsieve_builder::export::firewall::SetName;
    /// assert_eq!(SetName::max_len(), 14);
    /// assert!(SetName::new("abcdefghijklmn").is_ok());
    /// let e = SetName::new("abcdefghijklmnop").unwrap_err();
    /// assert!(e.to_string().contains("use a name of at most 14 characters"));
    /// ```
    ///
    /// # Errors
    /// [`ExportError::InvalidName`] when it is empty or holds other characters,
    /// [`ExportError::NameTooLong`] when an ipset name made from it would be longer than
    /// [`IPSET_MAX_NAME_LEN`]. Never panics.
    pub fn new(name: &str) -> Result<SetName, ExportError> {
        let ok = !name.is_empty()
            && name.starts_with(|c: char| c.is_ascii_alphabetic())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ok {
            return Err(ExportError::InvalidName(name.to_owned()));
        }
        let longest = longest_ipset_name(name);
        if longest.len() > IPSET_MAX_NAME_LEN {
            return Err(ExportError::NameTooLong {
                name: name.to_owned(),
                longest,
                max: SetName::max_len(),
            });
        }
        Ok(SetName(name.to_owned()))
    }

    /// The longest name accepted, in characters: [`IPSET_MAX_NAME_LEN`] less what the
    /// longest ipset name adds to it.
    pub fn max_len() -> usize {
        IPSET_MAX_NAME_LEN.saturating_sub(longest_ipset_name("").len())
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The longest ipset set name [`write_ipset`] makes from `prefix`, over every category.
fn longest_ipset_name(prefix: &str) -> String {
    Categories::NAMED
        .iter()
        .flat_map(|&(_, category)| family_set_names(category))
        .map(|set| ipset_names(prefix, &set).1)
        .max_by_key(String::len)
        .unwrap_or_default()
}

/// A category's set names per family, without prefix: `vpn_v4`, `vpn_v6`.
fn family_set_names(category: &str) -> [String; 2] {
    [format!("{category}_v4"), format!("{category}_v6")]
}

/// The ipset names of one set: `PREFIX_SET` and the copy it is filled through,
/// `PREFIX_SET_new`.
fn ipset_names(prefix: &str, set: &str) -> (String, String) {
    let name = format!("{prefix}_{set}");
    let new = format!("{name}_new");
    (name, new)
}

/// The sets of one family: `(set name, nft type, ipset family, blocks as text)`.
fn per_family(set: &CategorySet) -> [(String, &'static str, &'static str, Vec<String>); 2] {
    let [v4, v6] = family_set_names(set.name);
    [
        (
            v4,
            "ipv4_addr",
            "inet",
            set.v4.iter().map(ToString::to_string).collect(),
        ),
        (
            v6,
            "ipv6_addr",
            "inet6",
            set.v6.iter().map(ToString::to_string).collect(),
        ),
    ]
}

/// Writes `sets` as an nftables script for table `inet TABLE` (see the module documentation).
/// `comment` goes on the first lines, each prefixed with `# `.
///
/// # Errors
/// The first error writing to `out`.
pub fn write_nft(
    out: &mut dyn Write,
    sets: &[CategorySet],
    table: &SetName,
    comment: &str,
) -> std::io::Result<()> {
    let table = table.as_str();
    for line in comment.lines() {
        writeln!(out, "# {line}")?;
    }
    writeln!(
        out,
        "# Load with: nft -f FILE (reloading replaces the elements)."
    )?;
    for set in sets {
        for (name, _, _, blocks) in per_family(set) {
            if blocks.is_empty() {
                continue;
            }
            writeln!(out, "define {table}_{name} = {{")?;
            for b in &blocks {
                writeln!(out, "\t{b},")?;
            }
            writeln!(out, "}}")?;
        }
    }
    writeln!(out, "table inet {table} {{")?;
    for set in sets {
        for (name, ty, _, _) in per_family(set) {
            writeln!(out, "\tset {name} {{")?;
            writeln!(out, "\t\ttype {ty}")?;
            writeln!(out, "\t\tflags interval")?;
            writeln!(out, "\t}}")?;
        }
    }
    writeln!(out, "}}")?;
    for set in sets {
        for (name, _, _, blocks) in per_family(set) {
            writeln!(out, "flush set inet {table} {name}")?;
            if !blocks.is_empty() {
                writeln!(out, "add element inet {table} {name} ${table}_{name}")?;
            }
        }
    }
    Ok(())
}

/// Writes `sets` as an `ipset restore` script with set names `PREFIX_CATEGORY_v4` (see the
/// module documentation). `comment` goes on the first lines, each prefixed with `# `.
///
/// # Errors
/// The first error writing to `out`.
pub fn write_ipset(
    out: &mut dyn Write,
    sets: &[CategorySet],
    prefix: &SetName,
    comment: &str,
) -> std::io::Result<()> {
    let prefix = prefix.as_str();
    for line in comment.lines() {
        writeln!(out, "# {line}")?;
    }
    writeln!(
        out,
        "# Load with: ipset restore -exist < FILE (each set is filled as NAME_new, then swapped in)."
    )?;
    for set in sets {
        for (name, _, family, blocks) in per_family(set) {
            let (name, new) = ipset_names(prefix, &name);
            let maxelem = IPSET_MAXELEM.max(blocks.len() + 1);
            let create = format!("hash:net family {family} maxelem {maxelem}");
            writeln!(out, "create {name} {create}")?;
            writeln!(out, "create {new} {create}")?;
            writeln!(out, "flush {new}")?;
            for b in &blocks {
                match b.as_str() {
                    // hash:net takes prefix lengths from 1: a /0 is its two halves.
                    "0.0.0.0/0" => writeln!(out, "add {new} 0.0.0.0/1\nadd {new} 128.0.0.0/1")?,
                    "::/0" => writeln!(out, "add {new} ::/1\nadd {new} 8000::/1")?,
                    _ => writeln!(out, "add {new} {b}")?,
                }
            }
            writeln!(out, "swap {new} {name}")?;
            writeln!(out, "destroy {new}")?;
        }
    }
    Ok(())
}
