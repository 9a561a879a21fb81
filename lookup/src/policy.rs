//! The policy helper: what to do with a request, given the answer for its address, the
//! overlay's decision and what the request is trying to do.
//!
//! A [`Policy`] is a table with one row per [`ActionClass`] (`read`, `signup`, `payment`, …)
//! and one column per [`Indicator`] (`tor_exit`, `vpn`, …, `overlay_deny`); each cell is a
//! [`Response`]: `allow`, `elevate_risk` (let it through, count it against the session),
//! `step_up` (challenge: CAPTCHA, second factor, 3-D Secure) or `block`, in that order of
//! severity.
//!
//! # How a decision is made
//! 1. An overlay **allow** decides: `allow`, whatever the answer says.
//! 2. The answer's categories become indicators. A `relay` (iCloud Private Relay) address is
//!    judged as a relay: the `vpn`, `proxy` and `hosting` claims that relay egress attracts
//!    (it runs on CDN networks that VPN and hosting lists lump in) are ignored for it; Tor
//!    indicators still count.
//! 3. Each indicator's cell is read in the row of the action class. An indicator whose evidence is
//!    weak (the strongest matching source that asserts it is of tier
//!    [`asn-heuristic`](crate::Tier::AsnHeuristic) or [`keyword`](crate::Tier::Keyword)) is
//!    capped at the weak-evidence cap (default `elevate_risk`), so a whole-ASN list alone
//!    never blocks a home ISP's customer.
//! 4. An overlay **deny** adds the `overlay_deny` cell.
//! 5. The most severe response wins; the decision names what caused it (the overlay entry,
//!    or the first indicator in column order with that response). None: `allow`.
//!
//! # Default table
//! | class \ indicator  | tor_exit     | vpn          | proxy        | hosting      | tor_relay | relay | overlay_deny |
//! |--------------------|--------------|--------------|--------------|--------------|-----------|-------|--------------|
//! | `read`             | elevate_risk | allow        | elevate_risk | allow        | allow     | allow | step_up      |
//! | `write`            | step_up      | elevate_risk | step_up      | elevate_risk | allow     | allow | block        |
//! | `signup`           | step_up      | step_up      | step_up      | elevate_risk | allow     | allow | block        |
//! | `login`            | step_up      | elevate_risk | step_up      | elevate_risk | allow     | allow | block        |
//! | `account_recovery` | step_up      | step_up      | step_up      | elevate_risk | allow     | allow | block        |
//! | `payment`          | block        | step_up      | step_up      | elevate_risk | allow     | allow | block        |
//! | `custom0`–`custom7`| (as `payment`)                                                                          |
//!
//! Its promises, checked by tests: `read` is never blocked (even an overlay deny only steps
//! up; change that cell if you mean it); a `relay` address is never blocked unless it is also
//! a Tor exit or the overlay denies it; a `tor_relay`-only address (a relay without the exit role) is not anonymous
//! and is allowed everywhere; only a Tor exit on `payment` and an overlay deny outside `read`
//! block.
//!
//! # Configuring
//! In code: [`Policy::with`] / [`Policy::set`] change one cell,
//! [`Policy::with_weak_evidence_cap`] the cap. From a file: [`Policy::parse`] or
//! [`Policy::load`] apply lines to the default table, in order, later lines winning:
//!
//! ```text
//! # CLASS   INDICATOR   RESPONSE
//! payment   vpn         block
//! *         hosting     allow          # every class
//! custom0   *           step_up        # every indicator
//! weak_evidence_cap     step_up        # or "none" to switch the cap off
//! ```
//!
//! Deciding never allocates and never panics.

use std::fmt;
use std::io::BufRead;
use std::path::Path;

use crate::local_file::{for_each_line, ConfigError};
use crate::overlay::OverlayMatch;
use crate::{Answer, Categories};

/// Number of custom action classes (`custom0` … `custom7`).
pub const CUSTOM_CLASSES: u8 = 8;
const BUILTIN: usize = 6;
const CLASSES: usize = BUILTIN + CUSTOM_CLASSES as usize;
const INDICATORS: usize = 7;

const CLASS_NAMES: [&str; CLASSES] = [
    "read",
    "write",
    "signup",
    "login",
    "account_recovery",
    "payment",
    "custom0",
    "custom1",
    "custom2",
    "custom3",
    "custom4",
    "custom5",
    "custom6",
    "custom7",
];

/// What a request is trying to do: a row of the [`Policy`] table.
///
/// Six built-in classes with stable names, plus [`CUSTOM_CLASSES`] custom ones (`custom0` …)
/// for actions of your own, which start as a copy of the `payment` row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ActionClass(u8);

impl ActionClass {
    /// Reading public content (pages, search, API reads).
    pub const READ: ActionClass = ActionClass(0);
    /// Posting content: comments, messages, reviews, uploads.
    pub const WRITE: ActionClass = ActionClass(1);
    /// Creating an account.
    pub const SIGNUP: ActionClass = ActionClass(2);
    /// Signing in.
    pub const LOGIN: ActionClass = ActionClass(3);
    /// Password reset, email or second-factor change.
    pub const ACCOUNT_RECOVERY: ActionClass = ActionClass(4);
    /// Paying, adding a card, redeeming value.
    pub const PAYMENT: ActionClass = ActionClass(5);

    /// Every class, built-ins first, in table order.
    pub const ALL: [ActionClass; CLASSES] = {
        let mut all = [ActionClass(0); CLASSES];
        let mut i = 0;
        while i < CLASSES {
            all[i] = ActionClass(i as u8);
            i += 1;
        }
        all
    };

    /// Custom class `n` (`custom{n}`), for `n` below [`CUSTOM_CLASSES`]; `None` otherwise.
    pub const fn custom(n: u8) -> Option<ActionClass> {
        if n < CUSTOM_CLASSES {
            Some(ActionClass(BUILTIN as u8 + n))
        } else {
            None
        }
    }

    /// The stable name (`read`, `write`, `signup`, `login`, `account_recovery`, `payment`,
    /// `custom0` … `custom7`).
    pub const fn as_str(self) -> &'static str {
        CLASS_NAMES[self.0 as usize]
    }

    /// Parses a stable name.
    pub fn from_name(name: &str) -> Option<ActionClass> {
        CLASS_NAMES
            .iter()
            .position(|&n| n == name)
            .map(|i| ActionClass(i as u8))
    }

    /// True for the custom classes.
    pub const fn is_custom(self) -> bool {
        self.0 as usize >= BUILTIN
    }
}

impl fmt::Display for ActionClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the answer (or the overlay) says about an address: a column of the [`Policy`] table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Indicator {
    /// A Tor exit (category `tor_exit`).
    TorExit,
    /// A VPN endpoint (category `vpn`).
    Vpn,
    /// A public proxy (category `proxy`).
    Proxy,
    /// Hosting or datacenter space (category `hosting`).
    Hosting,
    /// A Tor relay's OR address (category `tor_relay`): not anonymous traffic by itself.
    TorRelay,
    /// A privacy relay such as iCloud Private Relay (category `relay`).
    Relay,
    /// The overlay denies the address.
    OverlayDeny,
}

impl Indicator {
    /// Every indicator, in column order.
    pub const ALL: [Indicator; INDICATORS] = [
        Indicator::TorExit,
        Indicator::Vpn,
        Indicator::Proxy,
        Indicator::Hosting,
        Indicator::TorRelay,
        Indicator::Relay,
        Indicator::OverlayDeny,
    ];

    /// The stable name: the category's name, or `overlay_deny`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Indicator::TorExit => "tor_exit",
            Indicator::Vpn => "vpn",
            Indicator::Proxy => "proxy",
            Indicator::Hosting => "hosting",
            Indicator::TorRelay => "tor_relay",
            Indicator::Relay => "relay",
            Indicator::OverlayDeny => "overlay_deny",
        }
    }

    /// Parses a stable name.
    pub fn from_name(name: &str) -> Option<Indicator> {
        Indicator::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// The category behind the indicator; `None` for [`Indicator::OverlayDeny`].
    pub const fn category(self) -> Option<Categories> {
        match self {
            Indicator::TorExit => Some(Categories::TOR_EXIT),
            Indicator::Vpn => Some(Categories::VPN),
            Indicator::Proxy => Some(Categories::PROXY),
            Indicator::Hosting => Some(Categories::HOSTING),
            Indicator::TorRelay => Some(Categories::TOR_RELAY),
            Indicator::Relay => Some(Categories::RELAY),
            Indicator::OverlayDeny => None,
        }
    }
}

impl fmt::Display for Indicator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What to do with the request, least severe first (the `Ord` is severity).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Response {
    /// Let it through.
    #[default]
    Allow,
    /// Let it through but raise the session's risk (log it, lower limits, review later).
    ElevateRisk,
    /// Challenge first: CAPTCHA, second factor, 3-D Secure, email confirmation.
    StepUp,
    /// Refuse.
    Block,
}

impl Response {
    /// Every response, least severe first.
    pub const ALL: [Response; 4] = [
        Response::Allow,
        Response::ElevateRisk,
        Response::StepUp,
        Response::Block,
    ];

    /// The stable name: `allow`, `elevate_risk`, `step_up`, `block`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Response::Allow => "allow",
            Response::ElevateRisk => "elevate_risk",
            Response::StepUp => "step_up",
            Response::Block => "block",
        }
    }

    /// Parses a stable name.
    pub fn from_name(name: &str) -> Option<Response> {
        Response::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

impl fmt::Display for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a [`PolicyDecision`] came out as it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason<'o> {
    /// An overlay entry decided: an allow entry, or a deny entry whose `overlay_deny` cell
    /// was the most severe.
    Overlay(OverlayMatch<'o>),
    /// This indicator's cell was the most severe (the first in column order among equals).
    Indicator(Indicator),
    /// This indicator's cell was the most severe after being capped: its evidence is weak
    /// (ASN-wide or keyword sources only).
    WeakEvidence(Indicator),
    /// Nothing is known against the address.
    Clean,
}

impl fmt::Display for Reason<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Overlay(m) => write!(f, "overlay {m}"),
            Reason::Indicator(s) => write!(f, "{s}"),
            Reason::WeakEvidence(s) => write!(f, "{s} (weak evidence, capped)"),
            Reason::Clean => f.write_str("clean"),
        }
    }
}

/// The policy's answer for one request: the response and its reason.
///
/// `Display` writes `block: tor_exit` or `allow: overlay allow 203.0.113.0/24 (…): reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyDecision<'o> {
    /// What to do.
    pub response: Response,
    /// Why.
    pub reason: Reason<'o>,
}

impl PolicyDecision<'_> {
    /// True when the overlay decided.
    pub fn by_overlay(&self) -> bool {
        matches!(self.reason, Reason::Overlay(_))
    }
}

impl fmt::Display for PolicyDecision<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.response, self.reason)
    }
}

/// A table from (action class, indicator) to response; see the [module docs](self) for the
/// rules and the default.
///
/// ```
/// use ipsieve::{ActionClass, Categories, Policy, Response, Indicator};
///
/// let policy = Policy::default().with(ActionClass::LOGIN, Indicator::Vpn, Response::StepUp);
/// let d = policy.decide_categories(ActionClass::LOGIN, Categories::VPN, None);
/// assert_eq!(d.response, Response::StepUp);
/// assert_eq!(d.to_string(), "step_up: vpn");
/// // iCloud Private Relay on CDN hosting space: judged as a relay.
/// let relay = Categories::RELAY | Categories::HOSTING;
/// assert_eq!(policy.decide_categories(ActionClass::PAYMENT, relay, None).response, Response::Allow);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    cells: [[Response; INDICATORS]; CLASSES],
    weak_cap: Option<Response>,
}

impl Default for Policy {
    /// The documented default table, with the weak-evidence cap at `elevate_risk`.
    fn default() -> Self {
        use Response::{Allow as A, Block as B, ElevateRisk as E, StepUp as S};
        // Columns: tor_exit, vpn, proxy, hosting, tor_relay, relay, overlay_deny.
        const PAYMENT: [Response; INDICATORS] = [B, S, S, E, A, A, B];
        let mut cells = [PAYMENT; CLASSES];
        cells[ActionClass::READ.0 as usize] = [E, A, E, A, A, A, S];
        cells[ActionClass::WRITE.0 as usize] = [S, E, S, E, A, A, B];
        cells[ActionClass::SIGNUP.0 as usize] = [S, S, S, E, A, A, B];
        cells[ActionClass::LOGIN.0 as usize] = [S, E, S, E, A, A, B];
        cells[ActionClass::ACCOUNT_RECOVERY.0 as usize] = [S, S, S, E, A, A, B];
        Policy {
            cells,
            weak_cap: Some(Response::ElevateRisk),
        }
    }
}

impl Policy {
    /// The response of one cell.
    pub fn cell(&self, class: ActionClass, signal: Indicator) -> Response {
        self.cells[class.0 as usize][signal as usize]
    }

    /// Sets one cell.
    pub fn set(&mut self, class: ActionClass, signal: Indicator, response: Response) -> &mut Self {
        self.cells[class.0 as usize][signal as usize] = response;
        self
    }

    /// The policy with one cell changed.
    #[must_use]
    pub fn with(mut self, class: ActionClass, signal: Indicator, response: Response) -> Self {
        self.set(class, signal, response);
        self
    }

    /// The most severe response an indicator backed only by weak evidence (tiers `asn-heuristic`
    /// and `keyword`) can cause; `None` switches the cap off.
    pub fn weak_evidence_cap(&self) -> Option<Response> {
        self.weak_cap
    }

    /// The policy with another weak-evidence cap (`None`: no cap).
    #[must_use]
    pub fn with_weak_evidence_cap(mut self, cap: Option<Response>) -> Self {
        self.weak_cap = cap;
        self
    }

    /// Decides about a request of `class` from `answer` and the overlay's verdict on it
    /// (`overlay.check(&answer)`), reading the evidence tier of each category from the
    /// answer's sources. Never allocates, never panics.
    pub fn decide<'o>(
        &self,
        class: ActionClass,
        answer: &Answer<'_>,
        overlay: Option<OverlayMatch<'o>>,
    ) -> PolicyDecision<'o> {
        let (categories, weak) = (answer.categories(), answer.weak_categories());
        self.decide_inner(class, categories, weak, overlay)
    }

    /// Decides from categories alone (no evidence tiers, so no weak-evidence cap): for
    /// callers without an artifact, and to inspect the table. Never allocates, never panics.
    pub fn decide_categories<'o>(
        &self,
        class: ActionClass,
        categories: Categories,
        overlay: Option<OverlayMatch<'o>>,
    ) -> PolicyDecision<'o> {
        self.decide_inner(class, categories, Categories::empty(), overlay)
    }

    fn decide_inner<'o>(
        &self,
        class: ActionClass,
        categories: Categories,
        weak: Categories,
        overlay: Option<OverlayMatch<'o>>,
    ) -> PolicyDecision<'o> {
        if let Some(m) = overlay.filter(|m| m.is_allow()) {
            return PolicyDecision {
                response: Response::Allow,
                reason: Reason::Overlay(m),
            };
        }
        let row = &self.cells[class.0 as usize];
        let mut categories = categories;
        if categories.contains(Categories::RELAY) {
            let mislabels = Categories::VPN | Categories::PROXY | Categories::HOSTING;
            categories = Categories::from_bits(categories.bits() & !mislabels.bits());
        }
        let mut best = PolicyDecision {
            response: Response::Allow,
            reason: Reason::Clean,
        };
        let mut first = true;
        for signal in Indicator::ALL {
            let Some(c) = signal.category() else { continue };
            if !categories.contains(c) {
                continue;
            }
            let mut response = row[signal as usize];
            let mut reason = Reason::Indicator(signal);
            if let Some(cap) = self.weak_cap.filter(|_| weak.contains(c)) {
                if response > cap {
                    response = cap;
                    reason = Reason::WeakEvidence(signal);
                }
            }
            if first || response > best.response {
                best = PolicyDecision { response, reason };
                first = false;
            }
        }
        if let Some(m) = overlay.filter(|m| m.is_deny()) {
            let response = row[Indicator::OverlayDeny as usize];
            if response >= best.response {
                best = PolicyDecision {
                    response,
                    reason: Reason::Overlay(m),
                };
            }
        }
        best
    }

    /// Reads a policy file (see the [module docs](self#configuring)), applied to the default
    /// table. Only a regular file is read, checked before opening, as for
    /// [`Overlay::load`](crate::Overlay::load).
    ///
    /// # Errors
    /// [`ConfigError`] naming the path and, for a bad line, the line number; without a line
    /// for a path that is not a regular file or a file over 64 MiB. Never panics.
    pub fn load(path: impl AsRef<Path>) -> Result<Policy, ConfigError> {
        let (name, reader) = crate::local_file::open(path.as_ref())?;
        Policy::parse(&name, reader)
    }

    /// Parses policy lines from `reader` and applies them to the default table, in order.
    ///
    /// # Errors
    /// [`ConfigError`] at the first bad line. Never panics.
    pub fn parse(source_name: &str, reader: impl BufRead) -> Result<Policy, ConfigError> {
        let mut policy = Policy::default();
        for_each_line(source_name, reader, |number, line| {
            policy
                .apply_line(line)
                .map_err(|reason| ConfigError::at_line(source_name, number, reason, line))
        })?;
        Ok(policy)
    }

    fn apply_line(&mut self, line: &str) -> Result<(), String> {
        let code = line.split_once('#').map_or(line, |(code, _)| code);
        let words: Vec<&str> = code.split_whitespace().collect();
        if let ["weak_evidence_cap", cap] = words[..] {
            self.weak_cap = match cap {
                "none" => None,
                _ => Some(Response::from_name(cap).ok_or_else(|| unknown_response(cap))?),
            };
            return Ok(());
        }
        let [class, signal, response] = words[..] else {
            return Err(format!(
                "expected CLASS INDICATOR RESPONSE or weak_evidence_cap RESPONSE, found {} words",
                words.len()
            ));
        };
        let classes: &[ActionClass] = if class == "*" {
            &ActionClass::ALL
        } else {
            &[ActionClass::from_name(class).ok_or_else(|| {
                format!(
                    "unknown action class {:?}: expected * or one of {}",
                    short(class),
                    CLASS_NAMES.join(", ")
                )
            })?]
        };
        let signals: &[Indicator] = if signal == "*" {
            &Indicator::ALL
        } else {
            &[Indicator::from_name(signal).ok_or_else(|| {
                let names: Vec<&str> = Indicator::ALL.iter().map(|s| s.as_str()).collect();
                format!(
                    "unknown indicator {:?}: expected * or one of {}",
                    short(signal),
                    names.join(", ")
                )
            })?]
        };
        let response = Response::from_name(response).ok_or_else(|| unknown_response(response))?;
        for &c in classes {
            for &s in signals {
                self.set(c, s, response);
            }
        }
        Ok(())
    }
}

fn unknown_response(name: &str) -> String {
    format!(
        "unknown response {:?}: expected allow, elevate_risk, step_up or block",
        short(name)
    )
}

/// At most the first 40 characters of `s`, for quoting inside a reason.
fn short(s: &str) -> &str {
    s.char_indices().nth(40).map_or(s, |(cut, _)| &s[..cut])
}

/// The whole table in the file format (one line per cell, then the cap), which
/// [`Policy::parse`] reads back to an equal policy.
impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for class in ActionClass::ALL {
            for signal in Indicator::ALL {
                writeln!(
                    f,
                    "{:<17} {:<13} {}",
                    class.as_str(),
                    signal.as_str(),
                    self.cell(class, signal)
                )?;
            }
        }
        writeln!(
            f,
            "weak_evidence_cap {}",
            self.weak_cap.map_or("none", Response::as_str)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::overlay::Overlay;

    fn all_category_sets() -> impl Iterator<Item = Categories> {
        (0..=Categories::KNOWN_BITS).map(Categories::from_bits)
    }

    #[test]
    fn default_table_matches_the_docs() {
        // Every row of the module docs' table, read from this file, against the code: the
        // header names the indicators in `Indicator::ALL` order, each built-in class has its
        // row, and the custom classes answer as the row they are documented to copy.
        let p = Policy::default();
        let row = |c: ActionClass| -> Vec<&str> {
            Indicator::ALL
                .iter()
                .map(|&s| p.cell(c, s).as_str())
                .collect()
        };
        let lines: Vec<Vec<&str>> = include_str!("policy.rs")
            .lines()
            .take_while(|l| l.starts_with("//!"))
            .filter_map(|l| l.strip_prefix("//! |"))
            .map(|l| l.trim_end_matches('|').split('|').map(str::trim).collect())
            .collect();
        let header = &lines[0];
        assert_eq!(header[0], "class \\ indicator");
        let names: Vec<&str> = Indicator::ALL.iter().map(|i| i.as_str()).collect();
        assert_eq!(header[1..], names[..]);
        let mut seen = Vec::new();
        for cells in &lines[2..] {
            let name = cells[0].trim_matches('`');
            if let Some(copied) = cells[1].strip_prefix("(as `") {
                let copied = ActionClass::from_name(copied.trim_end_matches("`)")).unwrap();
                assert_eq!(name, "custom0`–`custom7");
                for n in 0..CUSTOM_CLASSES {
                    assert_eq!(
                        row(ActionClass::custom(n).unwrap()),
                        row(copied),
                        "custom{n}"
                    );
                }
                continue;
            }
            let class = ActionClass::from_name(name).unwrap_or_else(|| panic!("row {name}"));
            assert_eq!(row(class), cells[1..], "row {name}");
            seen.push(class);
        }
        let builtins: Vec<ActionClass> = ActionClass::ALL
            .iter()
            .copied()
            .filter(|c| !c.is_custom())
            .collect();
        assert_eq!(
            seen, builtins,
            "one documented row per built-in class, in order"
        );
        assert_eq!(p.weak_evidence_cap(), Some(Response::ElevateRisk));
    }

    #[test]
    fn default_promises_hold_for_every_category_set() {
        let p = Policy::default();
        let deny = Overlay::parse("o", "deny 192.0.2.0/24 abuse\n".as_bytes()).unwrap();
        let m = deny.check_ip("192.0.2.1".parse().unwrap(), None);
        assert!(m.is_some());
        for cats in all_category_sets() {
            for overlay in [None, m] {
                let read = p.decide_categories(ActionClass::READ, cats, overlay);
                assert!(read.response < Response::Block, "read blocked for {cats}");
            }
            for class in ActionClass::ALL {
                let d = p.decide_categories(class, cats, None);
                if cats.contains(Categories::RELAY) && !cats.contains(Categories::TOR_EXIT) {
                    assert!(
                        d.response < Response::Block,
                        "{class} blocks relay in {cats}"
                    );
                }
                if d.response == Response::Block {
                    assert!(
                        class == ActionClass::PAYMENT || class.is_custom(),
                        "{class}"
                    );
                    assert_eq!(
                        d.reason,
                        Reason::Indicator(Indicator::TorExit),
                        "{class} {cats}"
                    );
                }
            }
        }
        for class in ActionClass::ALL {
            let d = p.decide_categories(class, Categories::TOR_RELAY, None);
            assert_eq!(
                d,
                PolicyDecision {
                    response: Response::Allow,
                    reason: Reason::Indicator(Indicator::TorRelay)
                }
            );
            let d = p.decide_categories(class, Categories::empty(), None);
            assert_eq!(
                d,
                PolicyDecision {
                    response: Response::Allow,
                    reason: Reason::Clean
                }
            );
        }
        let tor_pay = p.decide_categories(ActionClass::PAYMENT, Categories::TOR_EXIT, None);
        assert_eq!(tor_pay.to_string(), "block: tor_exit");
    }

    #[test]
    fn overlay_allow_beats_everything_and_deny_adds_its_cell() {
        let o = Overlay::parse(
            "o.txt",
            "allow 192.0.2.7 our probe\ndeny 192.0.2.0/24 abuse\n".as_bytes(),
        )
        .unwrap();
        let allow = o.check_ip("192.0.2.7".parse().unwrap(), None);
        let deny = o.check_ip("192.0.2.8".parse().unwrap(), None);
        let p = Policy::default().with(ActionClass::READ, Indicator::TorExit, Response::Block);
        let everything = Categories::from_bits(Categories::KNOWN_BITS);
        for class in ActionClass::ALL {
            let d = p.decide_categories(class, everything, allow);
            assert_eq!(d.response, Response::Allow);
            assert!(d.by_overlay());
        }
        let d = p.decide_categories(ActionClass::LOGIN, Categories::empty(), deny);
        assert_eq!(d.response, Response::Block);
        assert_eq!(
            d.to_string(),
            "block: overlay deny 192.0.2.0/24 (o.txt line 2): abuse"
        );
        // An indicator more severe than the deny cell still decides.
        let d = p.decide_categories(ActionClass::READ, Categories::TOR_EXIT, deny);
        assert_eq!(d.response, Response::Block);
        assert_eq!(d.reason, Reason::Indicator(Indicator::TorExit));
        let d = Policy::default().decide_categories(ActionClass::READ, Categories::TOR_EXIT, deny);
        assert_eq!(d.response, Response::StepUp);
        assert!(d.by_overlay());
    }

    #[test]
    fn weak_evidence_is_capped() {
        let p = Policy::default().with(ActionClass::SIGNUP, Indicator::Hosting, Response::Block);
        let d = p.decide_inner(
            ActionClass::SIGNUP,
            Categories::HOSTING,
            Categories::HOSTING,
            None,
        );
        assert_eq!(d.response, Response::ElevateRisk);
        assert_eq!(d.reason, Reason::WeakEvidence(Indicator::Hosting));
        assert_eq!(
            d.to_string(),
            "elevate_risk: hosting (weak evidence, capped)"
        );
        // A strong indicator next to the weak one decides.
        let cats = Categories::HOSTING | Categories::VPN;
        let d = p.decide_inner(ActionClass::SIGNUP, cats, Categories::HOSTING, None);
        assert_eq!(
            (d.response, d.reason),
            (Response::StepUp, Reason::Indicator(Indicator::Vpn))
        );
        // Cap off: the cell applies.
        let p = p.with_weak_evidence_cap(None);
        let d = p.decide_inner(
            ActionClass::SIGNUP,
            Categories::HOSTING,
            Categories::HOSTING,
            None,
        );
        assert_eq!(d.response, Response::Block);
        // A cap above the cell changes nothing.
        let p = Policy::default().with_weak_evidence_cap(Some(Response::Block));
        let d = p.decide_inner(
            ActionClass::PAYMENT,
            Categories::TOR_EXIT,
            Categories::TOR_EXIT,
            None,
        );
        assert_eq!(d.reason, Reason::Indicator(Indicator::TorExit));
    }

    #[test]
    fn names_round_trip() {
        for c in ActionClass::ALL {
            assert_eq!(ActionClass::from_name(c.as_str()), Some(c));
        }
        assert_eq!(ActionClass::custom(7).map(|c| c.as_str()), Some("custom7"));
        assert_eq!(ActionClass::custom(CUSTOM_CLASSES), None);
        assert!(ActionClass::custom(0).unwrap().is_custom() && !ActionClass::PAYMENT.is_custom());
        for s in Indicator::ALL {
            assert_eq!(Indicator::from_name(s.as_str()), Some(s));
        }
        for r in Response::ALL {
            assert_eq!(Response::from_name(r.as_str()), Some(r));
        }
        for (c, name) in Categories::NAMED {
            let s = Indicator::from_name(name).unwrap();
            assert_eq!(s.category(), Some(c));
        }
        assert!(Response::Allow < Response::ElevateRisk && Response::StepUp < Response::Block);
    }

    #[test]
    fn parse_applies_lines_in_order_and_round_trips() {
        let text = "# site policy\n\
                    * hosting allow\n\
                    payment vpn block   # chargebacks\n\
                    custom0 * step_up\n\
                    custom0 relay allow\n\
                    weak_evidence_cap none\n";
        let p = Policy::parse("p.txt", text.as_bytes()).unwrap();
        let want = ActionClass::ALL
            .iter()
            .fold(Policy::default(), |p, &c| {
                p.with(c, Indicator::Hosting, Response::Allow)
            })
            .with(ActionClass::PAYMENT, Indicator::Vpn, Response::Block);
        let c0 = ActionClass::custom(0).unwrap();
        let want = Indicator::ALL
            .iter()
            .fold(want, |p, &s| p.with(c0, s, Response::StepUp))
            .with(c0, Indicator::Relay, Response::Allow)
            .with_weak_evidence_cap(None);
        assert_eq!(p, want);
        let again = Policy::parse("again", p.to_string().as_bytes()).unwrap();
        assert_eq!(again, p);
        let default_again = Policy::parse("d", Policy::default().to_string().as_bytes()).unwrap();
        assert_eq!(default_again, Policy::default());
    }

    #[test]
    fn bad_policy_lines_name_the_line() {
        let cases: &[(&str, &str)] = &[
            ("payment vpn", "found 2 words"),
            ("payment vpn block extra", "found 4 words"),
            ("checkout vpn block", "unknown action class \"checkout\""),
            ("payment wifi block", "unknown indicator \"wifi\""),
            ("payment vpn deny", "unknown response \"deny\""),
            ("weak_evidence_cap maybe", "unknown response \"maybe\""),
            ("custom8 vpn block", "unknown action class"),
        ];
        for (line, want) in cases {
            let e = Policy::parse("p.txt", format!("read vpn allow\n\n{line}\n").as_bytes())
                .unwrap_err();
            assert_eq!(e.line(), Some(3), "{line}");
            assert!(e.reason().contains(want), "{line}: {e}");
            assert!(e.to_string().starts_with("p.txt: line 3: "));
        }
        assert!(Policy::load("/nonexistent/policy.txt")
            .unwrap_err()
            .line()
            .is_none());
    }
}
