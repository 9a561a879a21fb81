#!/usr/bin/env python3
"""Writes sources/shared-data.toml: a manifest over every file of ../shared/data that ipsieve can read,
with dates and licences from ../shared/data/SOURCES.md. No network."""
import os, re
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
def add(name, fmt, path, cats=(), provider=None, tier='first-party', enabled=True, note=None, max_age=None):
    S.append((name,fmt,path,cats,provider,tier,enabled,note,max_age))
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
add('routeviews-rib-2014','mrt','bgp/mrt/rib.20140523.0600_firstMB.bz2',tier='curated',note='an old RouteViews RIB cut after 1 MiB: its first prefixes, then a reported truncation')
add('routeviews-rib6-2015','mrt','bgp/mrt/rib6.20151101.0600_firstMB.bz2',tier='curated',note='an old RouteViews IPv6 RIB cut after 1 MiB')
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

def q(s): return '"'+s.replace('\\','\\\\').replace('"','\\"')+'"'
out=['''# ipsieve source manifest over the whole shared data mirror (`../shared/data` beside the
# repository): every format ipsieve reads, at full size. Used by the full-size benches and
# evaluations; needs that folder (a fresh clone builds data/snapshot/sources.toml instead).
# Paths are relative to this file. Dates and licences are taken from ../shared/data/SOURCES.md.
# GENERATED by tools/gen-shared-manifest.py - edit that script, not this file.
#
# Not here: MaxMind's test databases (synthetic test data, not facts about the internet).
# The ASN lists apply to every range whose origin AS they name (tier asn-heuristic): whole-ASN
# evidence, weaker than a provider's own list.
''']
for (name,fmt,path,cats,prov,tier,enabled,note,max_age) in S:
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
    out.append('')
    assert path in meta, path
open(os.path.join(ROOT, 'sources/shared-data.toml'), 'w').write('\n'.join(out))
print(len(S),'sources')
