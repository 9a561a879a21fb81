#!/usr/bin/env bash
# The nightly data build, run locally or by .github/workflows/nightly.yml:
#
#   fetch (unless offline) -> build into a staging directory inside the publish directory ->
#   ipsieve verify -> ipsieve diff against the published artifact with the shrink guard ->
#   publish the artifact, its build report and an ATTRIBUTION file, each by rename.
#
# The published artifact is never written to: a new one replaces it by rename(2), and only once
# every check passed. When a check fails the old artifact stays exactly as it was.
#
# Exit status: 0 published (or unchanged), 1 a step failed, 2 usage, 3 the shrink guard (or the
# diff against the published artifact) stopped the publish.
set -euo pipefail

usage() {
    cat <<'EOF'
usage: scripts/nightly.sh [options]

  --sources FILE      source manifest        (env IPSIEVE_SOURCES, default sources/default.toml)
  --cache DIR         fetch cache            (env IPSIEVE_CACHE, default ./cache)
  --publish DIR       publish directory      (env IPSIEVE_PUBLISH, default ./publish)
  --max-shrink PCT    shrink guard, percent  (env IPSIEVE_MAX_SHRINK, default 20)
  --offline           do not fetch: build from the cache and the manifest's local paths
                      (env IPSIEVE_OFFLINE=1)
  --ipsieve PATH      the ipsieve binary     (env IPSIEVE_BIN, default: ipsieve on PATH;
                      `cargo install --path cli` puts it there, `cargo build --release
                      -p ipsieve-cli` makes target/release/ipsieve)

Publishes DIR/ipsieve.db, DIR/report.json (ipsieve build --report-json) and
DIR/ATTRIBUTION (every source with its licence, URL and snapshot date). Set SOURCE_DATE_EPOCH
for a reproducible build time; an artifact byte-identical to the published one is left alone.
EOF
}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
sources=${IPSIEVE_SOURCES:-$repo/sources/default.toml}
cache=${IPSIEVE_CACHE:-cache}
publish=${IPSIEVE_PUBLISH:-publish}
max_shrink=${IPSIEVE_MAX_SHRINK:-20}
offline=${IPSIEVE_OFFLINE:-0}
ipsieve=${IPSIEVE_BIN:-ipsieve}

while (($#)); do
    case $1 in
        --sources | --cache | --publish | --max-shrink | --ipsieve)
            if (($# < 2)); then
                echo "nightly: $1 needs a value" >&2
                exit 2
            fi
            case $1 in
                --sources) sources=$2 ;;
                --cache) cache=$2 ;;
                --publish) publish=$2 ;;
                --max-shrink) max_shrink=$2 ;;
                --ipsieve) ipsieve=$2 ;;
            esac
            shift 2
            ;;
        --offline)
            offline=1
            shift
            ;;
        -h | --help)
            usage
            exit 0
            ;;
        *)
            echo "nightly: unknown argument $1 (see --help)" >&2
            exit 2
            ;;
    esac
done

say() { echo "nightly: $*"; }
die() {
    echo "nightly: $*" >&2
    exit 1
}

command -v "$ipsieve" >/dev/null ||
    die "no ipsieve binary at '$ipsieve': pass --ipsieve PATH (cargo build --release -p ipsieve-cli makes target/release/ipsieve)"
command -v python3 >/dev/null || die "python3 is needed to write ATTRIBUTION: install it"
[[ -f $sources ]] || die "no manifest at $sources: pass --sources FILE"

mkdir -p "$publish" "$cache"
artifact=ipsieve.db
published=$publish/$artifact

# One run at a time per publish directory: two runs would each pass the guard against the same
# old artifact.
if command -v flock >/dev/null; then
    exec 9>"$publish/.nightly.lock"
    flock -n 9 || die "another run holds $publish/.nightly.lock"
fi

# Staged in the publish directory itself, so publishing is a rename within one file system.
stage=$(mktemp -d "$publish/.staging.XXXXXX")
trap 'rm -rf "$stage"' EXIT

if [[ $offline == 1 ]]; then
    say "offline: not fetching; what the cache holds:"
    "$ipsieve" fetch --offline --sources "$sources" --cache "$cache" ||
        die "a source is neither in the cache nor given a local path: fetch it first"
else
    say "fetching into $cache"
    # A failed download keeps the cached copy it would have replaced; build from that.
    "$ipsieve" fetch --sources "$sources" --cache "$cache" ||
        echo "nightly: warning: some sources failed to fetch; building from their cached copies" >&2
fi

say "building"
"$ipsieve" build --sources "$sources" --cache "$cache" --out "$stage/$artifact" \
    --report-json "$stage/report.json" || die "the build failed: nothing published"

"$ipsieve" verify "$stage/$artifact" || die "the new artifact failed verification: nothing published"

if [[ -f $published ]]; then
    if cmp -s "$published" "$stage/$artifact"; then
        say "unchanged: $published is byte-identical to the new build; left as it is"
        exit 0
    fi
    say "comparing with $published (--max-shrink $max_shrink)"
    if ! "$ipsieve" diff "$published" "$stage/$artifact" --max-shrink "$max_shrink"; then
        echo "nightly: NOT PUBLISHED: the shrink guard stopped the new artifact (offenders named" \
            "above); $published is left as it was" >&2
        exit 3
    fi
else
    say "no published artifact yet: nothing to compare with"
fi

"$ipsieve" stats --json "$stage/$artifact" | python3 -c '
import json, sys
db, name = json.load(sys.stdin), sys.argv[1]
meta = db.get("metadata") or {}
field = lambda k, v: "  %s: %s" % (k, v if v is not None else "not stated")
print("Attribution for %s, built %s (Unix %s)." % (name, db["built"], db["build_time"]))
print("It is compiled from the data of the sources below; each source\x27s licence or terms")
print("apply to what it contributed.")
for s in db["sources"]:
    print()
    print(s["name"])
    if s.get("provider") is not None:
        print(field("provider", s["provider"]))
    for k in ("licence", "url", "snapshot"):
        print(field(k, s.get(k)))
    for k in ("fetched", "sha256"):
        v = meta.get("source.%s.%s" % (s["name"], k))
        if v is not None:
            print(field(k, v))
' "$artifact" >"$stage/ATTRIBUTION" || die "could not write ATTRIBUTION: nothing published"

# The sidecars first, the artifact last: a service never serves data whose sources the
# published ATTRIBUTION does not list.
mv -f "$stage/report.json" "$publish/report.json"
mv -f "$stage/ATTRIBUTION" "$publish/ATTRIBUTION"
mv -f "$stage/$artifact" "$published"
say "published $published"
