#!/usr/bin/env python3
"""Regenerate the vendored real-data snapshot in data/snapshot/ from shared/data.

Every byte written is copied from the real files in shared/data (whole files, or whole rows
selected from them) - nothing is synthesised except README.md and sources.toml, which describe
the data. The output is deterministic: gzip members carry mtime 0 and no file name, selected
rows keep their original order, and nothing depends on the clock, the locale or the host.

Usage (from anywhere):
    python3 tools/make-snapshot.py                  # regenerate data/snapshot/
    python3 tools/make-snapshot.py --check          # verify data/snapshot/ is reproduced byte for byte
    python3 tools/make-snapshot.py --shared DIR     # shared/data lives elsewhere (default ../shared/data)

Standard library only (Python >= 3.8).
"""

import argparse
import bisect
import gzip
import hashlib
import io
import ipaddress
import json
import re
import socket
import struct
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SHARED = REPO.parent / "shared" / "data"
DEFAULT_OUT = REPO / "data" / "snapshot"
REGEN_COMMAND = "python3 tools/make-snapshot.py --shared ../shared/data"

# Budgets (decimal units, the conservative reading).
PFX2AS_BUDGET = 900_000  # gzipped pfx2as excerpt
TOTAL_BUDGET = 2_500_000  # whole data/snapshot
GZIP_OVER = 20 * 1024  # plain VPN lists larger than this are stored gzipped

# (b) well-known blocks kept whole in the pfx2as excerpt, in order of priority: if the excerpt
# is over budget, blocks are dropped from the END of this list first.
WELL_KNOWN_V4 = [
    ("1.0.0.0/8", "APNIC research / Cloudflare 1.1.1.1"),
    ("8.0.0.0/8", "Level 3 / Google Public DNS 8.8.8.8"),
    ("104.16.0.0/12", "Cloudflare"),
]

JOE = "vpn/joe12387-open-source-vpn-ip-lists"
JOE_RAW = "https://raw.githubusercontent.com/Joe12387/open-source-vpn-ip-lists/HEAD/{}"

# provider file stem -> display name. Order = manifest order.
VPNS = [
    ("mullvad", "Mullvad"),
    ("protonvpn", "Proton VPN"),
    ("ivpn", "IVPN"),
    ("airvpn", "AirVPN"),
    ("pia", "Private Internet Access"),
    ("windscribe", "Windscribe"),
    ("ovpn", "OVPN"),
    ("riseupvpn", "RiseupVPN"),
]


# --------------------------------------------------------------------------------------------
# helpers


def die(msg):
    print(f"make-snapshot: error: {msg}", file=sys.stderr)
    sys.exit(1)


def gz(data):
    """Deterministic gzip: level 9, mtime 0, no file name in the header."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=buf, mtime=0) as f:
        f.write(data)
    return buf.getvalue()


def gunzip(data):
    return gzip.decompress(data)


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def lines(data):
    """Rows of a text file as bytes, each WITH its line ending (exact bytes)."""
    return data.splitlines(keepends=True)


def v4int(text):
    return struct.unpack("!I", socket.inet_aton(text))[0]


def v4range(net):
    """(first, last) integers of an IPv4 network (ipaddress object)."""
    first = int(net.network_address)
    return first, first + net.num_addresses - 1


def parse_net(text):
    """IP or CIDR -> ip_network (bare hosts become /32 or /128). Host bits must be clear."""
    return ipaddress.ip_network(text.strip(), strict=True)


def fmt_size(n):
    return f"{n / 1024:.1f} KiB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.2f} MiB"


# --------------------------------------------------------------------------------------------
# SOURCES.md: provenance and licence are quoted from it verbatim


def read_sources_md(shared):
    path = shared / "SOURCES.md"
    if not path.is_file():
        die(f"{path} not found - pass --shared DIR (the shared/data folder)")
    rows = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\| `([^`]+)` \|", line)
        if not m:
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        if len(cells) != 8:
            continue
        rows[m.group(1)] = {
            "what": cells[1],
            "records": cells[3],
            "date": cells[4],
            "origin": cells[5],
            "licence": cells[6],
        }
    return rows


# --------------------------------------------------------------------------------------------
# readers for the IPv4 ranges of every vendored list (for the pfx2as overlap rule)


def tor_exit_ips(data):
    text = gunzip(data).decode("ascii")
    nodes = sum(1 for l in text.splitlines() if l.startswith("ExitNode "))
    addrs = [l.split()[1] for l in text.splitlines() if l.startswith("ExitAddress ")]
    last = max(l.split()[1] for l in text.splitlines() if l.startswith("LastStatus "))
    return nodes, addrs, last


def aws_prefixes(data):
    doc = json.loads(gunzip(data))
    v4 = [p["ip_prefix"] for p in doc["prefixes"]]
    v6 = [p["ipv6_prefix"] for p in doc["ipv6_prefixes"]]
    return doc["createDate"], v4, v6


def google_prefixes(data):
    doc = json.loads(data)
    v4 = [p["ipv4Prefix"] for p in doc["prefixes"] if "ipv4Prefix" in p]
    v6 = [p["ipv6Prefix"] for p in doc["prefixes"] if "ipv6Prefix" in p]
    return doc["creationTime"], v4, v6


def plain_list(data):
    return [l.decode("ascii").strip() for l in lines(data) if l.strip()]


# --------------------------------------------------------------------------------------------
# interval index: merged, sorted, disjoint [first, last] ranges; overlap test by bisect


class Intervals:
    def __init__(self, ranges):
        merged = []
        for first, last in sorted(ranges):
            if merged and first <= merged[-1][1] + 1:
                if last > merged[-1][1]:
                    merged[-1][1] = last
            else:
                merged.append([first, last])
        self.starts = [r[0] for r in merged]
        self.ends = [r[1] for r in merged]

    def overlaps(self, first, last):
        # The merged interval with the greatest start <= last has the greatest end among all
        # intervals starting at or before `last`; [first, last] overlaps something iff it does.
        i = bisect.bisect_right(self.starts, last) - 1
        return i >= 0 and self.ends[i] >= first

    def __len__(self):
        return len(self.starts)


# --------------------------------------------------------------------------------------------
# pfx2as


def parse_pfx2as(raw):
    """[(row bytes, first, last, plen, origin bytes)] in file order."""
    rows = []
    for row in lines(raw):
        addr, plen, origin = row.rstrip(b"\r\n").split(b"\t")
        plen = int(plen)
        first = v4int(addr.decode("ascii"))
        rows.append((row, first, first + (1 << (32 - plen)) - 1, plen, origin))
    return rows


def origin_asns(origin):
    return [int(x) for x in re.split(rb"[_,]", origin) if x]


def lpm(table, ip):
    """Longest-prefix match in {(first, plen): origin}; returns (prefix text, origin) or None."""
    n = v4int(ip)
    for plen in range(32, -1, -1):
        first = n & ((0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF)
        hit = table.get((first, plen))
        if hit is not None:
            return f"{socket.inet_ntoa(struct.pack('!I', first))}/{plen}", hit.decode("ascii")
    return None


# --------------------------------------------------------------------------------------------


def build(shared):
    """Returns (files: {relpath: bytes}, report lines, samples)."""
    md = read_sources_md(shared)

    def src(rel):
        p = shared / rel
        if not p.is_file():
            die(f"missing input {p}")
        if rel not in md:
            die(f"{rel} has no row in SOURCES.md")
        return p.read_bytes()

    files = {}  # relpath -> bytes
    meta = []  # per vendored file: dict for README
    manifest = []  # [[source]] entries
    v4 = []  # (first, last) of every IPv4 range/address in the vendored lists
    members = []  # (source name, category, provider, [ip_network]) for the sample table

    def check_date(rel, date):
        if date not in md[rel]["date"]:
            die(f"date {date} for {rel} does not match SOURCES.md ({md[rel]['date']})")

    def add_v4(nets):
        for n in nets:
            if n.version == 4:
                v4.append(v4range(n))

    # ---- Tor exit list (copy)
    rel = "tor/exit-addresses/exit-addresses.gz"
    data = src(rel)
    nodes, addrs, last = tor_exit_ips(data)
    date = last[:10]
    check_date(rel, date)
    nets = [parse_net(a) for a in addrs]
    add_v4(nets)
    members.append(("tor-exit-addresses", "tor_exit", "Tor Project", nets))
    files["tor/exit-addresses.gz"] = data
    counts = f"{nodes} ExitNode blocks, {len(addrs)} ExitAddress lines, {len(set(addrs))} unique IPv4"
    meta.append(dict(out="tor/exit-addresses.gz", origin=rel, date=date, how="whole file, copied as is (gzip as stored in shared/data)", before=counts, after=counts))
    manifest.append(dict(name="tor-exit-addresses", format="tor-exit-list", path="tor/exit-addresses.gz",
                         categories=["tor_exit"], provider="Tor Project", tier="first-party", snapshot=date,
                         licence="public Tor Project data (no licence file upstream)",
                         url="https://check.torproject.org/exit-addresses"))

    # ---- AWS (copy)
    rel = "cloud/aws/ip-ranges.json.gz"
    data = src(rel)
    created, p4, p6 = aws_prefixes(data)
    date = created[:10]
    check_date(rel, created[:19])
    nets = [parse_net(p) for p in p4 + p6]
    add_v4(nets)
    members.append(("aws", "hosting", "Amazon AWS", nets))
    files["cloud/aws-ip-ranges.json.gz"] = data
    counts = f"{len(p4)} IPv4 + {len(p6)} IPv6 prefix entries"
    meta.append(dict(out="cloud/aws-ip-ranges.json.gz", origin=rel, date=date, how="whole file, copied as is (gzip as stored in shared/data)", before=counts, after=counts))
    manifest.append(dict(name="aws", format="aws-ip-ranges", path="cloud/aws-ip-ranges.json.gz",
                         categories=["hosting"], provider="Amazon AWS", tier="first-party", snapshot=date,
                         licence="published by AWS for public use (no explicit licence)",
                         url="https://ip-ranges.amazonaws.com/ip-ranges.json"))

    # ---- Google Cloud (gzip)
    rel = "cloud/google/cloud.json"
    data = src(rel)
    created, p4, p6 = google_prefixes(data)
    date = created[:10]
    check_date(rel, created[:19])
    nets = [parse_net(p) for p in p4 + p6]
    add_v4(nets)
    members.append(("google-cloud", "hosting", "Google Cloud", nets))
    files["cloud/google-cloud.json.gz"] = gz(data)
    counts = f"{len(p4) + len(p6)} prefixes ({len(p4)} IPv4, {len(p6)} IPv6)"
    meta.append(dict(out="cloud/google-cloud.json.gz", origin=rel, date=date, how="whole file, gzipped (mtime 0)", before=counts, after=counts))
    manifest.append(dict(name="google-cloud", format="google-cloud", path="cloud/google-cloud.json.gz",
                         categories=["hosting"], provider="Google Cloud", tier="first-party", snapshot=date,
                         licence="published by Google (no explicit licence)",
                         url="https://www.gstatic.com/ipranges/cloud.json"))

    # ---- first-party VPN lists (copy; gzip if > 20 KiB)
    vpn_date = "2026-08-22"
    for stem, display in VPNS:
        rel = f"{JOE}/{stem}.txt"
        data = src(rel)
        check_date(rel, vpn_date)
        entries = plain_list(data)
        nets = [parse_net(e) for e in entries]
        add_v4(nets)
        members.append((f"vpn-{stem}", "vpn", display, nets))
        n4 = sum(1 for n in nets if n.version == 4)
        if len(data) > GZIP_OVER:
            out, body, how = f"vpn/{stem}.txt.gz", gz(data), f"whole file, gzipped (mtime 0) because it is over {GZIP_OVER // 1024} KiB"
        else:
            out, body, how = f"vpn/{stem}.txt", data, "whole file, copied as is"
        files[out] = body
        counts = f"{len(entries)} addresses ({n4} IPv4, {len(entries) - n4} IPv6)"
        meta.append(dict(out=out, origin=rel, date=vpn_date, how=how, before=counts, after=counts))
        manifest.append(dict(name=f"vpn-{stem}", format="ip-list", path=out, categories=["vpn"], provider=display,
                             tier="first-party", snapshot=vpn_date, licence="CC0-1.0",
                             url=JOE_RAW.format(f"{stem}.txt")))

    # ---- iCloud Private Relay (gzip) + the MIT licence text that must travel with the copies
    relay_date = "2026-08-17"
    hroost = "relay/icloud-private-relay/hroost"
    for fam, rel in (("v4", f"{hroost}/ipv4/ipv4-ranges.txt"), ("v6", f"{hroost}/ipv6/ipv6-ranges.txt")):
        data = src(rel)
        check_date(rel, relay_date)
        entries = plain_list(data)
        nets = [parse_net(e) for e in entries]
        add_v4(nets)
        members.append((f"icloud-private-relay-{fam}", "relay", "iCloud Private Relay", nets))
        out = f"relay/icloud-private-relay-ip{fam}.txt.gz"
        files[out] = gz(data)
        bare = sum(1 for e in entries if "/" not in e)
        counts = f"{len(entries)} ranges" + (f" ({bare} of them bare host addresses without /32)" if bare else "")
        meta.append(dict(out=out, origin=rel, date=relay_date, how="whole file, gzipped (mtime 0)", before=counts, after=counts))
        manifest.append(dict(name=f"icloud-private-relay-{fam}", format="ip-list", path=out, categories=["relay"],
                             provider="iCloud Private Relay", tier="first-party", snapshot=relay_date,
                             licence="MIT (hroost/icloud-private-relay-iplist); Apple-published data",
                             url="https://mask-api.icloud.com/egress-ip-ranges.csv"))
    rel = f"{hroost}/LICENSE"
    lic = (shared / rel).read_bytes()
    files["relay/LICENSE-hroost.txt"] = lic
    meta.append(dict(out="relay/LICENSE-hroost.txt", origin=rel, date="-", how="whole file, copied as is (MIT requires the notice to travel with copies)", before="-", after="-", licence_file=True))

    # ---- pfx2as excerpt
    rel = "bgp/pfx2as/routeviews-rv2-20240406.pfx2as.gz"
    pfx_date = "2024-04-06"
    raw = gunzip(src(rel))
    check_date(rel, pfx_date)
    rows = parse_pfx2as(raw)
    interest = Intervals(v4)
    keep_a = [interest.overlaps(f, l) for (_, f, l, _, _) in rows]
    well = []  # (cidr, why, per-row bool)
    for cidr, why in WELL_KNOWN_V4:
        idx = Intervals([v4range(ipaddress.ip_network(cidr))])
        well.append((cidr, why, [idx.overlaps(f, l) for (_, f, l, _, _) in rows]))

    dropped = []
    while True:
        keep = [a or any(w[2][i] for w in well) for i, a in enumerate(keep_a)]
        excerpt = b"".join(r[0] for r, k in zip(rows, keep) if k)
        excerpt_gz = gz(excerpt)
        if len(excerpt_gz) <= PFX2AS_BUDGET or not well:
            break
        dropped.insert(0, well.pop()[0:2])
    if len(excerpt_gz) > PFX2AS_BUDGET:
        die(f"pfx2as excerpt is {len(excerpt_gz)} bytes gzipped even without the well-known blocks (budget {PFX2AS_BUDGET})")
    n_a = sum(keep_a)
    n_b_only = sum(1 for i, k in enumerate(keep) if k and not keep_a[i])
    n_keep = sum(keep)
    out = "bgp/routeviews-rv2-20240406.pfx2as-excerpt.gz"
    files[out] = excerpt_gz
    how = (f"EXCERPT, rows kept in original order: (a) {n_a} rows whose prefix overlaps (contains or is contained in) "
           f"one of the {len(interest)} merged IPv4 ranges of the other vendored lists (AWS, Google Cloud, Tor exits, "
           f"VPN lists, iCloud IPv4); (b) {n_b_only} further rows whose prefix overlaps one of the well-known blocks "
           + ", ".join(f"{c} ({w})" for c, w, _ in well)
           + (f". Dropped for the {PFX2AS_BUDGET // 1000} kB budget: " + ", ".join(c for c, _ in dropped) if dropped else "")
           + ". Because every prefix covering a kept address is kept, longest-prefix match inside these ranges gives the same origin as the full file")
    meta.append(dict(out=out, origin=rel, date=pfx_date, how=how, before=f"{len(rows)} rows", after=f"{n_keep} rows"))
    manifest.append(dict(name="caida-pfx2as", format="pfx2as", path=out, categories=[], tier="first-party", snapshot=pfx_date,
                         licence="CAIDA Acceptable Use Agreement for public data",
                         url="https://publicdata.caida.org/datasets/routing/routeviews-prefix2as/"))

    kept_rows = [r for r, k in zip(rows, keep) if k]
    asns = set()
    for r in kept_rows:
        asns.update(origin_asns(r[4]))

    # ---- asnames excerpt (bytes, exact rows)
    rel = "asn/asnames/asnames.txt.gz"
    names_date = "2021-09-30"
    raw = gunzip(src(rel))
    check_date(rel, names_date)
    name_rows = lines(raw)
    kept_names = []
    named = set()
    for row in name_rows:
        m = re.match(rb"AS(\d+)\s", row)
        if not m:
            die(f"unexpected asnames row {row[:40]!r}")
        if int(m.group(1)) in asns:
            kept_names.append(row)
            named.add(int(m.group(1)))
    out = "asn/asnames-excerpt.txt.gz"
    files[out] = gz(b"".join(kept_names))
    how = (f"EXCERPT, rows kept in original order with their exact bytes: the rows whose ASN appears as an origin "
           f"(origin field split on `_` and `,`) in the pfx2as excerpt ({len(asns)} distinct ASNs, {len(asns) - len(named)} of them without a row)")
    meta.append(dict(out=out, origin=rel, date=names_date, how=how, before=f"{len(name_rows)} rows", after=f"{len(kept_names)} rows"))
    manifest.append(dict(name="asnames", format="asnames", path=out, categories=[], tier="first-party", snapshot=names_date,
                         licence="MIT (private-octopus/dname3d repo); upstream potaroo terms not stated",
                         url="https://bgp.potaroo.net/cidr/autnums.html"))

    # ---- self-check: LPM in the excerpt == LPM in the full file for every vendored IPv4 entry
    full = {(f, p): o for (_, f, _, p, o) in rows}
    part = {(f, p): o for (_, f, _, p, o) in kept_rows}
    mismatch = 0
    probes = 0
    for _, _, _, nets in members:
        for n in nets:
            if n.version != 4:
                continue
            for ip in {str(n.network_address), str(n.broadcast_address)}:
                probes += 1
                if lpm(full, ip) != lpm(part, ip):
                    mismatch += 1
    for cidr, _, _ in well:
        n = ipaddress.ip_network(cidr)
        for ip in (n.network_address, n.broadcast_address, n.network_address + n.num_addresses // 2):
            probes += 1
            if lpm(full, str(ip)) != lpm(part, str(ip)):
                mismatch += 1
    if mismatch:
        die(f"{mismatch} of {probes} probes: excerpt LPM differs from the full pfx2as")

    # ---- sample addresses for newcomers
    asname = {}
    for row in kept_names:
        m = re.match(rb"AS(\d+)\s+(.*?)\r?\n?$", row)
        asname[int(m.group(1))] = m.group(2).decode("utf-8", "replace")

    def first_host(n):
        return str(n.network_address) if n.num_addresses == 1 else str(n.network_address + 1)

    by_name = {m[0]: m for m in members}
    picks = [
        ("Tor exit (first ExitAddress in the list)", first_host(by_name["tor-exit-addresses"][3][0])),
        ("AWS (first EC2 IPv4 prefix)", None),
        ("Google Cloud (first IPv4 prefix)", first_host(next(n for n in by_name["google-cloud"][3] if n.version == 4))),
        ("Mullvad server (first line)", first_host(by_name["vpn-mullvad"][3][0])),
        ("Proton VPN server (first line)", first_host(by_name["vpn-protonvpn"][3][0])),
        ("iCloud Private Relay IPv4 (first range)", first_host(by_name["icloud-private-relay-v4"][3][0])),
        ("iCloud Private Relay IPv6 (first range)", first_host(by_name["icloud-private-relay-v6"][3][0])),
        ("Cloudflare DNS", "1.1.1.1"),
        ("Google Public DNS", "8.8.8.8"),
    ]
    doc = json.loads(gunzip(files["cloud/aws-ip-ranges.json.gz"]))
    ec2 = next(p["ip_prefix"] for p in doc["prefixes"] if p["service"] == "EC2")
    picks[1] = (picks[1][0], first_host(ipaddress.ip_network(ec2)))
    samples = []
    for label, ip in picks:
        addr = ipaddress.ip_address(ip)
        hits = [(name, cat, prov, str(next(n for n in nets if addr in n)))
                for name, cat, prov, nets in members if any(addr in n for n in nets)]
        if addr.version == 4:
            m = lpm(part, ip)
            origin = m and (m[0], m[1], ", ".join(asname.get(a, "(no AS-names row)") for a in origin_asns(m[1].encode())))
        else:
            origin = None
        samples.append((label, ip, hits, origin))

    # ---- README + manifest
    files["sources.toml"] = render_manifest(manifest).encode("utf-8")
    files["README.md"] = render_readme(md, meta, files, samples, dropped, well, interest, asns).encode("utf-8")
    return files, samples


def toml_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_manifest(entries):
    out = [
        "# ipsieve source manifest for the vendored real-data snapshot (data/snapshot).",
        "# GENERATED by tools/make-snapshot.py - edit that script, not this file.",
        "# One [[source]] per input; the builder resolves `path` relative to this file.",
        "# Provenance and licences: README.md in this folder.",
    ]
    for e in entries:
        out.append("")
        out.append("[[source]]")
        out.append(f"name = {toml_str(e['name'])}")
        out.append(f"format = {toml_str(e['format'])}")
        out.append(f"path = {toml_str(e['path'])}")
        out.append("categories = [" + ", ".join(toml_str(c) for c in e["categories"]) + "]")
        if "provider" in e:
            out.append(f"provider = {toml_str(e['provider'])}")
        out.append(f"tier = {toml_str(e['tier'])}")
        out.append(f"snapshot = {toml_str(e['snapshot'])}")
        out.append(f"licence = {toml_str(e['licence'])}")
        out.append(f"url = {toml_str(e['url'])}")
    return "\n".join(out) + "\n"


def render_readme(md, meta, files, samples, dropped, well, interest, asns):
    total = sum(len(b) for b in files.values() if True)
    w = []
    w.append("# data/snapshot - vendored real data")
    w.append("")
    w.append("GENERATED by `tools/make-snapshot.py` - do not edit by hand. Regenerate (needs the `shared/data`")
    w.append("folder beside the repository; no network) and verify with:")
    w.append("")
    w.append("```sh")
    w.append(REGEN_COMMAND)
    w.append(REGEN_COMMAND + " --check   # byte-for-byte comparison, changes nothing")
    w.append("```")
    w.append("")
    w.append("This folder lets `ipsieve build` (no flags) compile a real database on a fresh clone with no")
    w.append("network: `sources.toml` is the manifest it reads. Every data byte here is copied from real,")
    w.append("publicly published files (the project's `shared/data` mirror, described in its `SOURCES.md`):")
    w.append("whole files, or whole rows selected from them. Nothing is synthetic. Gzip members are written")
    w.append("with mtime 0 and no file name so the output is reproducible. (Compressed bytes also depend on")
    w.append("the zlib build; `--check` says so when only the gzip encoding differs.)")
    w.append("")
    w.append("The data is a **snapshot**: the dates below are the dates of the data, and some of it is old")
    w.append("(AS names 2021, pfx2as 2024). Do not use it as a live feed. The sources are also not from")
    w.append("one day: the Tor exit list and pfx2as are from 2024, the AWS/Google/VPN/iCloud lists from")
    w.append("2026, so an origin AS (2024 routing) or AS name (2021) may be out of date for a 2026 range,")
    w.append("and ASNs registered after 2021 have no AS-names row.")
    w.append("")
    w.append("## Files")
    w.append("")
    w.append("| snapshot file | bytes | from shared/data | data date | trimming | rows before -> after |")
    w.append("|---|---:|---|---|---|---|")
    for m in meta:
        same = m["before"] == m["after"]
        w.append(f"| `{m['out']}` | {len(files[m['out']])} | `{m['origin']}` | {m['date']} | "
                 f"{'whole file' if same else 'excerpt'} | {m['before'] + ' (all)' if same else m['before'] + ' -> ' + m['after']} |")
    w.append(f"| `sources.toml` | {len(files['sources.toml'])} | generated | - | - | - |")
    w.append(f"| `README.md` | (this file) | generated | - | - | - |")
    w.append("")
    w.append(f"Total without README.md: {sum(len(b) for k, b in files.items() if k != 'README.md')} bytes.")
    w.append("")
    w.append("## Provenance and licence, file by file")
    w.append("")
    w.append("`public origin` and `licence` are quoted verbatim from `shared/data/SOURCES.md`.")
    for m in meta:
        row = md[m["origin"]]
        w.append("")
        w.append(f"### `{m['out']}`")
        w.append("")
        w.append(f"* from: `shared/data/{m['origin']}` ({row['what'].split(' - ')[0].split(' (')[0]})")
        w.append(f"* public origin (repo : path @commit; upstream publisher): {row['origin']}")
        w.append(f"* licence: {row['licence']}")
        if m["date"] != "-":
            w.append(f"* data date: {m['date']} (SOURCES.md: {row['date']})")
        w.append(f"* how: {m['how']}")
        if m["before"] != "-":
            w.append(f"* rows: {m['before']} in shared/data -> "
                     + ("all kept" if m["before"] == m["after"] else f"{m['after']} here"))
        w.append(f"* sha256: `{sha256(files[m['out']])}`")
    w.append("")
    w.append("## Licence situation (honest summary)")
    w.append("")
    w.append("* **Tor exit list** - public network data published by the Tor Project (check.torproject.org /")
    w.append("  TorDNSEL). The mirror repository it was taken from has no licence file.")
    w.append("* **AWS `ip-ranges.json`, Google Cloud `cloud.json`** - published by Amazon and Google for public")
    w.append("  use, with no explicit licence. (The mirror repositories are MIT / Apache-2.0 for their code.)")
    w.append("* **VPN server lists** - Joe12387/open-source-vpn-ip-lists, CC0-1.0 (public domain dedication),")
    w.append("  built from the providers' own published server data.")
    w.append("* **iCloud Private Relay lists** - hroost/icloud-private-relay-iplist, MIT; its licence text is")
    w.append("  vendored as `relay/LICENSE-hroost.txt`. The data itself is published by Apple. These are")
    w.append("  DERIVED lists: Apple's `egress-ip-ranges.csv` with the geo columns dropped and adjacent ranges")
    w.append("  merged; the IPv4 file mixes CIDRs with bare host addresses (no `/32`). Apple's original CSV is")
    w.append("  not vendored; `url` in `sources.toml` names it as the live upstream.")
    w.append("* **CAIDA pfx2as** - CAIDA public data; SOURCES.md: use is subject to the CAIDA Acceptable Use")
    w.append("  Agreement for public data, and the mirror repository has no licence file. This is NOT an open")
    w.append("  licence: the AUA's conditions (e.g. on citation and on redistribution) were not reviewed for")
    w.append("  this snapshot. Only an excerpt is vendored here; whoever publishes this repository should")
    w.append("  confirm the AUA allows it, or drop the file (the builder then has no origin ASNs).")
    w.append("* **AS names** - bgp.potaroo.net CIDR-report AS names (APNIC / Geoff Huston), taken from the")
    w.append("  private-octopus/dname3d repository (MIT); the upstream's own terms are not stated.")
    w.append("")
    w.append("## The pfx2as excerpt rules")
    w.append("")
    w.append(f"1. Keep every row whose prefix overlaps (contains, or is contained in) any IPv4 address or range")
    w.append(f"   of the other vendored lists: AWS, Google Cloud, Tor exits, the eight VPN lists and iCloud")
    w.append(f"   IPv4 ({len(interest)} ranges after merging). Test: sorted merged intervals + bisect.")
    w.append("2. Keep every row whose prefix overlaps one of the well-known blocks "
             + ", ".join(f"`{c}` ({why})" for c, why, _ in well) + ", so common")
    w.append("   addresses can be looked up. (\"Overlaps\" also admits shorter prefixes covering a block; there")
    w.append("   are none for these three blocks in this file, so this equals \"lies in\".)")
    if dropped:
        w.append(f"3. Over the {PFX2AS_BUDGET // 1000} kB gzipped budget the well-known blocks were dropped from the end "
                 f"of the list: {', '.join(c for c, _ in dropped)}.")
    else:
        w.append(f"3. Budget: gzipped excerpt <= {PFX2AS_BUDGET // 1000} kB; it fits with all three blocks, nothing dropped.")
    w.append("4. Rows keep their original order and exact bytes.")
    w.append("")
    w.append("Consequence: for any address inside a vendored list or a well-known block, the most specific")
    w.append("covering prefix in the excerpt is the same as in the full file (the script checks this for the")
    w.append("first and last address of every vendored IPv4 entry). Addresses elsewhere may get a less")
    w.append("specific prefix or no ASN at all.")
    w.append("")
    w.append(f"The AS-names excerpt keeps the rows of the {len(asns)} distinct ASNs that occur as origins in")
    w.append("the pfx2as excerpt (MOAS `_` and AS_SET `,` members included).")
    w.append("")
    w.append("## Addresses to try")
    w.append("")
    w.append("Computed by the script from the vendored files (membership in the lists, and the origin of the")
    w.append("most specific covering pfx2as prefix in the excerpt).")
    w.append("")
    w.append("| address | what | listed by (source: entry) | pfx2as prefix | origin AS |")
    w.append("|---|---|---|---|---|")
    for label, ip, hits, origin in samples:
        listed = "; ".join(f"{n} ({c}, {p}): {e}" for n, c, p, e in hits) or "none"
        if origin:
            pre, asn, org = origin[0], origin[1], origin[2]
        else:
            pre, asn, org = "-", "-", ""
        w.append(f"| `{ip}` | {label} | {listed} | {pre} | {asn}{' ' + org if org else ''} |")
    w.append("")
    w.append("(pfx2as is IPv4 only, so IPv6 addresses get no origin AS from this snapshot.)")
    return "\n".join(w) + "\n"


# --------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="the shared/data folder (default: ../shared/data beside the repo)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: data/snapshot)")
    ap.add_argument("--check", action="store_true", help="compare with --out instead of writing; exit 1 on any difference")
    args = ap.parse_args()

    files, samples = build(args.shared.resolve())

    total = sum(len(b) for b in files.values())
    print(f"{'file':<55} {'bytes':>10}")
    for rel in sorted(files):
        print(f"{rel:<55} {len(files[rel]):>10}")
    print(f"{'TOTAL':<55} {total:>10}  ({fmt_size(total)}, budget {TOTAL_BUDGET})")
    if total > TOTAL_BUDGET:
        die(f"snapshot is {total} bytes, over the {TOTAL_BUDGET}-byte budget")

    print("\nsample addresses:")
    for label, ip, hits, origin in samples:
        print(f"  {ip:<22} {label}")
        for h in hits:
            print(f"      listed: {h[0]} ({h[1]}, {h[2]}) entry {h[3]}")
        print(f"      pfx2as: {origin[0] + ' -> AS' + origin[1] + ' ' + origin[2] if origin else '-'}")

    out = args.out.resolve()
    existing = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()} if out.is_dir() else set()
    extra = sorted(existing - set(files))
    if args.check:
        bad = []
        for rel, body in sorted(files.items()):
            p = out / rel
            if not p.is_file():
                bad.append(f"missing: {rel}")
            elif p.read_bytes() != body:
                have = p.read_bytes()
                try:
                    same = rel.endswith(".gz") and gunzip(have) == gunzip(body)
                except OSError:
                    same = False
                bad.append(f"differs: {rel}" + (" (same content, different gzip encoding: another zlib build?)" if same else ""))
        bad += [f"not generated by this script: {rel}" for rel in extra]
        if bad:
            print("\nCHECK FAILED:\n  " + "\n  ".join(bad))
            sys.exit(1)
        print(f"\ncheck OK: {out} is reproduced byte for byte ({len(files)} files)")
        return
    for rel, body in sorted(files.items()):
        p = out / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if not p.is_file() or p.read_bytes() != body:
            p.write_bytes(body)
    if extra:
        print("\nwarning: files in the output folder that this script does not generate: " + ", ".join(extra))
    print(f"\nwrote {len(files)} files to {out}")


if __name__ == "__main__":
    main()
