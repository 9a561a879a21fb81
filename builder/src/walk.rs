//! Walking an artifact in address order: every maximal run of addresses that share one answer,
//! and the merge of two artifacts' runs into the pieces on which both answers are constant.
//!
//! The walk asks the artifact itself: it looks the first address up, takes the end of the
//! answer's [`range`](Answer::range) as the end of the run, and looks up the next address.
//! Pieces that the index splits (at /16 or /64 boundaries) but that point at the same record
//! are joined again, so a run is as long as the answer stays the same. Each family is covered
//! from its first to its last address, unknown space included (with the empty answer);
//! IPv6 leaves out `::ffff:0:0/96`, which ipsieve answers as IPv4.
//!
//! ```
//! use ipsieve::{Categories, Database};
//! use ipsieve_builder::walk::{runs, Family};
//! use ipsieve_builder::{Attrs, Builder, SourceSpec};
//!
//! let mut b = Builder::new();
//! let tor = b.add_source(SourceSpec::new("tor", "tor-exit-list").categories(Categories::TOR_EXIT))?;
//! b.add_net(tor, "185.220.101.0/30".parse().unwrap(), Attrs::default())?;
//! let db = Database::from_bytes(&b.compile()?.bytes)?;
//! let tor_runs: Vec<(u128, u128)> = runs(&db, Family::V4)
//!     .filter(|r| r.answer.is_tor())
//!     .map(|r| (r.first, r.last))
//!     .collect();
//! let first = u128::from(u32::from(std::net::Ipv4Addr::new(185, 220, 101, 0)));
//! assert_eq!(tor_runs, vec![(first, first + 3)]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use ipsieve::{Answer, Database};

/// First address of `::ffff:0:0/96`, the IPv4-mapped block that ipsieve answers as IPv4.
pub const MAPPED_FIRST: u128 = 0xffff_0000_0000;
/// Last address of `::ffff:0:0/96`.
pub const MAPPED_LAST: u128 = 0xffff_ffff_ffff;

/// An address family, with its addresses as integers (`u32` values for IPv4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// IPv4: addresses `0..=u32::MAX`.
    V4,
    /// IPv6: addresses `0..=u128::MAX`, less `::ffff:0:0/96`.
    V6,
}

impl Family {
    /// Both families, IPv4 first.
    pub const BOTH: [Family; 2] = [Family::V4, Family::V6];

    /// Address bits: 32 or 128.
    pub const fn bits(self) -> u8 {
        match self {
            Family::V4 => 32,
            Family::V6 => 128,
        }
    }

    /// The last address of the family as an integer.
    pub const fn last(self) -> u128 {
        match self {
            Family::V4 => u32::MAX as u128,
            Family::V6 => u128::MAX,
        }
    }

    /// `"IPv4"` or `"IPv6"`.
    pub const fn name(self) -> &'static str {
        match self {
            Family::V4 => "IPv4",
            Family::V6 => "IPv6",
        }
    }

    /// The address with this integer value; IPv4 values above `u32::MAX` are clamped.
    pub fn addr(self, x: u128) -> IpAddr {
        match self {
            Family::V4 => IpAddr::V4(Ipv4Addr::from(x.min(u128::from(u32::MAX)) as u32)),
            Family::V6 => IpAddr::V6(Ipv6Addr::from(x)),
        }
    }

    /// The network of prefix length `len` starting at `x` (host bits are cleared).
    ///
    /// # Panics
    /// When `len` exceeds the family's [`bits`](Family::bits).
    pub fn net(self, x: u128, len: u8) -> IpNet {
        match self {
            Family::V4 => IpNet::V4(
                Ipv4Net::new(Ipv4Addr::from(x.min(u128::from(u32::MAX)) as u32), len)
                    .expect("IPv4 prefix length at most 32")
                    .trunc(),
            ),
            Family::V6 => IpNet::V6(
                Ipv6Net::new(Ipv6Addr::from(x), len)
                    .expect("IPv6 prefix length at most 128")
                    .trunc(),
            ),
        }
    }
}

/// A maximal run of addresses with the same answer.
#[derive(Debug, Clone, Copy)]
pub struct Run<'a> {
    /// First address, as an integer of the family.
    pub first: u128,
    /// Last address (inclusive).
    pub last: u128,
    /// The answer of every address in the run.
    pub answer: Answer<'a>,
}

/// Iterator over the [`Run`]s of one family of an artifact, in address order. Made by [`runs`].
#[derive(Debug)]
pub struct Runs<'a> {
    db: &'a Database,
    family: Family,
    /// The next address to look up; `None` once the family is done.
    next: Option<u128>,
    /// A run read but not yet returned: the next piece may continue it.
    pending: Option<Run<'a>>,
}

/// Every run of `family` in `db`, from the family's first address to its last, unknown space
/// included. Costs one lookup per piece of the index.
pub fn runs(db: &Database, family: Family) -> Runs<'_> {
    Runs {
        db,
        family,
        next: Some(0),
        pending: None,
    }
}

impl<'a> Runs<'a> {
    /// The next piece of the index as the artifact reports it, before joining.
    fn piece(&mut self) -> Option<Run<'a>> {
        let mut x = self.next?;
        if self.family == Family::V6 && (MAPPED_FIRST..=MAPPED_LAST).contains(&x) {
            x = MAPPED_LAST + 1;
        }
        let answer = match self.family {
            Family::V4 => self.db.lookup_v4(Ipv4Addr::from(x as u32)),
            Family::V6 => self.db.lookup_v6(Ipv6Addr::from(x)),
        };
        let mut last = match answer.range().1 {
            IpAddr::V4(a) => u128::from(u32::from(a)),
            IpAddr::V6(a) => u128::from(a),
        };
        // A valid artifact always answers with a range holding the address; should a damaged
        // one not, step one address so the walk still ends.
        if last < x {
            last = x;
        }
        if self.family == Family::V6 && x < MAPPED_FIRST && last >= MAPPED_FIRST {
            last = MAPPED_FIRST - 1;
        }
        self.next = if last >= self.family.last() {
            None
        } else {
            Some(last + 1)
        };
        Some(Run {
            first: x,
            last,
            answer,
        })
    }
}

impl<'a> Iterator for Runs<'a> {
    type Item = Run<'a>;

    fn next(&mut self) -> Option<Run<'a>> {
        loop {
            let Some(piece) = self.piece() else {
                return self.pending.take();
            };
            match &mut self.pending {
                Some(p)
                    if p.last.checked_add(1) == Some(piece.first)
                        && std::ptr::eq(p.answer.record_words(), piece.answer.record_words()) =>
                {
                    p.last = piece.last;
                }
                Some(_) => return self.pending.replace(piece),
                None => self.pending = Some(piece),
            }
        }
    }
}

/// A piece of address space on which the answers of two artifacts are both constant.
#[derive(Debug, Clone, Copy)]
pub struct Pair<'a, 'b> {
    /// First address, as an integer of the family.
    pub first: u128,
    /// Last address (inclusive).
    pub last: u128,
    /// The first artifact's answer.
    pub old: Answer<'a>,
    /// The second artifact's answer.
    pub new: Answer<'b>,
}

/// Iterator over the [`Pair`]s of two artifacts in one family, in address order: the merge of
/// their run sequences, cut wherever either answer changes. Made by [`merge`].
#[derive(Debug)]
pub struct Merge<'a, 'b> {
    old: Runs<'a>,
    new: Runs<'b>,
    cur_old: Option<Run<'a>>,
    cur_new: Option<Run<'b>>,
}

/// The pieces of `family` on which both `old` and `new` answer the same throughout: every
/// address of the family (as [`runs`] covers it) is in exactly one pair.
pub fn merge<'a, 'b>(old: &'a Database, new: &'b Database, family: Family) -> Merge<'a, 'b> {
    let mut old = runs(old, family);
    let mut new = runs(new, family);
    let (cur_old, cur_new) = (old.next(), new.next());
    Merge {
        old,
        new,
        cur_old,
        cur_new,
    }
}

impl<'a, 'b> Iterator for Merge<'a, 'b> {
    type Item = Pair<'a, 'b>;

    fn next(&mut self) -> Option<Pair<'a, 'b>> {
        let (o, n) = (self.cur_old.as_mut()?, self.cur_new.as_mut()?);
        // Both walks cover the same addresses, so both runs start at the same place; the
        // piece ends where the first of them ends.
        let first = o.first.max(n.first);
        let last = o.last.min(n.last);
        let pair = Pair {
            first,
            last,
            old: o.answer,
            new: n.answer,
        };
        if o.last == last {
            self.cur_old = self.old.next();
        } else {
            o.first = last + 1;
        }
        if n.last == last {
            self.cur_new = self.new.next();
        } else {
            n.first = last + 1;
        }
        Some(pair)
    }
}

/// The largest aligned blocks that cover `first..=last` exactly, in address order, as
/// `(start, prefix length)` in a `bits`-bit space (32 or 128).
///
/// ```
/// use ipsieve_builder::walk::cidrs;
/// assert_eq!(cidrs(1, 6, 32), vec![(1, 32), (2, 31), (4, 31), (6, 32)]);
/// assert_eq!(cidrs(0, u128::MAX, 128), vec![(0, 0)]);
/// ```
///
/// # Panics
/// When `first > last`.
pub fn cidrs(first: u128, last: u128, bits: u8) -> Vec<(u128, u8)> {
    assert!(first <= last, "cidrs of an empty range");
    let mut out = Vec::new();
    let mut x = first;
    loop {
        // The widest block at x: limited by x's alignment and by the addresses left.
        let align = if x == 0 {
            u32::from(bits)
        } else {
            x.trailing_zeros().min(u32::from(bits))
        };
        let left = last - x; // addresses after x
        let fit = if left == u128::MAX {
            128
        } else {
            127 - (left + 1).leading_zeros()
        };
        let size_log = align.min(fit);
        out.push((x, bits - size_log as u8));
        let end = if size_log == 128 {
            u128::MAX
        } else {
            x + ((1u128 << size_log) - 1)
        };
        if end >= last {
            return out;
        }
        x = end + 1;
    }
}
