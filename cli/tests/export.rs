//! `ipsieve export` through the command line: the MMDB file is deterministic and equal to the
//! library's; the CSV has one row per range, equal to the artifact at both ends of each row; the
//! nft and ipset scripts, read by small interpreters of their commands, hold exactly each
//! category's addresses, their set names fit ipset's 31 bytes, and they load with the real
//! `ipset restore` and `nft -f` in a throwaway network namespace. The exports themselves are
//! tested in `builder/tests/export.rs`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use ipnet::IpNet;
use ipsieve::{Categories, Database};
use ipsieve_builder::export::firewall::SetName;
use ipsieve_builder::export::mmdb::{self};
use ipsieve_builder::walk::{runs, Family};
use ipsieve_testkit::mmdb::Exported;

use crate::cli::{bin, built};

#[test]
fn mmdb_export_is_deterministic_and_written_by_the_command_line() {
    let db_path = built();
    let dir = db_path.parent().unwrap();
    let (a, b) = (dir.join("a.mmdb"), dir.join("b.mmdb"));
    for out in [&a, &b] {
        let o = bin()
            .args(["export", "--format", "mmdb", "--db"])
            .arg(&db_path)
            .arg("--out")
            .arg(out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(String::from_utf8_lossy(&o.stderr).contains("data records"));
    }
    let (a, b) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert_eq!(a, b, "two exports of one artifact differ");
    let db = Database::open(&db_path).unwrap();
    assert_eq!(a, mmdb::from_database(&db).to_bytes().unwrap().0);
    let reader = maxminddb::Reader::from_source(a.as_slice()).unwrap();
    reader.verify().unwrap();
    let tor = runs(&db, Family::V4).find(|r| r.answer.is_tor()).unwrap();
    let ip = Family::V4.addr(tor.first);
    let got: Exported = reader.lookup(ip).unwrap().decode().unwrap().unwrap();
    assert!(got.is_tor_exit_node && got.is_anonymous, "{ip}: {got:?}");
    // The exit list's snapshot day (data/snapshot/sources.toml).
    assert_eq!(got.network_last_seen.as_deref(), Some("2024-03-12"), "{ip}");

    // A binary format is not written to standard output.
    let o = bin()
        .args(["export", "--format", "mmdb", "--out", "-", "--db"])
        .arg(&db_path)
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(o.stdout.is_empty());
    assert!(String::from_utf8_lossy(&o.stderr).contains("give --out a path"));
}

/// Inclusive ranges of a sorted list of CIDR blocks, joined where they touch.
fn joined(blocks: impl IntoIterator<Item = (u128, u128)>) -> Vec<(u128, u128)> {
    let mut out: Vec<(u128, u128)> = Vec::new();
    for (f, l) in blocks {
        match out.last_mut() {
            Some(p) if p.1 < u128::MAX && p.1 + 1 == f => p.1 = l,
            _ => out.push((f, l)),
        }
    }
    out
}

fn int(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

fn net_bounds(n: &IpNet) -> (u128, u128) {
    match n {
        IpNet::V4(n) => (
            u128::from(u32::from(n.network())),
            u128::from(u32::from(n.broadcast())),
        ),
        IpNet::V6(n) => (u128::from(n.network()), u128::from(n.broadcast())),
    }
}

/// Every category's addresses straight from the artifact: joined runs whose answer has it.
fn category_ranges(db: &Database, cat: Categories, family: Family) -> Vec<(u128, u128)> {
    joined(
        runs(db, family)
            .filter(|r| r.answer.categories().contains(cat))
            .map(|r| (r.first, r.last)),
    )
}

/// Runs `ipsieve export` to standard output.
fn export_text(db: &std::path::Path, args: &[&str]) -> String {
    let o = bin()
        .arg("export")
        .arg("--db")
        .arg(db)
        .args(["--out", "-"])
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

/// The sets an nftables script leaves in its table, by a small interpreter of the commands
/// the export uses: `define`, `table … { set … { type …; flags interval } }`, `flush set`,
/// `add element … $var`.
fn run_nft(script: &str, table: &str) -> BTreeMap<String, (String, Vec<IpNet>)> {
    let mut defines: HashMap<String, Vec<IpNet>> = HashMap::new();
    let mut sets: BTreeMap<String, (String, Vec<IpNet>)> = BTreeMap::new();
    let mut lines = script.lines().filter(|l| !l.trim_start().starts_with('#'));
    let mut in_table = false;
    let mut set: Option<(String, Option<String>, bool)> = None;
    while let Some(line) = lines.next() {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("define ") {
            let (name, open) = rest.split_once(" = ").unwrap();
            assert_eq!(open, "{", "{line}");
            let mut elems = Vec::new();
            for l in lines.by_ref() {
                let l = l.trim();
                if l == "}" {
                    break;
                }
                elems.push(l.trim_end_matches(',').parse::<IpNet>().unwrap());
            }
            defines.insert(name.to_owned(), elems);
        } else if t == format!("table inet {table} {{") {
            in_table = true;
        } else if in_table && t.starts_with("set ") {
            let name = t.strip_prefix("set ").unwrap().strip_suffix(" {").unwrap();
            set = Some((name.to_owned(), None, false));
        } else if let (Some(s), Some(ty)) = (set.as_mut(), t.strip_prefix("type ")) {
            s.1 = Some(ty.to_owned());
        } else if let (Some(s), "flags interval") = (set.as_mut(), t) {
            s.2 = true;
        } else if t == "}" && set.is_some() {
            let (name, ty, interval) = set.take().unwrap();
            assert!(interval, "set {name} lacks flags interval");
            sets.insert(name, (ty.unwrap(), Vec::new()));
        } else if t == "}" && in_table {
            in_table = false;
        } else if let Some(name) = t.strip_prefix(&format!("flush set inet {table} ")) {
            sets.get_mut(name).unwrap().1.clear();
        } else if let Some(rest) = t.strip_prefix(&format!("add element inet {table} ")) {
            let (name, var) = rest.split_once(" $").unwrap();
            let elems = defines[var].clone();
            sets.get_mut(name).unwrap().1.extend(elems);
        } else {
            panic!("unexpected nft line: {line}");
        }
    }
    sets
}

/// The sets an `ipset restore` script leaves, by a small interpreter of its commands.
fn run_ipset(script: &str) -> BTreeMap<String, (String, Vec<IpNet>)> {
    let mut sets: BTreeMap<String, (String, Vec<IpNet>)> = BTreeMap::new();
    for line in script.lines().filter(|l| !l.starts_with('#')) {
        let words: Vec<&str> = line.split(' ').collect();
        match words[..] {
            ["create", name, "hash:net", "family", fam, "maxelem", max] => {
                let max: usize = max.parse().unwrap();
                let e = sets
                    .entry(name.to_owned())
                    .or_insert_with(|| (fam.to_owned(), Vec::new()));
                assert_eq!(e.0, fam);
                assert!(max >= 65_536);
            }
            ["flush", name] => sets.get_mut(name).unwrap().1.clear(),
            ["add", name, net] => {
                let net: IpNet = net.parse().unwrap();
                assert!(net.prefix_len() > 0, "hash:net refuses /0");
                sets.get_mut(name).unwrap().1.push(net);
            }
            ["swap", a, b] => {
                let x = sets[a].1.clone();
                let y = std::mem::replace(&mut sets.get_mut(b).unwrap().1, x);
                sets.get_mut(a).unwrap().1 = y;
            }
            ["destroy", name] => {
                sets.remove(name).unwrap();
            }
            _ => panic!("unexpected ipset line: {line}"),
        }
    }
    sets
}

#[test]
fn nft_and_ipset_scripts_leave_exactly_each_category_in_its_sets() {
    let db_path = built();
    let db = Database::open(&db_path).unwrap();
    let nft = run_nft(&export_text(&db_path, &["--format", "nft"]), "ipsieve");
    let ipset = run_ipset(&export_text(&db_path, &["--format", "ipset"]));
    assert_eq!(nft.len(), Categories::NAMED.len() * 2);
    assert_eq!(ipset.len(), Categories::NAMED.len() * 2);
    for (cat, name) in Categories::NAMED {
        for family in Family::BOTH {
            let suffix = if family == Family::V4 { "v4" } else { "v6" };
            let want = category_ranges(&db, cat, family);
            let (ty, nets) = &nft[&format!("{name}_{suffix}")];
            assert_eq!(
                ty,
                if family == Family::V4 {
                    "ipv4_addr"
                } else {
                    "ipv6_addr"
                }
            );
            assert_eq!(joined(nets.iter().map(net_bounds)), want, "nft {name}");
            let (fam, nets) = &ipset[&format!("ipsieve_{name}_{suffix}")];
            assert_eq!(
                fam,
                if family == Family::V4 {
                    "inet"
                } else {
                    "inet6"
                }
            );
            assert_eq!(joined(nets.iter().map(net_bounds)), want, "ipset {name}");
        }
    }

    // Chosen categories and names only; bad ones are refused.
    let some = run_nft(
        &export_text(
            &db_path,
            &[
                "--format",
                "nft",
                "--category",
                "tor_exit",
                "--name",
                "edge",
            ],
        ),
        "edge",
    );
    assert_eq!(
        some.keys().collect::<Vec<_>>(),
        ["tor_exit_v4", "tor_exit_v6"]
    );
    for args in [["--category", "tor"], ["--name", "bad-name"]] {
        let o = bin()
            .args(["export", "--format", "ipset", "--out", "-", "--db"])
            .arg(&db_path)
            .args(args)
            .output()
            .unwrap();
        assert!(!o.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(args[1]), "{args:?}: {err}");
    }
}

/// Every set name an `ipset restore` script names (`create`, `flush`, `add`, `swap`,
/// `destroy`).
fn ipset_set_names(script: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in script.lines().filter(|l| !l.starts_with('#')) {
        let words: Vec<&str> = line.split(' ').collect();
        names.insert(words[1].to_owned());
        if words[0] == "swap" {
            names.insert(words[2].to_owned());
        }
    }
    names
}

/// The longest `--name` the firewall exports accept (asked of `SetName::new`), spelled
/// `abcdefgh…`.
fn longest_set_name() -> String {
    (1..=64)
        .rev()
        .map(|n| ('a'..='z').cycle().take(n).collect::<String>())
        .find(|name| SetName::new(name).is_ok())
        .expect("some name is accepted")
}

/// ipset refuses set names over 31 bytes (`IPSET_MAXNAMELEN`, 32 with the NUL), and `ipset
/// restore` stops at the first such line, leaving the sets made before it. The longest name
/// the export accepts makes names of at most 31 bytes, exactly 31 for the longest (so no name
/// that fits is refused); one character more is refused before anything is written. No
/// kernel needed.
#[test]
fn ipset_names_fit_in_31_bytes_up_to_the_longest_accepted_name() {
    let db_path = built();
    let name = longest_set_name();
    let script = export_text(&db_path, &["--format", "ipset", "--name", &name]);
    let names = ipset_set_names(&script);
    assert_eq!(names.len(), Categories::NAMED.len() * 4, "{names:?}");
    let longest = names.iter().map(String::len).max().unwrap();
    assert_eq!(longest, 31, "{name}: {names:?}");

    let dir = std::env::temp_dir().join(format!("ipsieve-setname-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("sets.ipset");
    for long in [
        format!("{name}x"),
        "abcdefghijklmno".to_owned(),
        "abcdefghijklmnop".to_owned(),
    ] {
        for format in ["ipset", "nft"] {
            let o = bin()
                .args(["export", "--format", format, "--out"])
                .arg(&out)
                .arg("--db")
                .arg(&db_path)
                .args(["--name", &long])
                .output()
                .unwrap();
            assert!(!o.status.success(), "{format} {long}");
            let err = String::from_utf8_lossy(&o.stderr);
            let longest = format!("\"{long}_tor_relay_v6_new\", is {} bytes", long.len() + 17);
            assert!(
                err.contains(&format!(
                    "invalid set name \"{long}\": ipset set names are at most 31 bytes"
                )) && err.contains(&longest)
                    && err.contains(&format!("use a name of at most {} characters", name.len())),
                "{format} {long}: {err}"
            );
            assert!(!out.exists(), "{format} {long}: {} written", out.display());
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A network namespace, deleted on drop.
#[cfg(target_os = "linux")]
struct NetNs(String);

#[cfg(target_os = "linux")]
impl NetNs {
    fn add(name: &str) -> Result<NetNs, String> {
        let o = std::process::Command::new("ip")
            .args(["netns", "add", name])
            .output()
            .map_err(|e| format!("cannot run `ip netns add`: {e}"))?;
        if o.status.success() {
            Ok(NetNs(name.to_owned()))
        } else {
            Err(format!(
                "`ip netns add` failed: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            ))
        }
    }

    /// Runs `program args…` in the namespace with `stdin` (a file) as its input.
    fn run(
        &self,
        program: &str,
        args: &[&str],
        stdin: Option<&std::path::Path>,
    ) -> std::process::Output {
        let mut c = std::process::Command::new("ip");
        c.args(["netns", "exec", &self.0, program]).args(args);
        if let Some(path) = stdin {
            c.stdin(std::fs::File::open(path).unwrap());
        }
        c.output().unwrap()
    }
}

#[cfg(target_os = "linux")]
impl Drop for NetNs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("ip")
            .args(["netns", "del", &self.0])
            .status();
    }
}

/// Says why the namespace test did not run; with `IPSIEVE_REQUIRE_PRIVILEGED=1` (`.ci/run` as
/// root, which installs ipset and nftables) that fails it instead.
fn print_skip(test: &str, why: &str) {
    ipsieve_testkit::skip_privileged(test, why);
}

/// The export loads with the real `ipset restore`, in a throwaway network namespace, at the
/// longest accepted name; reloading it in place works; the kernel then holds exactly the
/// script's sets and elements. The nftables export of the same name loads with the real
/// `nft -f` too where `nft` is installed. Skipped, with the reason printed, where ipset is
/// not installed, a namespace cannot be made or the kernel refuses ipset sets.
#[cfg(target_os = "linux")]
#[test]
fn ipset_restore_loads_the_export_in_a_network_namespace() {
    const TEST: &str = "ipset_restore_loads_the_export_in_a_network_namespace";
    match std::process::Command::new("ipset").arg("version").output() {
        Ok(o) if o.status.success() => {}
        Ok(o) => {
            let why = String::from_utf8_lossy(&o.stderr);
            return print_skip(TEST, &format!("`ipset version` failed: {}", why.trim()));
        }
        Err(e) => {
            return print_skip(
                TEST,
                &format!("ipset is not installed ({e}); `apt-get install ipset` to run it"),
            )
        }
    }
    let ns = match NetNs::add(&format!("ipsieve-ipset-{}", std::process::id())) {
        Ok(ns) => ns,
        Err(why) => return print_skip(TEST, &why),
    };
    let probe = ns.run("ipset", &["create", "ipsieve_probe", "hash:net"], None);
    if !probe.status.success() {
        let why = String::from_utf8_lossy(&probe.stderr);
        return print_skip(
            TEST,
            &format!("the kernel refuses ipset sets: {}", why.trim()),
        );
    }
    assert!(ns
        .run("ipset", &["destroy", "ipsieve_probe"], None)
        .status
        .success());

    let db_path = built();
    let name = longest_set_name();
    let script = export_text(&db_path, &["--format", "ipset", "--name", &name]);
    let dir = std::env::temp_dir().join(format!("ipsieve-netns-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("sets.ipset");
    std::fs::write(&file, &script).unwrap();
    let want = run_ipset(&script);
    for round in ["load", "reload"] {
        let o = ns.run("ipset", &["restore", "-exist"], Some(&file));
        assert!(
            o.status.success(),
            "{round} of {name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let saved = ns.run("ipset", &["save"], None);
        assert!(saved.status.success());
        let mut got: BTreeMap<String, Vec<IpNet>> = BTreeMap::new();
        for line in String::from_utf8(saved.stdout).unwrap().lines() {
            let words: Vec<&str> = line.split(' ').collect();
            match words[..] {
                ["create", set, ..] => {
                    got.entry(set.to_owned()).or_default();
                }
                ["add", set, net, ..] => {
                    let net = net
                        .parse::<IpNet>()
                        .or_else(|_| net.parse::<IpAddr>().map(IpNet::from))
                        .unwrap();
                    got.entry(set.to_owned()).or_default().push(net);
                }
                _ => panic!("unexpected ipset save line: {line}"),
            }
        }
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>(),
            "{round}"
        );
        for (set, (_, nets)) in &want {
            let mut a = got[set].clone();
            let mut b = nets.clone();
            a.sort();
            b.sort();
            assert_eq!(a, b, "{round}: {set}");
        }
    }

    let nft = export_text(&db_path, &["--format", "nft", "--name", &name]);
    let nft_file = dir.join("sets.nft");
    std::fs::write(&nft_file, &nft).unwrap();
    match std::process::Command::new("nft").arg("--version").output() {
        Ok(o) if o.status.success() => {
            for round in ["load", "reload"] {
                let o = ns.run("nft", &["-f", nft_file.to_str().unwrap()], None);
                assert!(
                    o.status.success(),
                    "nft {round} of {name}: {}",
                    String::from_utf8_lossy(&o.stderr)
                );
            }
            let sets = ns.run("nft", &["list", "sets"], None);
            let sets = String::from_utf8_lossy(&sets.stdout);
            assert_eq!(
                sets.matches("\tset ").count(),
                Categories::NAMED.len() * 2,
                "{sets}"
            );
        }
        _ => print_skip(TEST, "(nft part only) nft is not installed"),
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn csv_export_has_one_row_per_range_equal_to_the_artifact() {
    let db_path = built();
    let db = Database::open(&db_path).unwrap();
    let text = export_text(&db_path, &["--format", "csv"]);
    let mut rd = ::csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        rd.headers().unwrap().iter().collect::<Vec<_>>(),
        ipsieve_builder::export::csv::HEADER
    );
    let mut rows = 0;
    let mut quoted = 0;
    let mut prev: Option<IpAddr> = None;
    for row in rd.records() {
        let row = row.unwrap();
        assert_eq!(row.len(), 10, "{row:?}");
        let start: IpAddr = row[0].parse().unwrap();
        let end: IpAddr = row[1].parse().unwrap();
        assert!(start <= end && start.is_ipv4() == end.is_ipv4(), "{row:?}");
        let family = if start.is_ipv4() {
            Family::V4
        } else {
            Family::V6
        };
        // In address order, IPv4 first; between two rows nothing is known.
        match prev {
            Some(p) if p.is_ipv4() == start.is_ipv4() => {
                assert!(p < start, "{p} then {row:?}");
                let after = Family::addr(family, int(p) + 1);
                if after != start {
                    assert!(db.lookup(after).is_empty(), "{after} is in no row");
                }
            }
            Some(p) => assert!(p.is_ipv4() && start.is_ipv6(), "{p} then {row:?}"),
            None => {}
        }
        prev = Some(end);
        for ip in [start, end] {
            let a = db.lookup(ip);
            assert!(!a.is_empty(), "{ip} has no answer but a row");
            let want = [
                a.categories().to_string(),
                a.verdict().to_string(),
                format!("{:.2}", a.score()),
                a.asn().map_or_else(String::new, |n| n.to_string()),
                a.as_org().unwrap_or("").to_owned(),
                a.provider().unwrap_or("").to_owned(),
                a.country().unwrap_or("").to_owned(),
                a.sources().collect::<Vec<_>>().join(","),
            ];
            assert_eq!(row.iter().skip(2).collect::<Vec<_>>(), want, "{ip}");
        }
        quoted += usize::from(row[6].contains(',') || row[9].contains(','));
        rows += 1;
    }
    let ranges: usize = Family::BOTH
        .iter()
        .map(|&f| runs(&db, f).filter(|r| !r.answer.is_empty()).count())
        .sum();
    assert_eq!(rows, ranges);
    assert!(
        quoted > 0,
        "no cell needed quoting: the test proves nothing about it"
    );
}
