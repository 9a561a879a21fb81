#!/usr/bin/env python3
"""Writes sources/shared-data.toml: a manifest over every file of ../shared/data that ipsieve can read,
with dates and licences from ../shared/data/SOURCES.md. No network."""
import os, re, textwrap
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
src=open(os.path.join(ROOT, '../shared/data/SOURCES.md')).read()
meta={}
for line in src.split('\n'):
    if not line.startswith('| `'): continue
    cols=[c.strip() for c in re.split(r'(?<!\\)\|', line.strip().strip('|'))]
    path=cols[0].strip('`')
    date=re.search(r'\d{4}-\d{2}-\d{2}', cols[4] if len(cols)>4 else '')
    lic=cols[6] if len(cols)>6 else ''
    meta[path]=(date.group(0) if date else None, lic)
S=[]
def add(name, fmt, path, cats=(), provider=None, tier='first-party', enabled=True, note=None, max_age=None, optional=False):
    S.append((name,fmt,path,cats,provider,tier,enabled,note,max_age,optional))
add('tor-exit-addresses','tor-exit-list','tor/exit-addresses/exit-addresses.gz',['tor_exit'],'Tor Project')
add('tor-consensus','tor-consensus','tor/consensus/cached-consensus.gz',[],'Tor Project')
add('tor-consensus-microdesc','tor-consensus','tor/consensus/cached-microdesc-consensus.gz',[],'Tor Project')
add('tor-bulk-exit-list','ip-list','tor/exit-addresses/torbulkexitlist',['tor_exit'],'Tor Project')
add('secops-tor-exits','ip-list','tor/secops-institute/tor-exit-nodes.lst',['tor_exit'],'Tor Project','curated')
add('secops-tor-nodes','ip-list','tor/secops-institute/tor-nodes.lst',['tor_relay'],'Tor Project','curated')
add('doodad-tor-exits','ip-list','tor/doodad-labs/2025-12-11/exit-nodes.txt',['tor_exit'],'Tor Project','curated')
add('doodad-tor-relays','ip-list','tor/doodad-labs/2025-12-11/relay-nodes.txt',['tor_relay'],'Tor Project','curated')
add('caida-pfx2as','pfx2as','bgp/pfx2as/routeviews-rv2-20240406.pfx2as.gz')
add('iptoasn','iptoasn','bgp/ip2asn/ip2asn-v4.tsv',tier='curated')
add('ip-location-db-asn-v4','ip-location-db-asn','bgp/ip-location-db-asn/asn-ipv4.csv.gz',tier='curated')
add('ip-location-db-asn-v6','ip-location-db-asn','bgp/ip-location-db-asn/asn-ipv6.csv.gz',tier='curated')
add('asnames','asnames','asn/asnames/asnames.txt.gz')
add('routeviews-rib-2014','mrt','bgp/mrt/rib.20140523.0600_firstMB.bz2',tier='curated',optional=True,note='an old RouteViews RIB cut after 1 MiB: its first prefixes, then a reported truncation (optional: the cut is in the file, the records before it count)')
add('routeviews-rib6-2015','mrt','bgp/mrt/rib6.20151101.0600_firstMB.bz2',tier='curated',optional=True,note='an old RouteViews IPv6 RIB cut after 1 MiB (optional, as above)')
add('iptoasn-country-mmdb','mmdb','mmdb/ip-location-db/iptoasn-country.mmdb',tier='curated')
add('rir-afrinic','rir-delegated','rir/delegated-afrinic-extended-latest.gz')
add('rir-apnic','rir-delegated','rir/delegated-apnic-latest.gz')
add('rir-lacnic','rir-delegated','rir/delegated-lacnic-latest.gz')
add('rir-ripencc-2014','rir-delegated','rir/stale/delegated-ripencc-latest.gz',enabled=False,note='stale (2014): a format sample, not data to build from')
add('aws','aws-ip-ranges','cloud/aws/ip-ranges.json.gz',['hosting'],'Amazon AWS')
add('google-cloud','google-cloud','cloud/google/cloud.json',['hosting'],'Google Cloud')
add('azure','azure-service-tags','cloud/azure/ServiceTags_Public.json.gz',['hosting'],'Microsoft Azure')
add('oracle-cloud','oracle-cloud','cloud/oracle/public_ip_ranges.json',['hosting'],'Oracle Cloud')
add('cloudflare-v4','ip-list','cloud/cloudflare/ips-v4',['hosting'],'Cloudflare')
add('cloudflare-v6','ip-list','cloud/cloudflare/ips-v6',['hosting'],'Cloudflare')
add('digitalocean-geofeed','geofeed','cloud/digitalocean/google.csv',['hosting'],'DigitalOcean')
add('linode-geofeed','geofeed','cloud/linode/geofeed.csv',['hosting'],'Linode')
add('vultr-geofeed','geofeed-json','cloud/vultr/geofeed.constant.com.json',['hosting'],'Vultr')
for p,prov in [('contabo','Contabo'),('hetzner','Hetzner'),('ibmcloud','IBM Cloud'),('leaseweb','Leaseweb'),('m247','M247'),('ovh','OVH'),('scaleway','Scaleway'),('vultr','Vultr')]:
    add(f'ip-fetcher-{p}','ip-fetcher',f'cloud/jonhadfield-cloud-ips/{p}.json',['hosting'],prov,'curated')
add('ip-fetcher-linode','geofeed-json','cloud/jonhadfield-cloud-ips/linode.json.gz',['hosting'],'Linode','curated')
add('x4bnet-datacenter-asns','asn-list','asn/x4bnet-lists_vpn/input/datacenter/ASN.txt',['hosting'],None,'asn-heuristic')
add('x4bnet-vpn-asns','asn-list','asn/x4bnet-lists_vpn/input/vpn/ASN.txt',['vpn'],None,'asn-heuristic')
add('bad-asn-list','bad-asn-list','asn/brianhama-bad-asn-list/bad-asn-list.csv',['hosting'],None,'asn-heuristic')
add('ipcat-datacenters','ipcat','asn/client9-ipcat/datacenters.csv',['hosting'],None,'curated')
add('x4bnet-datacenter','ip-list','vpn/x4bnet-lists_vpn/output/datacenter/ipv4.txt.gz',['hosting'],None,'curated')
for p,prov in [('airvpn','AirVPN'),('ivpn','IVPN'),('mullvad','Mullvad'),('ovpn','OVPN'),('pia','Private Internet Access'),('protonvpn','Proton VPN'),('riseupvpn','RiseupVPN'),('windscribe','Windscribe')]:
    add(f'vpn-{p}','ip-list',f'vpn/joe12387-open-source-vpn-ip-lists/{p}.txt',['vpn'],prov)
add('mullvad-relays-app','mullvad-relays','vpn/mullvad/app-v1-relays.json',['vpn'],'Mullvad')
add('mullvad-relays-selector','mullvad-relays','vpn/mullvad/relay-selector-relays.json.gz',['vpn'],'Mullvad')
add('x4bnet-vpn-mullvad','ip-list','vpn/x4bnet-lists_vpn/input/vpn/ips/mullvadvpn.txt',['vpn'],'Mullvad','curated')
add('x4bnet-vpn-protonvpn','ip-list','vpn/x4bnet-lists_vpn/input/vpn/ips/protonvpn.txt',['vpn'],'Proton VPN','curated')
add('x4bnet-vpn-pia','ip-list','vpn/x4bnet-lists_vpn/input/vpn/ips/pia.txt',['vpn'],'Private Internet Access','curated')
add('x4bnet-vpn-aggregate','ip-list','vpn/x4bnet-lists_vpn/output/vpn/ipv4.txt',['vpn'],None,'asn-heuristic',enabled=False,note='mixes in iCloud Private Relay ranges and ASN-wide blocks, which would flag relays and whole providers as vpn')
add('monosans-proxies','proxy-list','proxy/monosans-proxy-list/proxies/all.txt',['proxy'],None,'curated')
add('clarketm-proxies','proxy-list','proxy/clarketm-proxy-list/proxy-list-raw.txt',['proxy'],None,'curated',max_age=30)
add('icloud-private-relay-v4','ip-list','relay/icloud-private-relay/hroost/ipv4/ipv4-ranges.txt',['relay'],'iCloud Private Relay','curated')
add('icloud-private-relay-v6','ip-list','relay/icloud-private-relay/hroost/ipv6/ipv6-ranges.txt',['relay'],'iCloud Private Relay','curated')
add('x4bnet-icloud-private-relay','ip-list','relay/icloud-private-relay/x4bnet-apple.txt',['relay'],'iCloud Private Relay','curated')

# Files of ../shared/data not read, by path prefix, with the reason; written into the header.
# Every other data file must be one of the sources above (checked below).
LEFT_OUT=[
    ('mmdb/maxmind-test-data/', "MaxMind's test databases and their JSON sources: synthetic test data, not facts about the internet"),
    ('tor/collector/', 'CollecTor copies (a 2018 consensus cropped to 208 relays, a 2018 exit list): format samples for the parser tests, years older than the consensus and exit lists above'),
    ('tor/doodad-labs/2025-12-11/exit-nodes.csv', 'the same exits as exit-nodes.txt, on one comma-separated line'),
    ('tor/doodad-labs/2025-12-11/guard-nodes.txt', 'guard relays, a subset of relay-nodes.txt'),
    ('bgp/mrt/mrtparse-samples/', 'MRT lab samples (BIRD, OpenBGPD and Quagga test captures): parser test inputs, not routing data'),
    ('bgp/mrt/bview.20140112.1600_3samples.bz2', 'MRT lab sample: three RIS records without a peer index table'),
    ('bgp/mrt/bview.ipv4_unicast_add_path.gz', 'MRT lab sample: a 32-record RIS ADD-PATH excerpt'),
    ('bgp/mrt/bview.ipv6_unicast_add_path.gz', 'MRT lab sample: a 32-record RIS ADD-PATH excerpt'),
    ('bgp/mrt/expected-bgpdump-output/', "bgpdump's expected text output for the ADD-PATH samples, not an input"),
    ('bgp/mrt/bview.20020722.2337.gz', 'legacy RIS bview (TABLE_DUMP, 2002): routes 24 years old; the parser reads it in its tests'),
    ('bgp/mrt/bgpkit-updates.bz2', 'BGP4MP update messages, not a RIB: no table to take origins from'),
    ('bgp/ip-location-db-asn/MODIFICATIONS', 'notes of the npm package'),
    ('proxy/monosans-proxy-list/proxies/http.txt', 'per-protocol proxy list, a subset of proxies/all.txt'),
    ('proxy/monosans-proxy-list/proxies/socks4.txt', 'per-protocol proxy list, a subset of proxies/all.txt'),
    ('proxy/monosans-proxy-list/proxies/socks5.txt', 'per-protocol proxy list, a subset of proxies/all.txt'),
    ('proxy/monosans-proxy-list/proxies.json', 'the proxies of proxies/all.txt with metadata, in a JSON shape no parser reads'),
    ('proxy/clarketm-proxy-list/proxy-list.txt', 'the proxies of proxy-list-raw.txt with spys.me annotations'),
    ('proxy/clarketm-proxy-list/proxy-list-status.txt', 'liveness results for the same proxies, not a list'),
    ('rir/delegated-afrinic-latest.gz', 'the standard-format twin of the AFRINIC extended file above'),
    ('rir/delegated-lacnic-extended-latest.gz', 'an older LACNIC snapshot than delegated-lacnic-latest above'),
    ('rir/ip-location-db-asn-country/', 'the asn-country CSV (range, country): a derived country table in a format ipsieve does not read; the RIR files give registration countries'),
    ('vpn/x4bnet-lists_vpn/input/vpn/ips/Manual.txt', 'comments only, no entries'),
]
# Licence and documentation files beside the data.
DOCS=('SOURCES.md','LICENSE','README')
data_root=os.path.join(ROOT,'../shared/data')
used={s[2] for s in S}
for dirpath,_,files in os.walk(data_root):
    for f in files:
        rel=os.path.relpath(os.path.join(dirpath,f),data_root).replace(os.sep,'/')
        if rel in used or any(d in f for d in DOCS): continue
        assert any(rel.startswith(prefix) for prefix,_ in LEFT_OUT), f'{rel}: neither a source nor left out with a reason'

def q(s): return '"'+s.replace('\\','\\\\').replace('"','\\"')+'"'
out=['''# ipsieve source manifest over the whole shared data mirror (`../shared/data` beside the
# repository): every format ipsieve reads, at full size. Used by the full-size benches and
# evaluations; needs that folder (a fresh clone builds data/snapshot/sources.toml instead).
# Paths are relative to this file. Dates and licences are taken from ../shared/data/SOURCES.md.
# GENERATED by tools/gen-shared-manifest.py - edit that script, not this file.
#
# The ASN lists apply to every range whose origin AS they name (tier asn-heuristic): whole-ASN
# evidence, weaker than a provider's own list.
#
# Not here (every other file of ../shared/data is a source below):
''']
for prefix,why in LEFT_OUT:
    out[0]+='\n'.join(textwrap.wrap(f'{prefix}: {why}.', 98, initial_indent='# - ', subsequent_indent='#   ', break_on_hyphens=False))+'\n'
out.append('''# Hosting inferred from AS names (tier keyword, docs/INTELLIGENCE.md "AS-name keywords").
as_name_keywords = true

# Hosting inferred from VPN servers (tier asn-heuristic, docs/INTELLIGENCE.md "VPN co-location").
vpn_colocation = true
''')
for (name,fmt,path,cats,prov,tier,enabled,note,max_age,optional) in S:
    date,lic=meta.get(path,(None,''))
    out.append('[[source]]')
    if note: out.insert(len(out)-1, f'# {name}: {note}')
    out.append(f'name = {q(name)}')
    out.append(f'format = {q(fmt)}')
    out.append(f'path = {q("../../shared/data/"+path)}')
    if cats: out.append('categories = ['+', '.join(q(c) for c in cats)+']')
    if prov: out.append(f'provider = {q(prov)}')
    out.append(f'tier = {q(tier)}')
    if date: out.append(f'snapshot = {q(date)}')
    if lic: out.append(f'licence = {q(re.sub(r"`","",lic))}')
    if max_age: out.append(f'max_age_days = {max_age}')
    if not enabled: out.append('enabled = false')
    if optional: out.append('optional = true')
    out.append('')
    assert path in meta, path
open(os.path.join(ROOT, 'sources/shared-data.toml'), 'w').write('\n'.join(out))
print(len(S),'sources')
