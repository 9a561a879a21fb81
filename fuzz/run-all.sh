#!/bin/sh
# Seeds each target's corpus from the real fixtures, then runs every cargo-fuzz target for
# SECONDS (default 60) seconds, one after another, printing "target seconds executions" lines
# and keeping each log in logs/<target>.log. Crashes land in artifacts/<target>/; minimise one
# with `cargo fuzz tmin TARGET FILE` and copy it to regressions/<target>/.
# Usage, from fuzz/:  RUSTC_BOOTSTRAP=1 ./run-all.sh [SECONDS] [TARGET...]
set -eu
secs=${1:-60}
[ $# -gt 0 ] && shift
fixtures=../data-sources/tests/fixtures
targets=${*:-$(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | grep -v '^ipsieve-fuzz$')}

# The fixture file-name patterns of each parser target (as data-sources/tests/fuzz_replay.rs).
seeds() {
    case $1 in
    parse_tor) echo "tor-exit-addresses* tor-collector-2018-11-02*" ;;
    parse_tor_consensus) echo "tor-consensus-* tor-collector-2018-06-01*" ;;
    parse_plain) echo "cloudflare-ips* doodad-exit-nodes.txt secops-tor* tor-torbulkexitlist* icloud-ipv4*" ;;
    parse_aws) echo "aws-*" ;;
    parse_google) echo "google-*" ;;
    parse_pfx2as) echo "routeviews-*" ;;
    parse_asnames) echo "asnames*" ;;
    parse_iptoasn) echo "ip2asn-*" ;;
    parse_ip_location_db) echo "ip-location-db-*" ;;
    parse_asn_list) echo "x4bnet-*" ;;
    parse_bad_asn) echo "bad-asn-*" ;;
    parse_ipcat) echo "ipcat-*" ;;
    parse_azure) echo "azure-*" ;;
    parse_oracle) echo "oracle-*" ;;
    parse_geofeed_json) echo "vultr-geofeed*" ;;
    parse_ipfetcher) echo "ipfetcher-*" ;;
    parse_mullvad) echo "mullvad-*" ;;
    parse_rir) echo "rir-*" ;;
    parse_proxy) echo "proxy-*" ;;
    parse_geofeed) echo "geofeed-*" ;;
    parse_icloud) echo "icloud-egress*" ;;
    parse_mrt) echo "mrt-*" ;;
    parse_mmdb) echo "mmdb-*.mmdb" ;;
    esac
}

mkdir -p logs
for t in $targets; do
    mkdir -p "corpus/$t"
    for pattern in $(seeds "$t"); do
        for f in $fixtures/$pattern; do
            [ -f "$f" ] || continue
            cp "$f" "corpus/$t/"
        done
    done
    # The artifact targets need room for a whole artifact (the golden one seeds open_artifact):
    # format 2's smallest is 1.6 MB (its top tables and spans alone), the golden 1,640,064 bytes.
    set -- "corpus/$t"
    [ "$t" = open_artifact ] && set -- "$@" ../lookup/tests/golden
    len=""
    case $t in open_artifact*) len=-max_len=1700000 ;; esac
    cargo fuzz run "$t" "$@" -- -max_total_time="$secs" -timeout=10 $len \
        >"logs/$t.log" 2>&1 || echo "$t: FAILED, see logs/$t.log"
    runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "logs/$t.log" | tail -1)
    echo "$t $secs ${runs:-?}"
done
