#!/bin/sh
# Seeds each target's corpus from the real fixtures, then runs every cargo-fuzz target for
# SECONDS (default 60) seconds, one after another, printing "target seconds executions" lines
# and keeping each log in logs/<target>.log. Crashes land in artifacts/<target>/; minimise one
# with `cargo fuzz tmin TARGET FILE` and copy it to regressions/<target>/.
#
# The parser targets come from the registry of source formats (ipsieve_sources::formats): one
# "parse_<module>" per format, each the parse_format binary with IPSIEVE_FUZZ_FORMAT=<module>,
# its corpus seeded from the fixtures the registry names. A new format needs nothing here.
# Usage, from fuzz/:  RUSTC_BOOTSTRAP=1 ./run-all.sh [SECONDS] [TARGET...]
set -eu
secs=${1:-60}
[ $# -gt 0 ] && shift
fixtures=../data-sources/tests/fixtures

# MODULE<TAB>NAME<TAB>FIXTURE-PREFIX... per registered format.
registry=$(cargo run --quiet --locked --manifest-path ../Cargo.toml -p ipsieve-sources \
    --features mmdb --example formats)
formats=$(printf '%s\n' "$registry" | cut -f1)

if [ $# -gt 0 ]; then
    targets=$*
else
    targets="open_artifact open_artifact_header build_roundtrip parse_sources"
    for m in $formats; do targets="$targets parse_$m"; done
fi

# The fixture-name prefixes that seed a target's corpus (every format's for parse_sources).
seeds() {
    case $1 in
    parse_sources) printf '%s\n' "$registry" | cut -f3- | tr '\t' ' ' ;;
    parse_*) printf '%s\n' "$registry" | awk -F'\t' -v m="${1#parse_}" \
        '$1 == m { for (i = 3; i <= NF; i++) printf "%s ", $i }' ;;
    esac
}

mkdir -p logs
for t in $targets; do
    mkdir -p "corpus/$t"
    for prefix in $(seeds "$t"); do
        for f in "$fixtures/$prefix"*; do
            [ -f "$f" ] || continue
            cp "$f" "corpus/$t/"
        done
    done
    # A format's target is the one parse_format binary, told which format to parse.
    bin=$t
    case $t in
    parse_sources) ;;
    parse_*)
        bin=parse_format
        IPSIEVE_FUZZ_FORMAT=${t#parse_}
        export IPSIEVE_FUZZ_FORMAT
        ;;
    esac
    # The artifact targets need room for a whole artifact (the golden one seeds open_artifact):
    # format 2's smallest is 1.6 MB (its top tables and spans alone), the golden 1,640,064 bytes.
    set -- "corpus/$t"
    [ "$t" = open_artifact ] && set -- "$@" ../lookup/tests/golden
    len=""
    case $t in open_artifact*) len=-max_len=1700000 ;; esac
    cargo fuzz run "$bin" "$@" -- -max_total_time="$secs" -timeout=10 $len \
        >"logs/$t.log" 2>&1 || echo "$t: FAILED, see logs/$t.log"
    runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "logs/$t.log" | tail -1)
    echo "$t $secs ${runs:-?}"
done
