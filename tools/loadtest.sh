#!/usr/bin/env bash
# Load test of `ipsieve serve` on loopback (issue 16; figures in docs/BENCHMARKS.md, "ipsieve
# serve under load"). Builds the release binary and an artifact (the full set from
# ../shared/data through sources/shared-data.toml when it is there, else the vendored
# snapshot; it says which), starts the server on 127.0.0.1, and drives it with wrk, each run
# bounded in time:
#
#   1. GET /ip/{ip}      rotating over 16 addresses (Tor, VPN, cloud, relay, private, IPv6, …)
#   2. POST /v1/check    the same addresses
#   3. GET /ip/{ip}      while the artifact is replaced ten times (renamed over, as `ipsieve
#                        build` publishes); the server must count ten reloads and no errors.
#
# Each run fails the script on any socket error or non-2xx answer. Environment: DURATION (10s),
# CONNECTIONS (64), THREADS (wrk threads, 1: the server gets the other core's share).
# Installs wrk with apt-get when run as root and it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-1}

if ! command -v wrk >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
    else
        echo "loadtest: wrk is missing: apt-get install wrk (or run as root)" >&2
        exit 1
    fi
fi

cargo build --release --locked -p ipsieve-cli
bin=target/release/ipsieve
work=$(mktemp -d /tmp/ipsieve-loadtest.XXXXXX)
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

if [ -d ../shared/data ]; then
    data="the full set (sources/shared-data.toml over ../shared/data)"
    "$bin" build --sources sources/shared-data.toml --out "$work/built.db" >"$work/build.log"
else
    data="the vendored snapshot (data/snapshot; ../shared/data is absent)"
    "$bin" build --out "$work/built.db" >"$work/build.log"
fi
cp "$work/built.db" "$work/live.db"
echo "loadtest: artifact from $data: $(stat -c %s "$work/built.db") bytes"

busy=$(pgrep -c rustc || true)
if [ "$busy" != 0 ]; then
    echo "loadtest: WARNING: $busy rustc processes are running: the figures below are contended"
fi

RUST_LOG=warn "$bin" serve --db "$work/live.db" --listen 127.0.0.1:0 --poll-interval 200ms \
    >"$work/url" 2>"$work/server.log" &
pid=$!
for _ in $(seq 100); do
    [ -s "$work/url" ] && break
    sleep 0.05
done
url=$(head -1 "$work/url")
[ -n "$url" ] || { cat "$work/server.log" >&2; exit 1; }
echo "loadtest: server at $url (pid $pid), $(nproc) cores, wrk -t$THREADS -c$CONNECTIONS -d$DURATION"

cat >"$work/ips.lua" <<'LUA'
ips = { "185.220.101.1", "185.241.208.232", "23.144.160.67", "2.58.241.66", "3.5.140.1",
        "34.1.208.1", "104.28.28.1", "2606:54c0::1", "1.1.1.1", "8.8.8.8", "10.0.0.1",
        "192.0.2.1", "2001:db8::1", "81.2.69.142", "2a00:1450:4001::1", "::ffff:185.241.208.232" }
i = 0
LUA
cat "$work/ips.lua" - >"$work/get.lua" <<'LUA'
request = function()
    i = i % #ips + 1
    return wrk.format("GET", "/ip/" .. ips[i])
end
LUA
cat "$work/ips.lua" - >"$work/check.lua" <<'LUA'
request = function()
    i = i % #ips + 1
    return wrk.format("POST", "/v1/check", { ["Content-Type"] = "application/json" },
        '{"ip":"' .. ips[i] .. '"}')
end
LUA

# Runs wrk with a Lua script; prints its report and fails on errors.
run() {
    local name=$1 script=$2
    echo
    echo "== $name (rustc processes running: $(pgrep -c rustc || true); load average $(cut -d' ' -f1-3 /proc/loadavg))"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$script" "$url" | tee "$work/$name.txt"
    if grep -q -e "Non-2xx" -e "Socket errors" "$work/$name.txt"; then
        echo "loadtest: $name: errors (above)" >&2
        exit 1
    fi
}

# A few requests first, so that the first run does not measure connection set-up alone.
curl -fsS "$url/ip/185.220.101.1" >/dev/null
run get-ip "$work/get.lua"
run post-check "$work/check.lua"

reloads_before=$(curl -fsS "$url/internal/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["reloads"])')
(
    # Ten replacements spread over the run.
    secs=${DURATION%s}
    gap=$(python3 -c "print(max(0.3, $secs / 11))")
    for _ in $(seq 10); do
        sleep "$gap"
        cp "$work/built.db" "$work/live.tmp"
        mv "$work/live.tmp" "$work/live.db"
    done
) &
replacer=$!
run get-ip-while-replaced "$work/get.lua"
wait "$replacer"
for _ in $(seq 100); do
    reloads=$(curl -fsS "$url/internal/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["reloads"])')
    [ $((reloads - reloads_before)) -ge 10 ] && break
    sleep 0.1
done
echo
echo "loadtest: reloads during the third run: $((reloads - reloads_before)) (want 10)"
[ $((reloads - reloads_before)) = 10 ] || exit 1
curl -fsS "$url/internal/stats"
echo
curl -fsS "$url/metrics" | grep -E '^ipsieve_(reloads_total|lookups_total|serve_requests_total\{.*status="[45])'
kill -TERM "$pid"
wait "$pid"
pid=
echo "loadtest: the server drained and exited 0"
