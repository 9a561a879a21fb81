#!/usr/bin/env python3
"""Regenerates docs/ACCURACY.md: ipsieve's measured accuracy on the shared data mirror.

    python3 tools/eval_accuracy.py            # builds the release binary, runs, writes the doc

Method (written out in the doc it generates):
  * leave-one-source-out: for each held-out provider, build the artifact from
    sources/shared-data.toml with that provider's sources (and the other sources that copy the
    same data) disabled, sample addresses inside the held-out list's ranges (seeded), label
    them with the category the list asserts, and measure with `ipsieve eval` how often the rest
    of the data still finds them;
  * negatives: addresses of big residential and mobile ISPs, chosen by origin ASN in the CAIDA
    prefix-to-AS file, labelled `none`, measured against the full artifact;
  * checks on the full artifact: iCloud Private Relay addresses are never `vpn`, Tor
    relay-only addresses never `tor_exit`.

Everything goes through the `ipsieve` binary: `build` for the artifacts, `export --format csv`
of a build of the label sources alone for their ranges (so the labels are what ipsieve's own
parsers read), `eval --json` for the figures. Needs ../shared/data beside the repository; when
it is absent the script says so and exits non-zero without writing anything. No network.
"""
import argparse
import csv
import datetime
import functools
import gzip
import ipaddress
import itertools
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import tomllib

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
MANIFEST = os.path.join(ROOT, 'sources', 'shared-data.toml')
DATA = os.path.normpath(os.path.join(ROOT, '..', 'shared', 'data'))
PFX2AS_SOURCE = 'caida-pfx2as'
DOC = os.path.join(ROOT, 'docs', 'ACCURACY.md')
BIN = os.path.join(ROOT, 'target', 'release', 'ipsieve')

ANONYMOUS = {'tor_exit', 'vpn', 'proxy'}

# Leave-one-source-out experiments. `hold`: the provider's sources; `copies`: other sources that
# publish the same data (disabled too, or the experiment would measure the copy); `label`: the
# sources whose ranges are sampled for labels; `expected`: the category they assert;
# `flagged`: the categories that count as "flagged" for the issue's targets.
EXPERIMENTS = [
    dict(id='tor-newest', title='Tor exits, newest list (doodad-labs)',
         hold=['doodad-tor-exits'], copies=['doodad-tor-relays'],
         copies_why='the same publisher\'s relay list of the same day (it lists the exits too)',
         label=['doodad-tor-exits'], expected='tor_exit', flagged={'tor_exit'}),
    dict(id='tor-exit-lists', title='Tor exit list (TorDNSEL) against the consensus Exit flag',
         hold=['tor-exit-addresses'],
         copies=['tor-bulk-exit-list', 'secops-tor-exits', 'doodad-tor-exits'],
         copies_why='the bulk exit list is the same measurement (same day); secops-institute and '
                    'doodad-labs mirror the Tor Project\'s exit list at other dates; what is left '
                    'to find exits is the consensus `Exit` flag',
         label=['tor-exit-addresses'], expected='tor_exit', flagged={'tor_exit'}),
    dict(id='mullvad', title='Mullvad (its relay API)',
         hold=['mullvad-relays-selector'],
         copies=['mullvad-relays-app', 'vpn-mullvad', 'x4bnet-vpn-mullvad'],
         copies_why='the same relay list as the app fetches it, and two lists compiled from it',
         label=['mullvad-relays-selector'], expected='vpn', flagged={'vpn', 'hosting'}),
    dict(id='protonvpn', title='Proton VPN', hold=['vpn-protonvpn'],
         copies=['x4bnet-vpn-protonvpn'], copies_why='X4BNet\'s copy of Proton\'s server list',
         label=['vpn-protonvpn'], expected='vpn', flagged={'vpn', 'hosting'}),
    dict(id='pia', title='Private Internet Access', hold=['vpn-pia'],
         copies=['x4bnet-vpn-pia'], copies_why='X4BNet\'s copy of PIA\'s server list',
         label=['vpn-pia'], expected='vpn', flagged={'vpn', 'hosting'}),
    dict(id='airvpn', title='AirVPN', hold=['vpn-airvpn'], copies=[], label=['vpn-airvpn'],
         expected='vpn', flagged={'vpn', 'hosting'}),
    dict(id='windscribe', title='Windscribe', hold=['vpn-windscribe'], copies=[],
         label=['vpn-windscribe'], expected='vpn', flagged={'vpn', 'hosting'}),
    dict(id='ivpn', title='IVPN', hold=['vpn-ivpn'], copies=[], label=['vpn-ivpn'],
         expected='vpn', flagged={'vpn', 'hosting'}),
    dict(id='aws', title='Amazon AWS', hold=['aws'], copies=[], label=['aws'],
         expected='hosting', flagged={'hosting'}),
    dict(id='google', title='Google Cloud', hold=['google-cloud'], copies=[],
         label=['google-cloud'], expected='hosting', flagged={'hosting'}),
    dict(id='azure', title='Microsoft Azure', hold=['azure'], copies=[], label=['azure'],
         expected='hosting', flagged={'hosting'}),
    dict(id='oracle', title='Oracle Cloud', hold=['oracle-cloud'], copies=[],
         label=['oracle-cloud'], expected='hosting', flagged={'hosting'}),
    dict(id='digitalocean', title='DigitalOcean (geofeed)', hold=['digitalocean-geofeed'],
         copies=[], label=['digitalocean-geofeed'], expected='hosting', flagged={'hosting'}),
    dict(id='linode', title='Linode (geofeed)', hold=['linode-geofeed'],
         copies=['ip-fetcher-linode'], copies_why='jonhadfield/ip-fetcher\'s copy of the geofeed',
         label=['linode-geofeed'], expected='hosting', flagged={'hosting'}),
    dict(id='vultr', title='Vultr (geofeed)', hold=['vultr-geofeed'],
         copies=['ip-fetcher-vultr'], copies_why='jonhadfield/ip-fetcher\'s list of Vultr\'s ranges',
         label=['vultr-geofeed'], expected='hosting', flagged={'hosting'}),
    dict(id='hetzner', title='Hetzner', hold=['ip-fetcher-hetzner'], copies=[],
         label=['ip-fetcher-hetzner'], expected='hosting', flagged={'hosting'}),
    dict(id='ovh', title='OVH', hold=['ip-fetcher-ovh'], copies=[],
         label=['ip-fetcher-ovh'], expected='hosting', flagged={'hosting'}),
    dict(id='icloud', title='iCloud Private Relay',
         hold=['icloud-private-relay-v4', 'icloud-private-relay-v6'],
         copies=['x4bnet-icloud-private-relay'],
         copies_why='X4BNet\'s copy of Apple\'s egress list',
         label=['icloud-private-relay-v4', 'icloud-private-relay-v6'], expected='relay',
         flagged={'relay'}),
]

# Negatives: big residential and mobile ISPs by origin ASN (the ones present in the prefix-to-AS
# file are used; absent ones are named in the doc).
ISPS = [
    (7922, 'Comcast', 'US', 'residential'),
    (20115, 'Charter Spectrum', 'US', 'residential'),
    (22394, 'Verizon Wireless', 'US', 'mobile'),
    (21928, 'T-Mobile US', 'US', 'mobile'),
    (3320, 'Deutsche Telekom', 'DE', 'residential'),
    (3209, 'Vodafone Germany', 'DE', 'residential'),
    (3215, 'Orange', 'FR', 'residential'),
    (2856, 'BT', 'GB', 'residential'),
    (5483, 'Magyar Telekom', 'HU', 'residential'),
    (4766, 'Korea Telecom', 'KR', 'residential'),
    (55836, 'Reliance Jio', 'IN', 'mobile'),
    (45609, 'Bharti Airtel', 'IN', 'mobile'),
]

# Relay-only checks (issue 18's definition): a source listing Tor relays; relay-only means
# listed without being an exit there, and named as an exit by no exit list (a source declaring
# `tor_exit`) of the same day or later.
RELAY_ONLY = [
    dict(id='consensus', title='newest consensus (microdesc): relays without the Exit flag that '
         'no exit list of that day or later names',
         source='tor-consensus-microdesc'),
    dict(id='doodad', title='doodad-labs relay list minus the exit lists of that day or later',
         source='doodad-tor-relays'),
]


def die(msg, code=1):
    print(f'eval_accuracy: {msg}', file=sys.stderr)
    sys.exit(code)


def run(args, **kw):
    p = subprocess.run(args, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        die(f'{" ".join(map(str, args))} failed:\n{p.stderr[-4000:]}')
    return p.stdout


# ---- manifests -----------------------------------------------------------------------------

def toml_value(v):
    if isinstance(v, bool):
        return 'true' if v else 'false'
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return '[' + ', '.join(toml_value(x) for x in v) + ']'
    raise TypeError(f'cannot write {v!r} as TOML')


@functools.cache
def read_manifest():
    """sources/shared-data.toml, parsed (read once)."""
    with open(MANIFEST, 'rb') as f:
        return tomllib.load(f)


def write_manifest(path, sources, enabled):
    """Writes the manifest with absolute paths, enabling exactly the sources in `enabled`."""
    base = os.path.dirname(MANIFEST)
    out = ['# derived from sources/shared-data.toml by tools/eval_accuracy.py\n']
    # The manifest's top-level settings (`as_name_keywords`) go into every derived manifest.
    out += [f'{k} = {toml_value(v)}\n' for k, v in read_manifest().items() if k != 'source']
    for s in sources:
        out.append('\n[[source]]\n')
        for k, v in s.items():
            if k == 'enabled':
                continue
            if k == 'path':
                v = os.path.normpath(os.path.join(base, v))
            out.append(f'{k} = {toml_value(v)}\n')
        out.append(f'enabled = {toml_value(s["name"] in enabled)}\n')
    with open(path, 'w') as f:
        f.write(''.join(out))


def build(work, name, sources, enabled):
    manifest = os.path.join(work, f'{name}.toml')
    db = os.path.join(work, f'{name}.ipsieve')
    write_manifest(manifest, sources, enabled)
    run([BIN, 'build', '--quiet', '--sources', manifest, '--out', db])
    return db


# ---- labels --------------------------------------------------------------------------------

def runs_of(db, category):
    """(start, end) of every run of the artifact whose answer holds `category`, per family."""
    text = run([BIN, 'export', '--db', db, '--format', 'csv', '--out', '-'])
    fam = {4: [], 6: []}
    for row in csv.DictReader(text.splitlines()):
        cats = set(filter(None, row['categories'].split(',')))
        if category in cats:
            a, b = ipaddress.ip_address(row['start']), ipaddress.ip_address(row['end'])
            fam[a.version].append((int(a), int(b), cats))
    return fam


def sample_runs(runs, n, rng, version):
    """One uniform address in each of at most `n` runs chosen uniformly without replacement."""
    chosen = runs if len(runs) <= n else rng.sample(runs, n)
    mk = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
    return [str(mk(rng.randint(a, b))) for a, b, *_ in chosen]


def write_labels(path, ips, expected):
    with open(path, 'w') as f:
        f.write('ip,expected_category\n')
        for ip in ips:
            f.write(f'{ip},{expected}\n')


def evaluate(db, labels):
    return json.loads(run([BIN, 'eval', '--json', '--db', db, labels]))


def tally(ev, expected):
    """Counts for the rows of one expected class of an `ipsieve eval --json` document."""
    row = next(r for r in ev['expected'] if r['expected'] == expected)

    def any_of(cats):
        return sum(n for s, n in row['sets'].items() if cats & set(s.split(',')))

    return dict(labels=row['labels'], holds=row['holds'], verdicts=row['verdicts'],
                any_of=any_of, sets=row['sets'])


# ---- figures -------------------------------------------------------------------------------

def pct(n, d):
    return '–' if d == 0 else f'{100.0 * n / d:.1f} %'


def frac(n, d, places=1):
    return f'{n} / {d} ({100.0 * n / d:.{places}f} %)' if d else '–'


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--per-family', type=int, default=2000,
                    help='largest number of ranges sampled per held-out list and family')
    ap.add_argument('--per-isp', type=int, default=1000,
                    help='addresses sampled per ISP for the negatives')
    ap.add_argument('--seed', type=int, default=20240406)
    ap.add_argument('--out', default=DOC)
    ap.add_argument('--no-build', action='store_true',
                    help='use target/release/ipsieve as it is (no cargo build)')
    args = ap.parse_args()

    if not os.path.isdir(DATA):
        die(f'{DATA} is absent: the accuracy evaluation reads the shared data mirror that '
            f'sources/shared-data.toml names; nothing was written', 2)
    sources = read_manifest()['source']
    by_name = {s['name']: s for s in sources}
    missing = [s['name'] for s in sources if s.get('enabled', True)
               and not os.path.exists(os.path.join(os.path.dirname(MANIFEST), s['path']))]
    if missing:
        die(f'{DATA} lacks the files of {", ".join(missing)}; nothing was written', 2)
    for x in EXPERIMENTS:
        for n in x['hold'] + x['copies'] + x['label']:
            if n not in by_name:
                die(f'experiment {x["id"]}: no source {n} in {MANIFEST}')

    if not args.no_build:
        print('building the release binary…', file=sys.stderr)
        run(['cargo', 'build', '--release', '--locked', '-p', 'ipsieve-cli'], cwd=ROOT)
    if not os.path.exists(BIN):
        die(f'{BIN} is missing: run cargo build --release -p ipsieve-cli')

    enabled = {s['name'] for s in sources if s.get('enabled', True)}
    rng = random.Random(args.seed)
    work = tempfile.mkdtemp(prefix='ipsieve-accuracy-')
    try:
        doc = measure(work, sources, by_name, enabled, rng, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    tmp = args.out + '.tmp'
    with open(tmp, 'w') as f:
        f.write(doc)
    os.replace(tmp, args.out)
    print(f'wrote {os.path.relpath(args.out, ROOT)}', file=sys.stderr)


def measure(work, sources, by_name, enabled, rng, args):
    print('building the full artifact…', file=sys.stderr)
    full = build(work, 'full', sources, enabled)

    # -- leave one source out
    loo = []
    for x in EXPERIMENTS:
        print(f'experiment {x["id"]}…', file=sys.stderr)
        held = set(x['hold'] + x['copies'])
        only = build(work, f'{x["id"]}-labels', sources, set(x['label']))
        without = build(work, f'{x["id"]}-without', sources, enabled - held)
        res = dict(x=x, fam={})
        for version, runs in runs_of(only, x['expected']).items():
            if not runs:
                continue
            ips = sample_runs(runs, args.per_family, rng, version)
            labels = os.path.join(work, f'{x["id"]}-v{version}.csv')
            write_labels(labels, ips, x['expected'])
            res['fam'][version] = dict(
                runs=len(runs),
                without=tally(evaluate(without, labels), x['expected']),
                full=tally(evaluate(full, labels), x['expected']),
                via=flagged_details(without, labels, {x['expected']}),
                labels=labels)
        loo.append(res)

    # -- negatives
    print('negatives…', file=sys.stderr)
    pfx = by_name[PFX2AS_SOURCE]
    prefixes = {asn: [] for asn, *_ in ISPS}
    with gzip.open(os.path.join(os.path.dirname(MANIFEST), pfx['path']), 'rt') as f:
        for line in f:
            p = line.split()
            # Single origins only: `a_b` (multi-origin) and `a,b` (AS sets) are left out.
            if len(p) == 3 and p[2].isdigit() and int(p[2]) in prefixes:
                prefixes[int(p[2])].append(ipaddress.ip_network(f'{p[0]}/{p[1]}'))
    negatives = []
    all_neg = []
    for asn, name, cc, kind in ISPS:
        nets = prefixes[asn]
        if not nets:
            negatives.append(dict(asn=asn, name=name, cc=cc, kind=kind, prefixes=0))
            continue
        sizes = [n.num_addresses for n in nets]
        cum = list(itertools.accumulate(sizes))
        picked = set()
        for _ in range(args.per_isp * 20):
            if len(picked) >= args.per_isp:
                break
            n = rng.choices(nets, cum_weights=cum)[0]
            picked.add(str(ipaddress.IPv4Address(int(n.network_address)
                                                 + rng.randrange(n.num_addresses))))
        ips = sorted(picked, key=lambda s: int(ipaddress.ip_address(s)))
        all_neg += ips
        labels = os.path.join(work, f'neg-{asn}.csv')
        write_labels(labels, ips, 'none')
        negatives.append(dict(asn=asn, name=name, cc=cc, kind=kind, prefixes=len(nets),
                              addresses=sum(sizes), t=tally(evaluate(full, labels), 'none'),
                              ips=ips))
    neg_labels = os.path.join(work, 'neg-all.csv')
    write_labels(neg_labels, all_neg, 'none')
    neg_total = tally(evaluate(full, neg_labels), 'none')
    flagged_neg = flagged_details(full, neg_labels, ANONYMOUS)
    hosting_neg = flagged_details(full, neg_labels, {'hosting'})

    # -- relay-only Tor addresses and iCloud relays on the full artifact
    print('full-artifact checks…', file=sys.stderr)
    relay_only = []
    for r in RELAY_ONLY:
        only = build(work, f'relay-{r["id"]}', sources, {r['source']})
        exits = set()
        day = by_name[r['source']].get('snapshot', '')
        r['exits_from'] = sorted(
            n for n in enabled if n != r['source']
            and 'tor_exit' in by_name[n].get('categories', [])
            and by_name[n].get('snapshot', '') >= day)
        if r['exits_from']:
            ex = build(work, f'relay-{r["id"]}-exits', sources, set(r['exits_from']))
            for runs in runs_of(ex, 'tor_exit').values():
                for a, b, _ in runs:
                    exits.update(range(a, b + 1) if b - a < 1 << 16 else (a, b))
        res = dict(r=r, fam={})
        for version, runs in runs_of(only, 'tor_relay').items():
            runs = [(a, b, c) for a, b, c in runs if 'tor_exit' not in c
                    and not (exits and any(i in exits for i in range(a, min(b, a + (1 << 16)) + 1)))]
            if not runs:
                continue
            ips = sample_runs(runs, args.per_family, rng, version)
            labels = os.path.join(work, f'relay-{r["id"]}-v{version}.csv')
            write_labels(labels, ips, 'tor_relay')
            res['fam'][version] = dict(runs=len(runs), t=tally(evaluate(full, labels), 'tor_relay'),
                                       flagged=flagged_details(
                                           full, labels, {'tor_exit'}, skip={r['source']}))
        relay_only.append(res)
    icloud = next(res for res in loo if res['x']['id'] == 'icloud')
    icloud_vpn = {v: flagged_details(full, f['labels'], {'vpn'})
                  for v, f in icloud['fam'].items()}
    return render(sources, by_name, enabled, loo, negatives, neg_total, flagged_neg,
                  hosting_neg, relay_only, icloud, icloud_vpn, args)


TIERS = ['first-party', 'curated', 'asn-heuristic', 'asn-sibling', 'keyword']


def flagged_details(db, labels, cats, skip=()):
    """How many answers to `labels` hold a category of `cats`; per source (other than `skip`)
    how many of those it flagged with one of them, and per tier how many were flagged at best
    by that tier (from the signals of `ipsieve lookup --json`)."""
    with open(labels) as f:
        ips = [l.split(',')[0] for l in f.read().splitlines()[1:]]
    out = run([BIN, 'lookup', '--json', '--db', db, '-'], input='\n'.join(ips) + '\n')
    by_source, by_tier, n = {}, {}, 0
    for line in out.splitlines():
        j = json.loads(line)
        if not cats & set(j['categories']):
            continue
        n += 1
        tiers = []
        for s in j['signals']:
            if cats & set(s['categories']):
                tiers.append(TIERS.index(s['tier']))
                if s['source'] not in skip:
                    by_source[s['source']] = by_source.get(s['source'], 0) + 1
        if tiers:
            best = TIERS[min(tiers)]
            by_tier[best] = by_tier.get(best, 0) + 1
    return dict(n=n, by_source=by_source, by_tier=by_tier)


def merge_details(ds):
    out = dict(n=0, by_source={}, by_tier={})
    for d in ds:
        out['n'] += d['n']
        for key in ('by_source', 'by_tier'):
            for k, c in d[key].items():
                out[key][k] = out[key].get(k, 0) + c
    return out


def tiers_line(d):
    return ', '.join(f'{t} {d["by_tier"][t]}' for t in TIERS if t in d['by_tier']) or '–'


def wilson_bounds(n, d, z=1.96):
    """The 95 % Wilson score interval of the proportion n / d."""
    p = n / d
    c = (p + z * z / (2 * d)) / (1 + z * z / d)
    h = z * ((p * (1 - p) / d + z * z / (4 * d * d)) ** 0.5) / (1 + z * z / d)
    return max(0.0, c - h), min(1.0, c + h)


def wilson(n, d):
    if d == 0:
        return '–'
    lo, hi = wilson_bounds(n, d)
    return f'{100 * lo:.2f}–{100 * hi:.2f} %'


def met(n, d, at_least=None, at_most=None):
    """`yes` / `**no**` for the sample, noting when the interval straddles the threshold."""
    if d == 0:
        return '–'
    lo, hi = wilson_bounds(n, d)
    if at_least is not None:
        ok, straddles = n >= at_least * d, lo < at_least <= hi
    else:
        ok, straddles = n <= at_most * d, lo <= at_most < hi
    return ('yes' if ok else '**no**') + (' (within sampling error of the limit)' if straddles else '')


def sources_line(d):
    if not d['by_source']:
        return ''
    return ', '.join(f'`{s}` {n}' for s, n in sorted(d['by_source'].items(),
                                                       key=lambda kv: (-kv[1], kv[0])))


def summed(fam, key):
    """Adds the tallies of both families: labels, any_of(cats), holds, verdicts."""
    ts = [f[key] for f in fam.values()]
    return dict(labels=sum(t['labels'] for t in ts),
                any_of=lambda cats: sum(t['any_of'](cats) for t in ts),
                verdicts={v: sum(t['verdicts'][v] for t in ts) for v in ts[0]['verdicts']})


def render(sources, by_name, enabled, loo, negatives, neg_total, flagged_neg, hosting_neg,
           relay_only, icloud, icloud_vpn, args):
    d = []
    w = d.append
    snap = lambda n: by_name[n].get('snapshot', 'undated')  # noqa: E731
    w('# Measured accuracy\n\n')
    w('<!-- GENERATED by tools/eval_accuracy.py from ../shared/data: do not edit by hand. -->\n\n')
    w('How often ipsieve\'s answers agree with labelled addresses, measured with `ipsieve eval` '
      'on artifacts built from the shared data mirror (`sources/shared-data.toml`). Regenerate '
      'this page with one command (it builds the release binary, needs `../shared/data` beside '
      'the repository, and takes about two minutes; without the data it says so and writes '
      'nothing):\n\n')
    w('```sh\npython3 tools/eval_accuracy.py\n```\n\n')
    w(f'Sampling is seeded (seed {args.seed}); the same data gives the same page.\n\n')

    # headline
    tor_new = next(r for r in loo if r['x']['id'] == 'tor-newest')
    vpn_rows = [r for r in loo if r['x']['expected'] == 'vpn']
    t = summed(tor_new['fam'], 'without')
    tor_found = t['any_of']({'tor_exit'})
    w('## Targets (issues 5 and 18)\n\n')
    w('Measured on the samples described below; the interval is the 95 % Wilson score '
      'interval of the sample proportion (sampling error only, not the labels\' error).\n\n')
    w('| target | measured | 95 % interval | met |\n|---|---|---|---|\n')
    w(f'| Tor exits of the newest list, build from the older Tor sources only: ≥ 80 % '
      f'`tor_exit` | {frac(tor_found, t["labels"])} | {wilson(tor_found, t["labels"])} | {met(tor_found, t["labels"], at_least=0.8)} |\n')
    def held_out_row(r, target, cats, at_least):
        s = summed(r['fam'], 'without')
        n = s['any_of'](cats)
        w(f'| {r["x"]["title"]} held out: {target} | {frac(n, s["labels"])} | '
          f'{wilson(n, s["labels"])} | {met(n, s["labels"], at_least=at_least)} |\n')

    for r in vpn_rows:
        held_out_row(r, '≥ 90 % flagged `vpn` or `hosting`', {'vpn', 'hosting'}, 0.9)
    for r in vpn_rows:
        held_out_row(r, 'flagged `vpn` itself (aim ≥ 80 %)', {'vpn'}, 0.8)
    for r in (r for r in loo if r['x']['expected'] == 'hosting'):
        held_out_row(r, '≥ 85 % `hosting`', {'hosting'}, 0.85)
    n_ah = neg_total['any_of'](ANONYMOUS | {'hosting'})
    w(f'| residential and mobile ISPs flagged anonymous or `hosting`: ≤ 0.3 % | '
      f'{frac(n_ah, neg_total["labels"], 2)} | {wilson(n_ah, neg_total["labels"])} | {met(n_ah, neg_total["labels"], at_most=0.003)} |\n')
    ic_full = summed(icloud['fam'], 'full')
    ic_vpn = ic_full['any_of']({'vpn'})
    w(f'| iCloud Private Relay addresses flagged `vpn` (full artifact): 0 | '
      f'{frac(ic_vpn, ic_full["labels"], 2)} | {wilson(ic_vpn, ic_full["labels"])} | {"yes" if ic_vpn == 0 else "**no**"} |\n')
    for r in relay_only:
        lab = sum(f['t']['labels'] for f in r['fam'].values())
        ex = sum(f['t']['any_of']({'tor_exit'}) for f in r['fam'].values())
        w(f'| Tor relay-only addresses ({r["r"]["title"]}) answered `tor_exit` (full artifact): '
          f'≤ 0.1 % | {frac(ex, lab, 2)} | {wilson(ex, lab)} | {met(ex, lab, at_most=0.001)} |\n')
    w('\n')

    # method
    w('## Method\n\n')
    w('**Labels come from public lists, not from ground truth.** A label says what one '
      'published list asserted on its snapshot date; the list can be stale, incomplete or '
      'wrong, and so can the sources it is compared with. The figures measure agreement '
      'between independent publications, which is the best available proxy for accuracy.\n\n')
    w('### Leave one source out\n\n')
    w('For each provider below, the artifact is built from `sources/shared-data.toml` with the '
      'provider\'s own sources **and every other source that copies the same data** disabled '
      '(the table names them and why). A second build holds the label sources alone; '
      '`ipsieve export --format csv` of it gives their ranges as ipsieve\'s own parsers read '
      f'them (maximal runs of equal answers). Per address family, at most {args.per_family} '
      'runs are chosen uniformly without replacement and one address is drawn uniformly inside '
      'each, so every listed entry weighs the same whatever its size. The addresses are labelled '
      'with the category the list asserts and evaluated with `ipsieve eval` against the build '
      'without the provider ("held out") and, as a check of the sampling, against the full '
      'build (where they should all be found).\n\n')
    w('Whatever else is enabled stays in, including the ASN-wide lists '
      '(`x4bnet-vpn-asns`, `x4bnet-datacenter-asns`, `bad-asn-list`, tier `asn-heuristic`), the '
      'sources the builder derives from them for unlisted ASNs of the same organisations (tier '
      '`asn-sibling`, `docs/INTELLIGENCE.md`), the hosting the builder infers from the '
      'server lists of the other VPN providers left in (`vpn-colocation`, tier '
      '`asn-heuristic`: an AS carrying the servers of three or more of them) and from AS names '
      '(`as-name-keywords`, tier `keyword`) and '
      'curated aggregates (`x4bnet-datacenter`, `ipcat-datacenters`): finding a held-out '
      'provider through them is what "the rest of the data" means. They are not copies of a '
      'provider\'s list, but an aggregate may have been compiled partly from it.\n\n')
    w('### Negatives\n\n')
    w(f'Addresses of big residential and mobile ISPs, chosen by origin AS in the CAIDA '
      f'RouteViews prefix-to-AS file (`{PFX2AS_SOURCE}`, {snap(PFX2AS_SOURCE)}; prefixes with '
      f'one origin AS only): for each ISP, {args.per_isp} distinct addresses drawn uniformly from '
      'the union of its prefixes (weighted by prefix size, so a random address of the ISP\'s '
      'space, as its customers are spread). Labelled `none` and evaluated against the full '
      'artifact. A flag is a false positive by this method, although a residential address can '
      'truly run an open proxy, a Tor relay or a VPN server.\n\n')
    absent = [f'{name} (AS{asn})' for n in negatives if n['prefixes'] == 0
              for asn, name in [(n['asn'], n['name'])]]
    if absent:
        w(f'Not in the prefix-to-AS file, so not measured: {", ".join(absent)}.\n\n')
    w('### Counting\n\n')
    w('A label names one category; an answer holds a set. A row expected `vpn` answered '
      '{vpn, hosting} is found (`vpn`) and also flagged `hosting`. "Found" means the answer holds '
      'the expected category; "flagged" columns count answers holding any of the named '
      'categories, each answer once. *Anonymous* is `tor_exit`, `vpn` or `proxy` '
      '(`Answer::is_anonymous`). See `ipsieve eval --help` and the `ipsieve_builder::eval` '
      'docs for the labels file and the one-against-the-rest counts it prints.\n\n')

    # LOO table
    w('## Leave one source out: does the rest of the data find the held-out provider?\n\n')
    w('| held out | also disabled (copies) | labelled from (snapshot) | labels v4 + v6 | found, held out | IPv4 | IPv6 | flagged at all | found, full build |\n')
    w('|---|---|---|---:|---:|---:|---:|---:|---:|\n')
    for r in loo:
        x = r['x']
        s = summed(r['fam'], 'without')
        f = summed(r['fam'], 'full')
        exp = {x['expected']}
        per = {v: (r['fam'][v]['without']['any_of'](exp), r['fam'][v]['without']['labels'])
               for v in r['fam']}
        fam_cell = lambda v: pct(*per[v]) if v in per else '–'  # noqa: E731
        any_cat = s['any_of'](set(n for _, n in CATEGORY_NAMES))
        w(f'| {x["title"]} (`{"`, `".join(x["hold"])}`) | '
          f'{", ".join(f"`{c}`" for c in x["copies"]) or "none"} | '
          f'{", ".join(f"`{n}` ({snap(n)})" for n in x["label"])} | '
          f'{" + ".join(str(r["fam"][v]["without"]["labels"]) if v in r["fam"] else "0" for v in (4, 6))} | '
          f'{pct(s["any_of"](exp), s["labels"])} `{x["expected"]}` | {fam_cell(4)} | {fam_cell(6)} | '
          f'{pct(any_cat, s["labels"])} | {pct(f["any_of"](exp), f["labels"])} |\n')
    w('\nWhy the copies: ' + '; '.join(f'{r["x"]["title"]}: {r["x"]["copies_why"]}'
                                       for r in loo if r['x']['copies']) + '.\n\n')
    w('What the held-out addresses were answered instead (build without the provider):\n\n')
    w('| held out | expected | found via (strongest tier of a signal asserting it) | flagged `vpn` or `hosting` | anonymous | `hosting` | clean | suspicious | vpn_likely | vpn_detected |\n')
    w('|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n')
    for r in loo:
        s = summed(r['fam'], 'without')
        n = s['labels']
        v = s['verdicts']
        via = merge_details(f['via'] for f in r['fam'].values())
        w(f'| {r["x"]["title"]} | `{r["x"]["expected"]}` | {tiers_line(via)} | '
          f'{pct(s["any_of"]({"vpn", "hosting"}), n)} | '
          f'{pct(s["any_of"](ANONYMOUS), n)} | {pct(s["any_of"]({"hosting"}), n)} | '
          f'{v["clean"]} | {v["suspicious"]} | {v["vpn_likely"]} | {v["vpn_detected"]} |\n')
    w('\nA held-out VPN found only through an ASN-wide list, or only as hosting, stays below '
      '`vpn_likely` by the weights of docs/INTELLIGENCE.md: the verdict columns show what a '
      'deployment acting on the verdict would still catch, the category columns what one '
      'acting on the booleans would.\n\n')
    for r in loo:
        x = r['x']
        if x['expected'] != 'tor_exit':
            continue
        held = set(x['hold'] + x['copies'])
        rest = [n for n in enabled - held
                if by_name[n]['format'] == 'tor-consensus'
                or 'tor_exit' in by_name[n].get('categories', [])]
        dated = [by_name[n]['snapshot'] for n in rest if 'snapshot' in by_name[n]]
        labelled = max(by_name[n].get('snapshot', '') for n in x['label'])
        if dated and labelled:
            gap = (datetime.date.fromisoformat(labelled)
                   - datetime.date.fromisoformat(max(dated))).days
            w(f'{x["title"]}: the labels are of {labelled}; the newest Tor source left in the '
              f'build is of {max(dated)} ({", ".join(f"`{n}`" for n in sorted(rest))}), '
              f'{abs(gap)} days {"earlier" if gap >= 0 else "later"}. Exit addresses churn within '
              f'days to months, so this measures the age gap as much as the method.\n\n')

    # negatives table
    w('## Negatives: residential and mobile ISPs (full artifact)\n\n')
    w('| ISP | AS | kind | prefixes | labels | anonymous | `hosting` | anonymous or `hosting` | any category | not `clean` |\n')
    w('|---|---:|---|---:|---:|---:|---:|---:|---:|---:|\n')
    for n in negatives:
        if n['prefixes'] == 0:
            continue
        t = n['t']
        lab = t['labels']
        w(f'| {n["name"]} ({n["cc"]}) | {n["asn"]} | {n["kind"]} | {n["prefixes"]} | {lab} | '
          f'{pct(t["any_of"](ANONYMOUS), lab)} | {pct(t["any_of"]({"hosting"}), lab)} | '
          f'{pct(t["any_of"](ANONYMOUS | {"hosting"}), lab)} | '
          f'{pct(t["any_of"](set(c for _, c in CATEGORY_NAMES)), lab)} | '
          f'{pct(lab - t["verdicts"]["clean"], lab)} |\n')
    t = neg_total
    lab = t['labels']
    w(f'| **all** | | | | {lab} | {frac(t["any_of"](ANONYMOUS), lab)} | '
      f'{frac(t["any_of"]({"hosting"}), lab)} | {frac(t["any_of"](ANONYMOUS | {"hosting"}), lab)} | '
      f'{frac(t["any_of"](set(c for _, c in CATEGORY_NAMES)), lab)} | '
      f'{frac(lab - t["verdicts"]["clean"], lab)} |\n\n')
    v = t['verdicts']
    w(f'Verdicts of all negatives: clean {v["clean"]}, suspicious {v["suspicious"]}, vpn_likely '
      f'{v["vpn_likely"]}, vpn_detected {v["vpn_detected"]}. ')
    if flagged_neg['n']:
        w(f'The {flagged_neg["n"]} negatives flagged anonymous were flagged by: '
          f'{sources_line(flagged_neg)}. ')
    else:
        w('No negative was flagged anonymous. ')
    if hosting_neg['n']:
        w(f'The {hosting_neg["n"]} flagged `hosting` were flagged by (sources; an address can '
          f'have several): {sources_line(hosting_neg)}; by strongest tier: '
          f'{tiers_line(hosting_neg)}.\n\n')
    else:
        w('No negative was flagged `hosting`.\n\n')

    # relay checks
    w('## Privacy relays and Tor relays (full artifact)\n\n')
    lab = ic_full['labels']
    w(f'**iCloud Private Relay**: of {lab} sampled egress addresses '
      f'(`{"`, `".join(icloud["x"]["label"])}`), {ic_full["any_of"]({"relay"})} are answered '
      f'`relay` and {ic_vpn} `vpn`')
    srcs = {}
    for d_ in icloud_vpn.values():
        for k, c in d_['by_source'].items():
            srcs[k] = srcs.get(k, 0) + c
    if ic_vpn:
        w(' (' + sources_line(dict(by_source=srcs)) + ')')
    vv = ic_full['verdicts']
    w(f'; verdicts: clean {vv["clean"]}, suspicious {vv["suspicious"]}, vpn_likely '
      f'{vv["vpn_likely"]}, vpn_detected {vv["vpn_detected"]}. Held out, the rest of the data '
      f'finds {pct(summed(icloud["fam"], "without")["any_of"]({"relay"}), summed(icloud["fam"], "without")["labels"])} '
      f'of them as `relay`: no other source knows relays, which is why Apple\'s list must stay '
      f'in the build.\n\n')
    w('**Tor relay-only addresses**, labelled `tor_relay`:\n\n')
    w('| relay-only set | source (snapshot) | labels | answered `tor_relay` | answered `tor_exit` | exit sources behind those |\n|---|---|---:|---:|---:|---|\n')
    for r in relay_only:
        lab = sum(f['t']['labels'] for f in r['fam'].values())
        rel = sum(f['t']['any_of']({'tor_relay'}) for f in r['fam'].values())
        ex = sum(f['t']['any_of']({'tor_exit'}) for f in r['fam'].values())
        srcs = {}
        for f in r['fam'].values():
            for k, c in f['flagged']['by_source'].items():
                srcs[k] = srcs.get(k, 0) + c
        minus = ', '.join(f'`{n}` ({snap(n)})' for n in r['r']['exits_from']) or 'none'
        w(f'| {r["r"]["title"]} | `{r["r"]["source"]}` ({snap(r["r"]["source"])}), minus the '
          f'exits of {minus} | {lab} | '
          f'{pct(rel, lab)} | {frac(ex, lab)} | {sources_line(dict(by_source=srcs)) or "–"} |\n')
    w('\nThe label source itself is left out of the last column: a Tor consensus asserts both '
      '`tor_exit` and `tor_relay`, and format 1.0 shows a source\'s signal with every category it '
      'asserts that the answer holds (docs/INTELLIGENCE.md, "Known limits"), so the other '
      'consensus can also be named there without having listed the address as an exit.\n')
    w('\nA relay-only address answered `tor_exit` is one that another list, of another date, '
      'names as an exit: relays change role and address between snapshots, and an exit list '
      'measures the address traffic leaves from, which may be another relay\'s OR address on '
      'the same host. The classification never turns `tor_relay` into `tor_exit` by itself.\n\n')

    # limits
    w('## Limits\n\n')
    w('* Labels are what public lists say, not ground truth; a miss can be the held-out list\'s '
      'error as well as ipsieve\'s.\n')
    w('* The snapshots differ in date by up to years (below). Tor exits churn within days, so the '
      'Tor experiments measure as much the age gap between lists as the method.\n')
    w('* Copies were found by name and publisher. An aggregate compiled partly from a held-out '
      'list (X4BNet\'s datacenter list, ipcat) stays in and can make the rest look better than '
      'a genuinely new provider would.\n')
    w('* Negatives are chosen by BGP origin AS: an ISP also routes business, hosting and '
      'government customers, and home users can run proxies, Tor relays and VPN servers. The '
      'prefix-to-AS file is IPv4 only, so IPv6 false positives are not measured.\n')
    w('* One address per run, at most a few thousand per list: a sample, with the sampling error '
      'that implies (the targets table gives the 95 % intervals).\n')
    w('* **VPN brands without a list of their own.** NordVPN, Surfshark, ExpressVPN, CyberGhost '
      'and PureVPN publish no server list in a fetchable form. The default manifest reads them, '
      'with about twenty more brands, from the server lists gluetun maintains '
      '(`gluetun-vpn-servers`, format `gluetun-servers`: each address answers `vpn` with its '
      'brand as the provider). No copy of that file, and no server list of these brands, is in '
      '`../shared/data` (NordVPN\'s and Surfshark\'s are kept out as an evaluation hold-out), so '
      'the build measured here does not read it: here their servers are found only through ASN '
      'lists and what the builder derives from them, as `vpn` where their operators\' ASNs are on '
      'X4BNet\'s VPN-ASN list (NordVPN\'s Packethub AS136787 and AS207137 and its sibling ASNs '
      'AS141039, AS147049 and AS272096, Surfshark\'s AS209854, M247\'s AS9009) and otherwise as '
      '`hosting` at best. gluetun refreshes each brand\'s section when its updater runs (weeks '
      'to months apart), so addresses a brand added since are missed until then.\n')
    w('* **Brands still uncovered.** Widely used VPNs that gluetun does not carry and that '
      'publish no server list, addresses or hostnames, that this project found: Hotspot Shield, '
      'TunnelBear, hide.me, Atlas VPN and the VPNs sold with antivirus suites (Norton, Avast, '
      'Kaspersky, McAfee). Their exits are flagged only where they sit in hosting space or on a '
      'VPN-ASN list.\n')
    w('* **Aggregates inside eyeball networks.** X4BNet\'s datacenter list still holds Sprint\'s '
      'former blocks (68.240.0.0/13, 174.144.0.0/12, 184.192.0.0/10) that T-Mobile US announces, '
      'and ipcat (last changed in 2019) ranges now used by Reliance Jio: before the rule of '
      '`docs/INTELLIGENCE.md` ("Aggregates inside eyeball networks") they made 59 of the 61 '
      'negatives flagged `hosting` (0.51 %). The rule also drops the few held-out servers that '
      'sit in such a block: a VPN server or a hoster\'s range announced whole by a large access '
      'network and found only by an aggregate.\n\n')

    w('## Data snapshots\n\n')
    w('Every source enabled in `sources/shared-data.toml` (the full build):\n\n')
    w('| source | format | tier | categories | snapshot |\n|---|---|---|---|---|\n')
    for s in sources:
        if s['name'] in enabled:
            w(f'| `{s["name"]}` | {s["format"]} | {s.get("tier", "first-party")} | '
              f'{", ".join(s.get("categories", [])) or "–"} | {s.get("snapshot", "undated")} |\n')
    return ''.join(d)


CATEGORY_NAMES = [(i, n) for i, n in enumerate(
    ['tor_exit', 'tor_relay', 'vpn', 'proxy', 'hosting', 'relay'])]

if __name__ == '__main__':
    main()
