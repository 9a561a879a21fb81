//! The classification rules: how the signals of the sources that cover an address become a
//! score in 0..=1 and an IPLogs-style [`Verdict`]. `docs/INTELLIGENCE.md` states the same rules
//! in prose and tables; a test checks that the two agree.
//!
//! The builder applies these rules once per record and stores the verdict and score in the
//! artifact; the reader applies [`signal_weight`] again to explain an answer
//! ([`Answer::signals`](crate::Answer::signals)), so the explanation always adds up to the stored
//! score.
//!
//! 1. **Signals.** Every source covering the address is a signal. Its categories are the
//!    categories the source asserts that the answer holds ([`signal_categories`]).
//! 2. **Weight per category.** A signal's weight for one of its categories is
//!    [`BASE_WEIGHTS`]`[category][tier]` scaled by the source's own weight (0..=1, default 1)
//!    and by the decay of evidence of the source's age at the artifact's [`data_day`]
//!    ([`decay_percent`]: a
//!    half-life per category, [`HALF_LIVES`], never below [`DECAY_FLOOR`]), in hundredths,
//!    rounded ([`aged_category_weight`]).
//! 3. **Privacy relays.** When the answer holds `relay`, a signal's `hosting` counts nothing,
//!    and neither does any signal of the `asn-heuristic`, `asn-sibling` or `keyword` tier
//!    ([`counted`]): relay
//!    egress runs on CDN address space by design, so a hosting or ASN-wide rule says nothing
//!    about the user behind it.
//! 4. **Score.** Per category, the strongest signal counts (corroboration does not add up);
//!    the score is the sum over categories, capped at 1 ([`Scorer`]).
//! 5. **Verdict.** From the score, with the IPLogs thresholds ([`verdict_for_score`]).

use crate::types::{Categories, RiskLevel, Tier, Verdict};

/// Weight of one category asserted at one evidence tier, in hundredths, before the source's
/// own weight scales it. Rows in [`Categories::NAMED`] order; columns in [`Tier::ALL`] order
/// (first-party, curated, asn-heuristic, asn-sibling, keyword).
pub const BASE_WEIGHTS: [(Categories, [u8; 5]); 6] = [
    (Categories::TOR_EXIT, [100, 90, 20, 15, 10]),
    (Categories::TOR_RELAY, [10, 8, 4, 3, 2]),
    (Categories::VPN, [90, 80, 10, 8, 5]),
    (Categories::PROXY, [70, 60, 10, 8, 5]),
    (Categories::HOSTING, [35, 30, 15, 10, 5]),
    (Categories::RELAY, [10, 8, 4, 3, 2]),
];

/// Half-life in days of each category's evidence: a listing that old counts half of what a
/// fresh one does ([`decay_percent`]). Tor relays change role and address and public proxies
/// die within days; VPN servers move in months; hosting ranges change hands in years. Rows in
/// [`Categories::NAMED`] order.
pub const HALF_LIVES: [(Categories, u32); 6] = [
    (Categories::TOR_EXIT, 30),
    (Categories::TOR_RELAY, 30),
    (Categories::VPN, 365),
    (Categories::PROXY, 14),
    (Categories::HOSTING, 1095),
    (Categories::RELAY, 365),
];

/// The least share of its fresh weight, in percent, that evidence keeps however old it is: a
/// stale listing drops towards a lower verdict instead of standing forever, but is never
/// ignored (the category itself stays in the answer).
pub const DECAY_FLOOR: u8 = 50;

/// The share of its fresh weight, in percent ([`DECAY_FLOOR`]..=100), that evidence of one
/// category keeps when it is `age_days` old at the artifact's data day ([`data_day`]): `100 × 2^(−age / half-life)`,
/// rounded, never below the floor. 100 when the age is unknown (an undated source) or for an
/// empty or unknown category.
///
/// ```
/// use ipsieve::classify::decay_percent;
/// use ipsieve::Categories;
///
/// assert_eq!(decay_percent(Categories::TOR_EXIT, Some(0)), 100);
/// assert_eq!(decay_percent(Categories::TOR_EXIT, Some(15)), 71); // half a half-life
/// assert_eq!(decay_percent(Categories::TOR_EXIT, Some(30)), 50);
/// assert_eq!(decay_percent(Categories::TOR_EXIT, Some(400)), 50); // the floor
/// assert_eq!(decay_percent(Categories::HOSTING, Some(365)), 79);
/// assert_eq!(decay_percent(Categories::VPN, None), 100);
/// ```
pub fn decay_percent(category: Categories, age_days: Option<u32>) -> u8 {
    let (Some(age), Some(&(_, half_life))) =
        (age_days, HALF_LIVES.iter().find(|(c, _)| *c == category))
    else {
        return 100;
    };
    let kept = 100.0 * 0.5f64.powf(f64::from(age) / f64::from(half_life.max(1)));
    kept.round().clamp(f64::from(DECAY_FLOOR), 100.0) as u8
}

/// [`category_weight`] of evidence `age_days` old: `round(base × source_weight
/// × decay / 10^4)` with the decay of [`decay_percent`]; equal to [`category_weight`] for fresh
/// or undated evidence.
pub fn aged_category_weight(
    category: Categories,
    tier: Tier,
    source_weight: u8,
    age_days: Option<u32>,
) -> u8 {
    let fresh = category_weight(category, tier, 100);
    let sw = u32::from(source_weight.min(100));
    let decay = u32::from(decay_percent(category, age_days));
    ((u32::from(fresh) * sw * decay + 5_000) / 10_000) as u8
}

/// The day an artifact's evidence ages are counted to: its *data day*, the newest snapshot
/// date among its sources, or the build day if that is earlier (days since 1970-01-01). A
/// nightly build of fresh data has its build day as data day; a build of old data (the
/// vendored snapshot, years later) ages each source by how much older it is than the freshest
/// evidence beside it, so the same data always gives the same scores whenever it is built.
/// Staleness of the whole artifact is `ipsieve stats`' and the fetch's `max_age_days`' business.
pub fn data_day(build_time: u64, snapshot_days: impl IntoIterator<Item = Option<u32>>) -> u32 {
    let build_day = u32::try_from(build_time / 86_400).unwrap_or(u32::MAX);
    snapshot_days
        .into_iter()
        .flatten()
        .max()
        .map_or(build_day, |newest| newest.min(build_day))
}

/// The age in days of evidence from `snapshot_day` in an artifact whose [`data_day`] is
/// `data_day`: `None` for an undated source, 0 for a snapshot dated on or after it.
pub fn evidence_age(data_day: u32, snapshot_day: Option<u32>) -> Option<u32> {
    snapshot_day.map(|day| data_day.saturating_sub(day))
}

/// Lowest score (hundredths) of the verdict `vpn_detected`.
pub const DETECTED_FROM: u8 = 75;
/// Lowest score (hundredths) of the verdict `vpn_likely`.
pub const LIKELY_FROM: u8 = 50;
/// Lowest score (hundredths) of the verdict `suspicious`.
pub const SUSPICIOUS_FROM: u8 = 30;

/// The categories a source's signal claims at an address: those it asserts that the answer
/// holds.
///
/// A source's asserted categories are the union over all its entries (a Tor consensus asserts
/// `tor_exit` and `tor_relay`), so for a source whose entries differ this may claim more than
/// the entry covering the address did; for a list whose entries all assert the same
/// categories it is exact.
#[inline]
pub const fn signal_categories(asserted: Categories, answer: Categories) -> Categories {
    Categories::from_bits(asserted.bits() & answer.bits())
}

/// Of a signal's categories, those that count towards the score (rule 3): everything, unless
/// the answer holds `relay`, in which case `hosting` never counts and an `asn-heuristic`,
/// `asn-sibling` or `keyword` signal counts nothing.
#[inline]
pub const fn counted(signal: Categories, tier: Tier, answer: Categories) -> Categories {
    if answer.bits() & Categories::RELAY.bits() == 0 {
        return signal;
    }
    if tier.is_weak() {
        return Categories::empty();
    }
    Categories::from_bits(signal.bits() & !Categories::HOSTING.bits())
}

/// Weight in hundredths of a single category (one bit) asserted at `tier` by a source whose
/// own weight is `source_weight` hundredths (clamped to 100): `round(base × source_weight /
/// 100)`. Zero for an empty or unknown category.
#[inline]
pub const fn category_weight(category: Categories, tier: Tier, source_weight: u8) -> u8 {
    let sw = if source_weight > 100 {
        100
    } else {
        source_weight
    } as u32;
    let mut i = 0;
    while i < BASE_WEIGHTS.len() {
        if BASE_WEIGHTS[i].0.bits() == category.bits() {
            let base = BASE_WEIGHTS[i].1[tier as usize] as u32;
            return ((base * sw + 50) / 100) as u8;
        }
        i += 1;
    }
    0
}

/// The weight of a whole signal, in hundredths: the largest [`aged_category_weight`] of the
/// categories that count ([`counted`]); 0 when none does.
pub fn signal_weight(
    signal: Categories,
    tier: Tier,
    source_weight: u8,
    age_days: Option<u32>,
    answer: Categories,
) -> u8 {
    let c = counted(signal, tier, answer);
    BASE_WEIGHTS
        .iter()
        .filter(|(cat, _)| c.contains(*cat))
        .map(|&(cat, _)| aged_category_weight(cat, tier, source_weight, age_days))
        .max()
        .unwrap_or(0)
}

/// The verdict of a score in hundredths: `vpn_detected` from [`DETECTED_FROM`], `vpn_likely`
/// from [`LIKELY_FROM`], `suspicious` from [`SUSPICIOUS_FROM`], else `clean`.
#[inline]
pub const fn verdict_for_score(score: u8) -> Verdict {
    if score >= DETECTED_FROM {
        Verdict::VpnDetected
    } else if score >= LIKELY_FROM {
        Verdict::VpnLikely
    } else if score >= SUSPICIOUS_FROM {
        Verdict::Suspicious
    } else {
        Verdict::Clean
    }
}

/// The ip2geoapi-style risk level of a score in hundredths; the same thresholds as
/// [`verdict_for_score`] (`low` = clean, `medium` = suspicious, `high` = vpn_likely,
/// `critical` = vpn_detected).
#[inline]
pub const fn risk_level_for_score(score: u8) -> RiskLevel {
    match verdict_for_score(score) {
        Verdict::Clean => RiskLevel::Low,
        Verdict::Suspicious => RiskLevel::Medium,
        Verdict::VpnLikely => RiskLevel::High,
        Verdict::VpnDetected => RiskLevel::Critical,
    }
}

/// Adds up the signals of one address into its score and verdict (rules 2–5).
///
/// ```
/// use ipsieve::classify::Scorer;
/// use ipsieve::{Categories, Tier, Verdict};
///
/// // A Mullvad server in a hosting provider's published ranges.
/// let answer = Categories::VPN | Categories::HOSTING;
/// let mut s = Scorer::new(answer);
/// s.add(Categories::VPN, Tier::FirstParty, 100);
/// s.add(Categories::HOSTING, Tier::FirstParty, 100);
/// assert_eq!(s.finish(), (Verdict::VpnDetected, 100));
///
/// // Hosting known only from an ASN-wide list: weaker than a provider's own list.
/// let mut s = Scorer::new(Categories::HOSTING);
/// s.add(Categories::HOSTING, Tier::AsnHeuristic, 100);
/// assert_eq!(s.finish(), (Verdict::Clean, 15));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scorer {
    answer: Categories,
    /// Strongest weight per category, in [`BASE_WEIGHTS`] order.
    best: [u8; BASE_WEIGHTS.len()],
}

impl Scorer {
    /// A scorer for an address whose answer holds `answer` (the union of all categories).
    pub const fn new(answer: Categories) -> Self {
        Scorer {
            answer,
            best: [0; BASE_WEIGHTS.len()],
        }
    }

    /// Adds the signal of one source: the categories it asserts (anything outside the answer
    /// is ignored), its tier and its own weight in hundredths; fresh evidence (see
    /// [`Scorer::add_aged`]).
    pub fn add(&mut self, asserted: Categories, tier: Tier, source_weight: u8) {
        self.add_aged(asserted, tier, source_weight, None);
    }

    /// [`Scorer::add`] for evidence `age_days` old ([`evidence_age`]; `None`: undated), whose
    /// weights decay ([`decay_percent`]).
    pub fn add_aged(
        &mut self,
        asserted: Categories,
        tier: Tier,
        source_weight: u8,
        age_days: Option<u32>,
    ) {
        let signal = signal_categories(asserted, self.answer);
        let c = counted(signal, tier, self.answer);
        for (best, &(cat, _)) in self.best.iter_mut().zip(&BASE_WEIGHTS) {
            if c.contains(cat) {
                *best = (*best).max(aged_category_weight(cat, tier, source_weight, age_days));
            }
        }
    }

    /// The score in hundredths (0..=100) and its verdict.
    pub fn finish(&self) -> (Verdict, u8) {
        let sum: u32 = self.best.iter().map(|&w| u32::from(w)).sum();
        let score = sum.min(100) as u8;
        (verdict_for_score(score), score)
    }
}

/// The categories of `answer` whose strongest asserting source is weaker than `curated`
/// (`asn-heuristic`, `asn-sibling` or `keyword` evidence only): the ones [`crate::Policy`] never blocks on.
/// `sources` are the matching sources as (categories they assert, tier). The builder stores the
/// result in the leaf's summary class, so [`crate::Policy::decide`] reads no record.
///
/// ```
/// use ipsieve::classify::weak_categories;
/// use ipsieve::{Categories, Tier};
///
/// let answer = Categories::VPN | Categories::HOSTING;
/// let sources = [
///     (Categories::VPN, Tier::FirstParty),
///     (Categories::HOSTING, Tier::AsnHeuristic),
/// ];
/// assert_eq!(weak_categories(answer, sources), Categories::HOSTING);
/// ```
pub fn weak_categories(
    answer: Categories,
    sources: impl IntoIterator<Item = (Categories, Tier)>,
) -> Categories {
    let mut strongest: [Option<Tier>; Categories::NAMED.len()] = [None; Categories::NAMED.len()];
    for (asserted, tier) in sources {
        for (slot, (c, _)) in strongest.iter_mut().zip(Categories::NAMED) {
            if asserted.contains(c) && answer.contains(c) {
                *slot = Some(slot.map_or(tier, |s| s.min(tier)));
            }
        }
    }
    let mut weak = Categories::empty();
    for (slot, (c, _)) in strongest.iter().zip(Categories::NAMED) {
        if slot.is_some_and(Tier::is_weak) {
            weak |= c;
        }
    }
    weak
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_follow_named_order_and_tiers_weaken() {
        for ((cat, row), (named, _)) in BASE_WEIGHTS.iter().zip(Categories::NAMED) {
            assert_eq!(*cat, named);
            assert!(row.windows(2).all(|w| w[0] > w[1]), "{cat:?}: {row:?}");
            assert!(row.iter().all(|&w| w <= 100));
        }
    }

    #[test]
    fn category_weight_scales_and_rounds() {
        assert_eq!(category_weight(Categories::VPN, Tier::FirstParty, 100), 90);
        assert_eq!(category_weight(Categories::VPN, Tier::FirstParty, 50), 45);
        assert_eq!(
            category_weight(Categories::HOSTING, Tier::FirstParty, 50),
            18
        );
        assert_eq!(
            category_weight(Categories::HOSTING, Tier::AsnHeuristic, 255),
            15
        );
        assert_eq!(
            category_weight(Categories::empty(), Tier::FirstParty, 100),
            0
        );
        assert_eq!(
            category_weight(Categories::VPN | Categories::PROXY, Tier::FirstParty, 100),
            0,
            "one category at a time"
        );
    }

    #[test]
    fn half_lives_follow_named_order_and_decay_is_bounded() {
        for ((cat, half_life), (named, _)) in HALF_LIVES.iter().zip(Categories::NAMED) {
            assert_eq!(*cat, named);
            assert_eq!(decay_percent(*cat, Some(*half_life)), 50);
            let mut last = 100;
            for age in [0, 1, half_life / 2, *half_life, 10 * half_life, u32::MAX] {
                let d = decay_percent(*cat, Some(age));
                assert!((DECAY_FLOOR..=last).contains(&d), "{cat:?} {age}: {d}");
                last = d;
            }
        }
        // Fresh and undated evidence weigh as before.
        for (cat, _) in BASE_WEIGHTS {
            for tier in Tier::ALL {
                for sw in [0, 37, 100] {
                    let fresh = category_weight(cat, tier, sw);
                    assert_eq!(aged_category_weight(cat, tier, sw, None), fresh);
                    assert_eq!(aged_category_weight(cat, tier, sw, Some(0)), fresh);
                }
            }
        }
        // A year-old Tor exit listing: vpn_detected drops to vpn_likely.
        let mut s = Scorer::new(Categories::TOR_EXIT);
        s.add_aged(Categories::TOR_EXIT, Tier::FirstParty, 100, Some(365));
        assert_eq!(s.finish(), (Verdict::VpnLikely, 50));
        assert_eq!(evidence_age(100, Some(90)), Some(10));
        assert_eq!(evidence_age(100, Some(200)), Some(0));
        assert_eq!(evidence_age(100, None), None);
        // The newest snapshot, unless the build is older; the build day without dated sources.
        let t = 86_400 * 100 + 5;
        assert_eq!(data_day(t, [Some(90), None, Some(60)]), 90);
        assert_eq!(data_day(t, [Some(120), Some(60)]), 100);
        assert_eq!(data_day(t, [None]), 100);
    }

    #[test]
    fn thresholds() {
        let v = |s| verdict_for_score(s);
        assert_eq!(
            [v(0), v(29), v(30), v(49), v(50), v(74), v(75), v(100)],
            [
                Verdict::Clean,
                Verdict::Clean,
                Verdict::Suspicious,
                Verdict::Suspicious,
                Verdict::VpnLikely,
                Verdict::VpnLikely,
                Verdict::VpnDetected,
                Verdict::VpnDetected
            ]
        );
        assert_eq!(risk_level_for_score(74), RiskLevel::High);
        assert_eq!(risk_level_for_score(0), RiskLevel::Low);
    }

    #[test]
    fn relay_discounts_hosting_and_heuristics() {
        let answer = Categories::RELAY | Categories::HOSTING | Categories::VPN;
        let mut s = Scorer::new(answer);
        s.add(Categories::RELAY, Tier::FirstParty, 100);
        s.add(Categories::HOSTING, Tier::FirstParty, 100);
        s.add(Categories::VPN, Tier::AsnHeuristic, 100);
        assert_eq!(s.finish(), (Verdict::Clean, 10));
        assert_eq!(
            signal_weight(Categories::HOSTING, Tier::FirstParty, 100, None, answer),
            0
        );
        // A VPN's own list still counts on relay space.
        s.add(Categories::VPN, Tier::FirstParty, 100);
        assert_eq!(s.finish(), (Verdict::VpnDetected, 100));
    }

    #[test]
    fn corroboration_does_not_add_up() {
        let mut s = Scorer::new(Categories::HOSTING);
        s.add(Categories::HOSTING, Tier::FirstParty, 100);
        s.add(Categories::HOSTING, Tier::Curated, 100);
        s.add(Categories::HOSTING, Tier::AsnHeuristic, 100);
        assert_eq!(s.finish(), (Verdict::Suspicious, 35));
    }

    #[test]
    fn categories_outside_the_answer_are_ignored() {
        let mut s = Scorer::new(Categories::TOR_RELAY);
        s.add(
            Categories::TOR_EXIT | Categories::TOR_RELAY,
            Tier::FirstParty,
            100,
        );
        assert_eq!(s.finish(), (Verdict::Clean, 10));
    }
}
