#!/usr/bin/env bash
# Caravan benchmark: drain throughput, pickup delay under trickle load, idle cost, peak memory and
# start-up time of one Caravan process with no-op jobs. Not part of the test suite.
#
#   bench/run.sh                          # embedded PostgreSQL (started by the jar itself)
#   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test bench/run.sh   # a server you give
#
# Needs: a JDK, psql, and (for the embedded default) nothing else. Every loop is bounded in count and
# time. Prints one table and appends the run to bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."

JOBS=${BENCH_JOBS:-100000}              # drain: jobs queued before the worker starts claiming
TRICKLE=${BENCH_TRICKLE:-200}           # pickup: jobs inserted one by one ...
TRICKLE_GAP_MS=${BENCH_TRICKLE_GAP_MS:-50}   # ... this far apart
CONCURRENCY=${BENCH_CONCURRENCY:-50}
IDLE_SECONDS=${BENCH_IDLE_SECONDS:-10}
MAX_WAIT=${BENCH_MAX_WAIT_SECONDS:-600}  # no phase waits longer than this
# BENCH_EXTRA_ENV="NAME=value …" passes extra settings to the worker (e.g. JMX_ENABLED=false);
# BENCH_DB_SETTINGS="synchronous_commit = off" sets one on the benchmark's database (server mode only)

[ -f target/caravan.jar ] || ./mvnw -q -B package -DskipTests
work=$(mktemp -d)
log="$work/caravan.log"
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

if [ -n "${BENCH_DATABASE_URL:-}" ]; then
  db="bench_$(date +%s)"
  admin="$BENCH_DATABASE_URL"
  psql "$admin" -qAtc "CREATE DATABASE $db" >/dev/null
  [ -n "${BENCH_DB_SETTINGS:-}" ] && psql "$admin" -qAtc "ALTER DATABASE $db SET $BENCH_DB_SETTINGS" >/dev/null
  url="${admin%/*}/$db"
  env_db=(DATABASE_URL="$url")
  where="server ${admin%%\?*}"
else
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  url="postgresql://postgres@127.0.0.1:$port/postgres"
  env_db=(CARAVAN_DATA_DIR="$work/data" CARAVAN_EMBEDDED_PG_PORT="$port")
  where="embedded"
fi
sql() { psql "$url" -qAtX -v ON_ERROR_STOP=1 -c "$1"; }

start_ms=$(date +%s%3N)
env "${env_db[@]}" CARAVAN_ROUTES_DIR="$PWD/bench/routes" WORKER_CONCURRENCY="$CONCURRENCY" \
    WORKER_ID=bench CLEANUP_ENABLED=false ${BENCH_EXTRA_ENV:-} MANAGEMENT_ENABLED=false API_PORT=0 POLL_INTERVAL=1000 \
    java -jar target/caravan.jar >"$log" 2>&1 &
pid=$!
for _ in $(seq 1 "$MAX_WAIT"); do grep -q "claims every job type" "$log" && break; sleep 0.2; done
grep -q "claims every job type" "$log" || { echo "Caravan did not start:"; tail -20 "$log"; exit 1; }
ready_ms=$(date +%s%3N)
startup_ms=$((ready_ms - start_ms))

# 1. idle cost: statements per second while there is no work (pg_stat_database counts transactions)
sql "SELECT pg_stat_reset()" >/dev/null
sleep 1
t0=$(sql "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()")
sleep "$IDLE_SECONDS"
t1=$(sql "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()")
# our own two SELECTs count too
idle=$(python3 -c "print(round(($t1 - $t0 - 1) / $IDLE_SECONDS, 2))")

# 2. drain: queue every job at once, due a little later, so the worker meets a full queue
due_in=$(( JOBS / 20000 + 10 ))
sql "INSERT INTO job_queue (job_type, job_name, job_payload, scheduled_at)
     SELECT 'bench_noop', 'drain', '{}', now() + interval '$due_in seconds' FROM generate_series(1, $JOBS)"
sql "VACUUM ANALYZE job_queue" >/dev/null
deadline=$(( $(date +%s) + MAX_WAIT ))
rss_peak=0
while :; do
  left=$(sql "SELECT count(*) FROM job_queue WHERE job_name = 'drain' AND status <> 'completed'")
  rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
  [ "$rss" -gt "$rss_peak" ] && rss_peak=$rss
  [ "$left" -eq 0 ] && break
  [ "$(date +%s)" -gt "$deadline" ] && { echo "drain did not finish in ${MAX_WAIT}s ($left left)"; break; }
  sleep 0.2
done
drain_ms=$(sql "SELECT (extract(epoch FROM max(completed_at) - min(started_at)) * 1000)::bigint FROM job_queue WHERE job_name = 'drain'")
done_jobs=$(sql "SELECT count(*) FROM job_queue WHERE job_name = 'drain' AND status = 'completed'")
throughput=$(python3 -c "print(round($done_jobs / max($drain_ms, 1) * 1000))")
hwm=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)

# 3. pickup delay: one due job every TRICKLE_GAP_MS; delay = started_at - created_at
for _ in $(seq 1 "$TRICKLE"); do
  sql "INSERT INTO job_queue (job_type, job_name, job_payload) VALUES ('bench_noop', 'trickle', '{}')"
  sleep "$(python3 -c "print($TRICKLE_GAP_MS / 1000)")"
done
for _ in $(seq 1 100); do
  [ "$(sql "SELECT count(*) FROM job_queue WHERE job_name = 'trickle' AND status <> 'completed'")" -eq 0 ] && break
  sleep 0.1
done
read -r p50 p99 <<<"$(sql "SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY d)::numeric, 1),
                                  round(percentile_cont(0.99) WITHIN GROUP (ORDER BY d)::numeric, 1)
                             FROM (SELECT extract(epoch FROM started_at - created_at) * 1000 AS d
                                     FROM job_queue WHERE job_name = 'trickle') x" | tr '|' ' ')"

machine="$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(java -version 2>&1 | head -1)"
table=$(cat <<TABLE
| figure | value |
|---|---|
| database | $where |
| start-up to ready (ms) | $startup_ms |
| drain: jobs, time (ms), jobs/s | $done_jobs, $drain_ms, $throughput |
| pickup delay p50 / p99 (ms), $TRICKLE jobs every ${TRICKLE_GAP_MS} ms | $p50 / $p99 |
| idle statements per second | $idle |
| resident memory: peak during drain / high-water mark (MB) | $((rss_peak / 1024)) / $((hwm / 1024)) |
TABLE
)
echo "$table"
{
  echo
  echo "## $(date -u +%Y-%m-%dT%H:%MZ) — $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo
  echo "Machine: $machine. Concurrency $CONCURRENCY, $JOBS drain jobs."
  echo
  echo "$table"
} >> bench/RESULTS.md
