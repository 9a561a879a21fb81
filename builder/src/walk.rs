//! An artifact's ranges as integers, and the merge of two artifacts' ranges into the pieces on
//! which both answers are constant (what [`crate::diff`] counts).
//!
//! The ranges come from the reader itself, [`Database::within`]: every maximal run of
//! addresses that share one answer, each family from its first address to its last, unknown
//! space included (with the empty answer), IPv6 without `::ffff:0:0/96` (which ipsieve answers
//! as IPv4). [`runs`] gives them as integers of their family, for arithmetic on address
//! counts; [`merge`] walks two artifacts side by side.
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

use ipnet::{IpNet, Ipv4Net, Ipv6Net, Ipv6Subnets};
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

    /// The whole family as a network: `0.0.0.0/0` or `::/0`.
    pub fn whole(self) -> IpNet {
        self.net(0, 0)
    }

    /// An address of this family as an integer (`u32` values for IPv4).
    pub fn int(ip: IpAddr) -> u128 {
        match ip {
            IpAddr::V4(a) => u128::from(u32::from(a)),
            IpAddr::V6(a) => u128::from(a),
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

/// Every run of `family` in `db`, from the family's first address to its last, unknown space
/// included: [`Database::within`] the whole family, as integers.
pub fn runs(db: &Database, family: Family) -> impl Iterator<Item = Run<'_>> + '_ {
    db.within(family.whole()).map(|r| Run {
        first: Family::int(r.first),
        last: Family::int(r.last),
        answer: r.answer,
    })
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
pub struct Merge<'a, 'b> {
    old: Box<dyn Iterator<Item = Run<'a>> + 'a>,
    new: Box<dyn Iterator<Item = Run<'b>> + 'b>,
    cur_old: Option<Run<'a>>,
    cur_new: Option<Run<'b>>,
}

impl std::fmt::Debug for Merge<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Merge")
            .field("cur_old", &self.cur_old)
            .field("cur_new", &self.cur_new)
            .finish_non_exhaustive()
    }
}

/// The pieces of `family` on which both `old` and `new` answer the same throughout: every
/// address of the family (as [`runs`] covers it) is in exactly one pair.
pub fn merge<'a, 'b>(old: &'a Database, new: &'b Database, family: Family) -> Merge<'a, 'b> {
    let mut old: Box<dyn Iterator<Item = Run<'a>> + 'a> = Box::new(runs(old, family));
    let mut new: Box<dyn Iterator<Item = Run<'b>> + 'b> = Box::new(runs(new, family));
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
/// `(start, prefix length)` in a `bits`-bit space (1 to 128; 32 for IPv4, 128 for IPv6):
/// ipnet's [`Ipv6Subnets`], with the space laid over the top `bits` bits of IPv6 (a block's
/// prefix length is the same there).
///
/// ```
/// use ipsieve_builder::walk::cidrs;
/// assert_eq!(cidrs(1, 6, 32), vec![(1, 32), (2, 31), (4, 31), (6, 32)]);
/// assert_eq!(cidrs(0, u128::MAX, 128), vec![(0, 0)]);
/// assert_eq!(cidrs(0, 1023, 10), vec![(0, 0)]);
/// ```
///
/// # Panics
/// When `first > last`, or `bits` is 0 or over 128.
pub fn cidrs(first: u128, last: u128, bits: u8) -> Vec<(u128, u8)> {
    assert!(first <= last, "cidrs of an empty range");
    let space = Space::new(bits);
    Ipv6Subnets::new(space.lift_first(first), space.lift_last(last), 0)
        .map(|n| space.lower(n))
        .collect()
}

/// A `bits`-bit integer space laid over the top bits of IPv6, so that ipnet's IPv6 block
/// arithmetic ([`Ipv6Subnets`], [`Ipv6Net::aggregate`]) serves any width.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Space {
    /// `128 - bits`.
    shift: u32,
}

impl Space {
    /// # Panics
    /// When `bits` is 0 or over 128.
    pub(crate) fn new(bits: u8) -> Space {
        assert!((1..=128).contains(&bits), "a {bits}-bit space");
        Space {
            shift: 128 - u32::from(bits),
        }
    }

    /// The first IPv6 address of integer `x`'s slot.
    pub(crate) fn lift_first(self, x: u128) -> Ipv6Addr {
        Ipv6Addr::from(x.checked_shl(self.shift).unwrap_or(0))
    }

    /// The last IPv6 address of integer `x`'s slot.
    pub(crate) fn lift_last(self, x: u128) -> Ipv6Addr {
        let low = u128::MAX.checked_shr(128 - self.shift).unwrap_or(0);
        Ipv6Addr::from(x.checked_shl(self.shift).unwrap_or(0) | low)
    }

    /// A block of the lifted space as `(start, prefix length)` of this one.
    pub(crate) fn lower(self, n: Ipv6Net) -> (u128, u8) {
        let start = u128::from(n.network()).checked_shr(self.shift).unwrap_or(0);
        (start, n.prefix_len())
    }
}
