//! Strategies for the JSON parsers' shape-randomising tests: valid documents whose entries are
//! of any shape, and a reference reading of a prefix to judge what the parser accepted.

use std::net::IpAddr;

use ipnet::IpNet;
use ipsieve_sources::{Located, ParseError, Position};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{Map, Value};

use crate::common::assert_names_source;

/// A network as text: IPv4 or IPv6, with its host bits cleared or (often) not, its length
/// sometimes one past the family's.
pub fn network() -> BoxedStrategy<Value> {
    let v4 = (any::<std::net::Ipv4Addr>(), 0u8..=33).prop_map(|(a, l)| (a.into(), l));
    let v6 = (any::<std::net::Ipv6Addr>(), 0u8..=129).prop_map(|(a, l)| (a.into(), l));
    (prop_oneof![v4, v6], any::<bool>())
        .prop_map(|((addr, len), trunc): ((IpAddr, u8), bool)| {
            let text = match IpNet::new(addr, len) {
                Ok(net) if trunc => net.trunc().to_string(),
                _ => format!("{addr}/{len}"),
            };
            Value::String(text)
        })
        .boxed()
}

/// Any small JSON value: what a broken or hostile publisher could put in any field, arrays
/// and objects included.
pub fn any_json() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        "[0-9a-zA-Z:./%_ -]{0,24}".prop_map(Value::String),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z_]{1,3}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
    .boxed()
}

/// A field that is usually of the expected kind, sometimes anything, sometimes absent.
pub fn field(usual: BoxedStrategy<Value>) -> BoxedStrategy<Option<Value>> {
    prop_oneof![
        6 => usual.prop_map(Some),
        1 => any_json().prop_map(Some),
        1 => Just(None),
    ]
    .boxed()
}

/// Text matching `re`, as a JSON string.
pub fn text(re: &'static str) -> BoxedStrategy<Value> {
    re.prop_map(Value::String).boxed()
}

/// An object with the fields that are present.
pub fn object(fields: &[(&str, Option<Value>)]) -> Value {
    let map: Map<String, Value> = fields
        .iter()
        .filter_map(|(k, v)| v.clone().map(|v| ((*k).to_owned(), v)))
        .collect();
    Value::Object(map)
}

/// The fields of an entry, in the order the parser's struct declares them.
pub type Fields = Vec<(&'static str, Option<Value>)>;

/// An entry: usually the object of `fields`, sometimes the same values as an array, absent
/// ones `null` (which serde would read into the struct by position: the parser must refuse
/// it), sometimes any value at all.
pub fn entry(fields: BoxedStrategy<Fields>) -> BoxedStrategy<Value> {
    let array = |fields: Fields| {
        Value::Array(
            fields
                .into_iter()
                .map(|(_, v)| v.unwrap_or(Value::Null))
                .collect(),
        )
    };
    prop_oneof![
        8 => fields.clone().prop_map(|f| object(&f)),
        1 => fields.prop_map(array),
        1 => any_json(),
    ]
    .boxed()
}

/// The network a parser must accept for `text` (the reference reading, independent of the
/// parser's): `addr/len` with a `std` address of the wanted family, a decimal length without
/// sign or leading zero that fits the family, and no host bits set.
pub fn accepted_prefix(text: &str, v6: bool) -> Option<IpNet> {
    let (addr, len) = text.split_once('/')?;
    let addr: IpAddr = addr.parse().ok()?;
    let plain = !len.is_empty()
        && len.len() <= 3
        && len.bytes().all(|b| b.is_ascii_digit())
        && (len == "0" || !len.starts_with('0'));
    let net = IpNet::new(addr, len.parse().ok().filter(|_| plain)?).ok()?;
    (net.trunc() == net && addr.is_ipv6() == v6).then_some(net)
}

/// A field that a `String` reads: a string.
pub fn is_text(v: Option<&Value>) -> bool {
    matches!(v, Some(Value::String(_)))
}

/// A field that an `Option<String>` reads: absent, `null` or a string.
pub fn is_text_or_null(v: Option<&Value>) -> bool {
    matches!(v, None | Some(Value::Null | Value::String(_)))
}

/// Checks the items a parser read from the pretty-printed document `text` (source `fuzz`): an
/// accepted prefix (`net` of the record) has no host bits and sits on a line starting with
/// `first`; an error names the source, is recoverable and points at a line of the document.
pub fn check_items<T>(
    items: Vec<Result<Located<T>, ParseError>>,
    text: &str,
    net: impl Fn(&T) -> IpNet,
    first: char,
) -> Result<(), TestCaseError> {
    let lines: Vec<&str> = text.lines().collect();
    for item in items {
        match item {
            Ok(l) => {
                prop_assert_eq!(net(&l.record), net(&l.record).trunc());
                let Position::Line(n) = l.position else {
                    panic!("{:?}", l.position)
                };
                let line = lines[n as usize - 1];
                prop_assert!(line.trim_start().starts_with(first), "line {}: {}", n, line);
            }
            Err(e) => {
                assert_names_source(&e, "fuzz");
                prop_assert!(!e.fatal, "{}", e);
                let Position::Line(n) = e.position else {
                    panic!("{e}")
                };
                prop_assert!(n >= 1 && n as usize <= lines.len(), "{}", e);
            }
        }
    }
    Ok(())
}
