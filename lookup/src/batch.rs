//! [`Database::lookup_many`]: lookups in groups whose cache misses overlap.
//!
//! A single lookup is a chain of dependent reads (top entry, one node line per level, maybe an
//! overflow leaf), so it waits for one miss after another. A group of [`BATCH`] addresses
//! walks in passes instead: every unfinished member takes one step of its descent
//! ([`Trie::step`], the same step single lookups take) and asks the CPU to start loading what
//! its next step reads, before any member reads it. The misses of the whole group are then in
//! flight together. Each family walks its own members, so the walk has no per-member family
//! branch; members that finish leave the walk at once.

use std::net::{IpAddr, Ipv4Addr};

use crate::answer::Answer;
use crate::database::Database;
use crate::format::{hot, leaf, Section};
use crate::index::v4::V4;
use crate::index::v6::V6;
use crate::index::{Family, Step, Trie};

/// Addresses per group of [`Database::lookup_many`].
pub const BATCH: usize = 16;

/// Asks the CPU to start loading the cache line holding `items[i]` (nothing when `i` is out of
/// range), so that a later read of it finds it cached or in flight.
#[inline(always)]
fn prefetch<T>(items: &[T], i: usize) {
    let Some(item) = items.get(i) else {
        return;
    };
    #[cfg(target_arch = "x86_64")]
    {
        // Measured (format 1): a batch staged with plain loads through `black_box` instead
        // took 1.3-3.6x as long on the full-size artifact.
        let p = std::ptr::from_ref(item).cast();
        // SAFETY: `_mm_prefetch` is only a hint to the cache: it never faults, reads nothing
        // into the program and changes no memory; `p` points inside a live slice anyway. SSE is
        // part of the x86_64 baseline, so the instruction always exists.
        unsafe { std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = std::hint::black_box(item as *const T);
}

/// Starts loading what `step` reads next.
#[inline(always)]
fn preload<F: Family>(t: Trie<'_, F>, step: Step) {
    match step {
        Step::Node { index, .. } => {
            // Every line of the node: its step reads them all (an IPv6 node's bitmaps, then its
            // bases and leaves in the second line).
            if let Some(n) = t.nodes.get(index as usize) {
                for line in n.as_ref().chunks(8) {
                    prefetch(line, 0);
                }
            }
        }
        Step::Leaf(i) => prefetch(t.leaves, i as usize),
        Step::Done(_) => {}
    }
}

/// A member of a group still walking: its place in the group, its address and its next step
/// (never [`Step::Done`]).
#[derive(Clone, Copy)]
struct Walker<K> {
    at: u8,
    x: K,
    step: Step,
}

/// Walks `walkers` to their leaves in passes, writing each leaf value to `out[at]`.
fn walk<F: Family>(t: Trie<'_, F>, walkers: &mut [Walker<F::Key>], out: &mut [u32; BATCH]) {
    let mut live = walkers.len();
    // Every pass consumes at least one address bit of each member, or ends it.
    for _ in 0..=F::BITS {
        if live == 0 {
            return;
        }
        let mut k = 0;
        while k < live {
            let w = &mut walkers[k];
            let next = match w.step {
                Step::Node { index, shift } => t.step(index, shift, w.x),
                Step::Leaf(i) => Step::Done(t.leaf(i)),
                Step::Done(v) => Step::Done(v),
            };
            if let Step::Done(v) = next {
                out[usize::from(w.at)] = v;
                live -= 1;
                walkers.swap(k, live);
            } else {
                preload(t, next);
                w.step = next;
                k += 1;
            }
        }
    }
}

/// Iterator of [`Database::lookup_many`]: one [`Answer`] per input address, in order.
pub struct LookupMany<'a, I> {
    db: &'a Database,
    ips: I,
    /// The group's addresses (IPv4-mapped ones as IPv4).
    group: [IpAddr; BATCH],
    /// Their leaf values.
    leaves: [u32; BATCH],
    /// The group's IPv6 members still walking (kept between groups, never re-initialised).
    walkers: [Walker<u128>; BATCH],
    len: usize,
    next: usize,
}

impl<I> std::fmt::Debug for LookupMany<'_, I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LookupMany")
            .field("buffered", &(self.len - self.next))
            .finish_non_exhaustive()
    }
}

impl<'a, I: Iterator<Item = IpAddr>> LookupMany<'a, I> {
    pub(crate) fn new(db: &'a Database, ips: I) -> Self {
        LookupMany {
            db,
            ips,
            group: [IpAddr::V4(Ipv4Addr::UNSPECIFIED); BATCH],
            leaves: [0; BATCH],
            walkers: [Walker {
                at: 0,
                x: 0,
                step: Step::Done(0),
            }; BATCH],
            len: 0,
            next: 0,
        }
    }

    /// Takes the next group from the input and walks it to its leaves.
    fn fill(&mut self) {
        let (t4, t6) = (self.db.trie::<V4>(), self.db.trie::<V6>());
        let mut live = 0;
        let mut n = 0;
        // The top entries; members that end there are done.
        for (slot, ip) in self.group.iter_mut().zip(self.ips.by_ref()) {
            let ip = match ip {
                IpAddr::V6(a) => a.to_ipv4_mapped().map_or(ip, IpAddr::V4),
                IpAddr::V4(_) => ip,
            };
            *slot = ip;
            self.leaves[n] = match ip {
                // IPv4 descents are short (at most three nodes, most end at the entry or in
                // the first node), and the single lookup's fixed-length descent already lets
                // the CPU overlap the misses of neighbouring lookups: staging them only costs.
                IpAddr::V4(a) => t4.lookup(u32::from(a)),
                IpAddr::V6(a) => {
                    let x = u128::from(a);
                    match t6.first(x) {
                        Step::Done(v) => v,
                        step => {
                            preload(t6, step);
                            self.walkers[live] = Walker {
                                at: n as u8,
                                x,
                                step,
                            };
                            live += 1;
                            0
                        }
                    }
                }
            };
            n += 1;
        }
        // IPv6 descents are long (up to 14 nodes, three to four inside real ranges): they go
        // level by level together.
        walk(t6, &mut self.walkers[..live], &mut self.leaves);
        // The hot column's entries (ASN, country), for callers that read those: the fields
        // most callers read past the summary.
        let column: &[[u32; hot::WORDS]] = self.db.slice(Section::Hot);
        for &v in &self.leaves[..n] {
            prefetch(column, leaf::record(v) as usize);
        }
        self.len = n;
        self.next = 0;
    }
}

impl<'a, I: Iterator<Item = IpAddr>> Iterator for LookupMany<'a, I> {
    type Item = Answer<'a>;

    #[inline]
    fn next(&mut self) -> Option<Answer<'a>> {
        if self.next == self.len {
            self.fill();
            if self.len == 0 {
                return None;
            }
        }
        let (ip, leaf) = (self.group[self.next], self.leaves[self.next]);
        self.next += 1;
        Some(Answer::new(self.db, ip, leaf))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let (lo, hi) = self.ips.size_hint();
        let buffered = self.len - self.next;
        (
            lo.saturating_add(buffered),
            hi.and_then(|h| h.checked_add(buffered)),
        )
    }
}
