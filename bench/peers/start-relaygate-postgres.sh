#!/usr/bin/env bash
# START_CMD of the relaygate-pg-N rows of the peer benchmark (bench/peers/run-postgres.sh): N
# `relaygate serve` nodes on one fresh PostgreSQL database (RELAYGATE_BENCH_PG_URL names the server;
# the database relaygate_bench on it is dropped and made again), behind a round-robin TCP balancer on
# 127.0.0.1:$1 when N > 1. Usage: start-relaygate-postgres.sh PORT NODES
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
MAIN=$(cd "$HERE/../.." && pwd)
PB=${PB:-/tmp/peerbench}
PORT=$1 NODES=$2
SINK_PORT=${SINK_PORT:-25251}
: "${RELAYGATE_BENCH_PG_URL:?set RELAYGATE_BENCH_PG_URL to a PostgreSQL server the benchmark may create a database on}"
BIN=$MAIN/dist/src/cli/main.js
RUN=$PB/relaygate-pg
rm -rf "$RUN"
mkdir -p "$RUN"
DB_URL=$(cd "$MAIN" && node --input-type=module -e "
  import pg from 'pg';
  const admin = new pg.Client({ connectionString: process.env.RELAYGATE_BENCH_PG_URL });
  await admin.connect();
  await admin.query('DROP DATABASE IF EXISTS relaygate_bench WITH (FORCE)');
  await admin.query('CREATE DATABASE relaygate_bench');
  await admin.end();
  const u = new URL(process.env.RELAYGATE_BENCH_PG_URL); u.pathname = '/relaygate_bench'; console.log(u.toString());")
export RELAYGATE_STORE_URL=$DB_URL
cp "$HERE/tenants.yaml" "$RUN/tenants.yaml"
for n in $(seq "$NODES"); do
  listen=$(( NODES == 1 ? PORT : PORT + n ))
  sed -e "s/\${SINK_PORT}/$SINK_PORT/g" -e "s/127.0.0.1:25260/127.0.0.1:$listen/" -e "s/^hostname: .*/hostname: relaygate-bench-$n.local\nnodeId: bench-$n/" \
    -e "s#^dataDir: .*#dataDir: ./data$n#" "$HERE/relaygate.yaml" > "$RUN/node$n.yaml"
done
cd "$RUN"
node "$BIN" apply -f tenants.yaml --config node1.yaml >/dev/null
pids=()
# Each node's admin API on a port of its own choosing: nodes on one machine would share 8025.
for n in $(seq "$NODES"); do RELAYGATE_ADMIN_ADDRESS=127.0.0.1:0 node "$BIN" serve --config "node$n.yaml" >>"$PB/relaygate-pg.log" 2>&1 & pids+=($!); done
if [ "$NODES" -gt 1 ]; then
  targets=$(for n in $(seq "$NODES"); do printf '%s ' $(( PORT + n )); done)
  # The harness starts sending once PORT listens: open it only when every node does.
  for p in $targets; do for _ in $(seq 150); do ss -ltnH "sport = :$p" | grep -q . && break; sleep 0.2; done; done
  # shellcheck disable=SC2086
  node "$HERE/balancer.mjs" "$PORT" $targets & pids+=($!)
fi
wait "${pids[@]}"
