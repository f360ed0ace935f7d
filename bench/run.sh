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
IDLE_SECONDS=${BENCH_IDLE_SECONDS:-20}
MAX_WAIT=${BENCH_MAX_WAIT_SECONDS:-600}  # no phase waits longer than this
SCALE=${BENCH_SCALE:-2 4}               # scale-out: the drain again with this many worker processes
# BENCH_EXTRA_ENV="NAME=value …" passes extra settings to the worker (e.g. JMX_ENABLED=false);
# BENCH_JAVA_OPTS="…" adds JVM options after jvm.options (e.g. -XX:TieredStopAtLevel=4 to compare);
# BENCH_DB_SETTINGS="synchronous_commit = off" sets one on the benchmark's database (server mode only)

[ -f target/caravan.jar ] || ./mvnw -q -B package -DskipTests
work=$(mktemp -d)
log="$work/caravan.log"
pid=""
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null; done; for p in $pids; do wait "$p" 2>/dev/null; done; rm -rf "$work"; }
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

# start_worker ID LOG: one Caravan process with the no-op pipeline, its pid in $started
start_worker() {
  env "${env_db[@]}" CARAVAN_ROUTES_DIR="$PWD/bench/routes" WORKER_CONCURRENCY="$CONCURRENCY" \
      WORKER_ID="$1" CLEANUP_ENABLED=false ${BENCH_EXTRA_ENV:-} MANAGEMENT_ENABLED=false API_PORT=0 POLL_INTERVAL=1000 \
      java @jvm.options ${BENCH_JAVA_OPTS:-} -jar target/caravan.jar >"$2" 2>&1 &
  started=$!
  pids="$pids $started"
}
await_ready() {  # LOG: waits (bounded) for the worker's first claim
  for _ in $(seq 1 $((MAX_WAIT * 20))); do grep -q "claims every job type" "$1" && return 0; sleep 0.05; done
  echo "Caravan did not start:"; tail -20 "$1"; exit 1
}

start_ms=$(date +%s%3N)
start_worker bench "$log"
pid=$started
await_ready "$log"
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

# drain NAME: queues $JOBS jobs named NAME at once, due a little later so the workers meet a full
# queue, waits (bounded) until they are all completed; sets drain_ms, done_jobs, throughput and
# rss_peak (of the first worker)
drain() {
  local due_in=$(( JOBS / 20000 + 10 )) deadline left rss
  sql "INSERT INTO job_queue (job_type, job_name, job_payload, scheduled_at)
       SELECT 'bench_noop', '$1', '{}', now() + interval '$due_in seconds' FROM generate_series(1, $JOBS)"
  sql "VACUUM ANALYZE job_queue" >/dev/null
  deadline=$(( $(date +%s) + MAX_WAIT ))
  rss_peak=0
  local busy0="" all0="" busy1 all1 cpu_b=0 cpu_a=0
  while :; do
    # the progress check is cheap (the partial indexes on pending and processing jobs), so it
    # takes little from the database it measures
    left=$(sql "SELECT count(*) FROM job_queue WHERE job_name = '$1' AND status IN ('pending', 'processing')")
    rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
    [ "$rss" -gt "$rss_peak" ] && rss_peak=$rss
    # how busy the machine's cores were while jobs drained (all processes: workers, PostgreSQL, this
    # script): near 100 % means the CPU, not the database's locks, sets the pace
    read -r busy1 all1 <<<"$(awk '/^cpu / {b = $2 + $3 + $4 + $7 + $8; print b, b + $5 + $6 + $9}' /proc/stat)"
    if [ "$left" -lt "$JOBS" ] && [ -n "$busy0" ]; then cpu_b=$((cpu_b + busy1 - busy0)); cpu_a=$((cpu_a + all1 - all0)); fi
    busy0=$busy1; all0=$all1
    [ "$left" -eq 0 ] && break
    [ "$(date +%s)" -gt "$deadline" ] && { echo "drain $1 did not finish in ${MAX_WAIT}s ($left left)"; break; }
    sleep 0.5
  done
  drain_ms=$(sql "SELECT (extract(epoch FROM max(completed_at) - min(started_at)) * 1000)::bigint FROM job_queue WHERE job_name = '$1'")
  done_jobs=$(sql "SELECT count(*) FROM job_queue WHERE job_name = '$1' AND status = 'completed'")
  throughput=$(python3 -c "print(round($done_jobs / max($drain_ms, 1) * 1000))")
  cpu_busy=$(( cpu_a > 0 ? cpu_b * 100 / cpu_a : 0 ))
}

# 2. drain with one worker
drain drain
hwm=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
drain_row="| drain: jobs, time (ms), jobs/s; CPU busy (all cores) | $done_jobs, $drain_ms, $throughput; $cpu_busy % |"
rss_row="| resident memory: peak during drain / high-water mark (MB) | $((rss_peak / 1024)) / $((hwm / 1024)) |"

# 3. pickup delay: one due job every TRICKLE_GAP_MS from one producer connection (as an application
# with a connection pool inserts); delay = started_at (the claim) - created_at (the insert)
python3 - "$url" "$TRICKLE" "$TRICKLE_GAP_MS" <<'PY'
import subprocess, sys, time
url, n, gap = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) / 1000
producer = subprocess.Popen(["psql", "-qAtX", "-v", "ON_ERROR_STOP=1", url], stdin=subprocess.PIPE, text=True)
for _ in range(n):
    producer.stdin.write("INSERT INTO job_queue (job_type, job_name, job_payload) VALUES ('bench_noop', 'trickle', '{}');\n")
    producer.stdin.flush()
    time.sleep(gap)
producer.stdin.close()
sys.exit(producer.wait(timeout=60))
PY
for _ in $(seq 1 100); do
  [ "$(sql "SELECT count(*) FROM job_queue WHERE job_name = 'trickle' AND status <> 'completed'")" -eq 0 ] && break
  sleep 0.1
done
read -r p50 p99 <<<"$(sql "SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY d)::numeric, 1),
                                  round(percentile_cont(0.99) WITHIN GROUP (ORDER BY d)::numeric, 1)
                             FROM (SELECT extract(epoch FROM started_at - created_at) * 1000 AS d
                                     FROM job_queue WHERE job_name = 'trickle') x" | tr '|' ' ')"

# 4. scale-out: the same drain with 2, 4, … worker processes on the one database
scale_rows=""
env_db=(DATABASE_URL="$url")   # the others use the first one's database, embedded or not
running=1
for n in $SCALE; do
  while [ "$running" -lt "$n" ]; do
    running=$((running + 1))
    start_worker "bench-$running" "$work/caravan-$running.log"
    await_ready "$work/caravan-$running.log"
  done
  drain "scale-$n"
  per=$(sql "SELECT string_agg(c::text, ' / ' ORDER BY w) FROM (SELECT worker_id AS w, count(*) AS c FROM job_queue
              WHERE job_name = 'scale-$n' GROUP BY worker_id) x")
  scale_rows="$scale_rows
| drain with $n processes: jobs, time (ms), jobs/s (jobs per process); CPU busy | $done_jobs, $drain_ms, $throughput ($per); $cpu_busy % |"
done

machine="$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(java -version 2>&1 | head -1)"
table=$(cat <<TABLE
| figure | value |
|---|---|
| database | $where |
| start-up to ready (ms) | $startup_ms |
$drain_row
| pickup delay p50 / p99 (ms), $TRICKLE jobs every ${TRICKLE_GAP_MS} ms | $p50 / $p99 |
| idle statements per second | $idle |
$rss_row$scale_rows
TABLE
)
echo "$table"
{
  echo
  echo "## $(date -u +%Y-%m-%dT%H:%MZ) — $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo
  echo "Machine: $machine. Concurrency $CONCURRENCY, $JOBS drain jobs, JVM options: jvm.options${BENCH_JAVA_OPTS:+ $BENCH_JAVA_OPTS}."
  echo
  echo "$table"
} >> bench/RESULTS.md
