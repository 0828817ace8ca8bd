#!/usr/bin/env bash
# START_CMD of the relaygate row in ../shared/bench/run-peers.sh (see `npm run bench:peers`).
# Fresh state every run: renders relaygate.yaml with the harness's SINK_PORT into $PB/relaygate/,
# applies tenants.yaml to a new SQLite store there, then runs `serve` in the foreground (the harness
# TERMs the process group after the run). Log: $PB/relaygate.log.
# RELAYGATE_BENCH_NODE_ARGS: extra node flags, e.g. "--cpu-prof --cpu-prof-dir=/tmp/peerbench/prof".
# RELAYGATE_BENCH_DKIM=1: the tenant gets an RSA-2048 key for bench.local (smtp-source's From), so
# every message is signed. RELAYGATE_BENCH_PREFILL=N: N deferred messages queued before serve starts.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
MAIN=$(cd "$HERE/../.." && pwd)
PB=${PB:-/tmp/peerbench}
SINK_PORT=${SINK_PORT:-25251}
case "$SINK_PORT" in ''|*[!0-9]*) echo "SINK_PORT must be a port number, got '$SINK_PORT'" >&2; exit 2;; esac
BIN=$MAIN/dist/src/cli/main.js
[ -f "$BIN" ] || { echo "$BIN missing: run npm run build" >&2; exit 2; }
RUN=$PB/relaygate
rm -rf "$RUN"
mkdir -p "$RUN"
sed "s/\${SINK_PORT}/$SINK_PORT/g" "$HERE/relaygate.yaml" > "$RUN/relaygate.yaml"
cp "$HERE/tenants.yaml" "$RUN/tenants.yaml"
cd "$RUN"
node "$BIN" apply -f tenants.yaml --config relaygate.yaml >/dev/null
if [ -n "${RELAYGATE_BENCH_DKIM:-}" ]; then
  node "$BIN" dkim generate --tenant bench --domain bench.local --selector bench --config relaygate.yaml >/dev/null
fi
if [ "${RELAYGATE_BENCH_PREFILL:-0}" -gt 0 ]; then
  node "$MAIN/dist/bench/peers/prefill-queue.js" ./data "$RELAYGATE_BENCH_PREFILL" >/dev/null
fi
# shellcheck disable=SC2086  # word splitting of the extra flags is intended
exec node ${RELAYGATE_BENCH_NODE_ARGS:-} "$BIN" serve --config relaygate.yaml >>"$PB/relaygate.log" 2>&1
