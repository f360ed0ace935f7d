#!/usr/bin/env bash
# Caravan benchmark. Not part of the test suite. Phases (BENCH_PHASES, default all of them):
#   noop     drain throughput, pickup delay under trickle load (and its floor: the same trickle claimed
#            by a bare JDBC client, bench/PickupFloor.java), idle cost, peak memory and start-up time of
#            one Caravan process with no-op jobs, and the drain again with 2 and 4 processes;
#   io       the real workload: ai_processing jobs against a local chat-completions stub, 3 x C of them
#            inserted at once, at concurrency C = 50, 200 and 1000 (BENCH_IO_CONCURRENCY): calls that
#            all take BENCH_IO_DELAY seconds (the wave case), then calls of 0.5 to 4 s (the spread
#            case), each as the first jobs after start and again warm (after BENCH_IO_WARM_UP jobs
#            answered at once); time against the ideal (jobs x mean latency / C), slot occupancy while
#            jobs waited, calls in flight at the stub, the time from an answer to its slot's next call,
#            the CPU of the worker, the stub and the rest, peak resident memory and threads; with each JDK of
#            BENCH_IO_JAVAS (default: java, and the newest JDK 24+ under /usr/lib/jvm, virtual threads);
#   batch    the batch lane: BENCH_BATCH_JOBS (50,000) ai_processing jobs marked llm_batch, inserted at once,
#            through the stub's Files and Batches APIs (each batch answered 2 s after it is created):
#            seconds from insert to the last completion, batches and their largest, jobs completed,
#            the worker's resident memory idle and at its peak, the ledger's cost against direct calls;
#   tokens   a provider enforcing BENCH_TOKENS_TPM tokens per minute (default 40,000; the stub answers
#            429 beyond it, over a sliding minute), two workers sharing OPENAI_TOKENS_PER_MINUTE,
#            documents of mixed sizes for BENCH_TOKENS_SECONDS (300): share of the most the provider
#            lets through in that time (a full minute's budget at once, then again each minute), 429s
#            received, attempts spent;
#   gateway  peak resident memory of one pdf_to_xml job through a gateway stub, for a 1 MB and a
#            40 MB PDF, by file_path and by file_url;
#   upload   peak resident memory while 1, 4 and 8 clients at once each POST a 45 MB PDF to
#            /api/documents (BENCH_UPLOAD_CLIENTS), every answer 202 and every file byte-identical;
#   api      the submission API's cost: single POST /api/jobs from 1, 8 and 32 clients
#            (BENCH_API_CLIENTS; submits/s, p50, p99, the JVM's CPU per request, from /proc), and
#            100,000 jobs through POST /api/jobs/batch (BENCH_API_BATCH_JOBS; jobs/s), by bench/ApiLoad.java;
#   console  the console's pages over a table of 1,000,000 finished jobs (BENCH_CONSOLE_JOBS): the
#            queues page, the jobs list, filtered lists and a page far down, median of 5 (ms);
#   versus   the no-op drain of Caravan (the noop phase's worker) and of graphile-worker 0.18 (batched
#            completions, a local queue of 500: bench/graphile, installed with npm ci), on the same
#            database at the same concurrency, BENCH_VERSUS_ROUNDS (3) rounds interleaved: jobs/s of each
#            round (Caravan's from its rows' claim and completion times, graphile-worker's from its own
#            first job start and last job completion; neither's table is counted while it drains), the
#            ratio of the medians, peak resident memory of each (needs the noop phase, node);
#   fair     tenant A's BENCH_FAIR_JOBS (100,000) no-op jobs queued, two workers draining them, then
#            tenant B's 10 jobs: seconds from B's insert to B's last completion, A's drain in jobs/s,
#            with CLAIM_FAIRNESS=job_group and with it off;
#   tracing  the no-op drain of $JOBS on a fresh worker with OpenTelemetry off, then on (every job
#            sampled, OTLP to bench/otlp_sink.py), BENCH_VERSUS_ROUNDS rounds interleaved: jobs/s of
#            each, the ratio of the medians, and what the sink received;
#   autoscale  KEDA's rule for the postgresql trigger applied by bench/autoscale.py to worker processes:
#            a burst of BENCH_SCALE_JOBS (20,000) jobs of 200 ms, workers of 20 slots from 1 up to 4
#            and back by SIGTERM; drain time against 4 workers started by hand; lost jobs, jobs run to
#            the end twice, attempts spent;
#   hostile  a normal client's submits and reads (p50, p99 ms) while bench/hostile.py sends what
#            attackers and careless clients send (100 MiB unauthenticated bodies, stalled connections,
#            request smuggling, broken HTTP/2 prefaces, keys in URLs), then the same with two clients
#            sending batches of the largest size besides; every hostile answer by status, 5xx counted.
#
#   bench/run.sh                          # embedded PostgreSQL (started by the jar itself)
#   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test bench/run.sh   # a server you give
#   BENCH_PHASES="io gateway" bench/run.sh
#
# Needs: a JDK, psql and python3 (the stub provider, bench/stub_provider.py). Every loop is bounded
# in count and time. Prints one table and appends the run to bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."

JOBS=${BENCH_JOBS:-100000}              # drain: jobs queued before the worker starts claiming
TRICKLE=${BENCH_TRICKLE:-200}           # pickup: jobs inserted one by one ...
TRICKLE_GAP_MS=${BENCH_TRICKLE_GAP_MS:-50}   # ... this far apart
CONCURRENCY=${BENCH_CONCURRENCY:-50}
IDLE_SECONDS=${BENCH_IDLE_SECONDS:-20}
MAX_WAIT=${BENCH_MAX_WAIT_SECONDS:-600}  # no phase waits longer than this
SCALE=${BENCH_SCALE:-2 4}               # scale-out: the drain again with this many worker processes
PHASES=${BENCH_PHASES:-noop versus fair tracing autoscale api console hostile io batch tokens gateway upload}
BATCH_JOBS=${BENCH_BATCH_JOBS:-50000}
VERSUS_ROUNDS=${BENCH_VERSUS_ROUNDS:-3}
FAIR_JOBS=${BENCH_FAIR_JOBS:-100000}
TOKENS_TPM=${BENCH_TOKENS_TPM:-40000}
TOKENS_SECONDS=${BENCH_TOKENS_SECONDS:-300}
HOSTILE_SECONDS=${BENCH_HOSTILE_SECONDS:-30}
CONSOLE_JOBS=${BENCH_CONSOLE_JOBS:-1000000}
API_CLIENTS=${BENCH_API_CLIENTS:-1 8 32}
API_REQUESTS=${BENCH_API_REQUESTS:-10000}    # api: single submits per client count, after a warm-up
API_BATCH_JOBS=${BENCH_API_BATCH_JOBS:-100000}
API_BATCH_SIZE=${BENCH_API_BATCH_SIZE:-1000} # jobs per batch request ...
API_BATCH_CLIENTS=${BENCH_API_BATCH_CLIENTS:-2}  # ... sent by this many clients at once
UPLOAD_CLIENTS=${BENCH_UPLOAD_CLIENTS:-1 4 8}
IO_DELAY=${BENCH_IO_DELAY:-2}           # io: seconds the stub provider takes per call ...
IO_CONCURRENCY=${BENCH_IO_CONCURRENCY:-50 200 1000}
IO_ROUNDS=${BENCH_IO_ROUNDS:-3}         # ... and jobs = concurrency x rounds, inserted at once
IO_WARM_UP=${BENCH_IO_WARM_UP:-3000}    # ... once right after start, once after this many quick jobs
if [ -z "${BENCH_IO_JAVAS:-}" ]; then
  BENCH_IO_JAVAS=java
  newest=$(ls -d /usr/lib/jvm/*/bin/java 2>/dev/null | while read -r j; do
             v=$("$j" -XshowSettings:properties -version 2>&1 | awk -F' = ' '/java.specification.version/ {print $2}')
             [ "${v%%.*}" -ge 24 ] 2>/dev/null && echo "$v $j"; done | sort -n | tail -1 | cut -d' ' -f2)
  [ -n "$newest" ] && BENCH_IO_JAVAS="java $newest"
fi
# BENCH_EXTRA_ENV="NAME=value …" passes extra settings to the worker (e.g. JMX_ENABLED=false);
# BENCH_JAVA_OPTS="…" adds JVM options after jvm.options (e.g. -XX:TieredStopAtLevel=4 to compare);
# BENCH_DB_SETTINGS="synchronous_commit = off" sets one on the benchmark's database (server mode only)

[ -f target/caravan.jar ] || ./mvnw -q -B package -DskipTests
# the class-data sharing archive the build makes, as the README starts the jar with it (for the
# JDK that built it only: other JDKs run without it); BENCH_CDS=false measures without it
cds=""
[ "${BENCH_CDS:-true}" = true ] && [ -f target/caravan.jsa ] && cds="-XX:SharedArchiveFile=target/caravan.jsa"
work=$(mktemp -d)
log="$work/caravan.log"
pid=""
pids=""
# BENCH_KEEP=true keeps the working folder (the workers' and stubs' logs) and, on a server, the run's
# database; a phase that sees something wrong (an io wave far slower than its ideal) keeps them too
keep=${BENCH_KEEP:-false}
cleanup() {
  set +e; for p in $pids; do kill "$p" 2>/dev/null; done; for p in $pids; do wait "$p" 2>/dev/null; done
  if [ "$keep" = true ]; then
    echo "The logs are kept in $work${db:+, and the database $db}" >&2
  else
    rm -rf "$work"
    # the run's own database on a server you gave (its workers are stopped by now)
    [ -n "${db:-}" ] && psql "$admin" -qAtc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1
  fi
  return 0
}
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
# the machine's CPU so far, every core's, in clock ticks: busy (user, nice, system, irq, softirq) and all
machine_ticks() { awk '/^cpu / {b = $2 + $3 + $4 + $7 + $8; print b, b + $5 + $6 + $9}' /proc/stat; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }   # a process's CPU time so far, in clock ticks

# start_worker ID LOG: one Caravan process with the no-op pipeline, its pid in $started
start_worker() {
  env "${env_db[@]}" CARAVAN_ROUTES_DIR="$PWD/bench/routes" WORKER_CONCURRENCY="$CONCURRENCY" WORKER_JOB_TYPES=bench_noop \
      WORKER_ID="$1" CLEANUP_ENABLED=false ${BENCH_EXTRA_ENV:-} MANAGEMENT_ENABLED=false API_PORT=0 POLL_INTERVAL=1000 \
      java @jvm.options $cds ${BENCH_JAVA_OPTS:-} -jar target/caravan.jar >"$2" 2>&1 &
  started=$!
  pids="$pids $started"
}
await_ready() {  # LOG: waits (bounded) for the worker's first claim
  for _ in $(seq 1 $((MAX_WAIT * 20))); do grep -q "claims job types\|claims every job type" "$1" && return 0; sleep 0.05; done
  echo "Caravan did not start:"; tail -20 "$1"; exit 1
}

start_ms=$(date +%s%3N)
start_worker bench "$log"
pid=$started
await_ready "$log"
ready_ms=$(date +%s%3N)
startup_ms=$((ready_ms - start_ms))

run_noop() {
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
  local due_in=$(( JOBS / 20000 + 10 )) deadline left rss due_at
  due_at=$(( $(date +%s) + due_in ))   # as the INSERT's now(), its statement's start, makes it
  sql "INSERT INTO job_queue (job_type, job_name, job_payload, scheduled_at)
       SELECT 'bench_noop', '$1', '{}', now() + interval '$due_in seconds' FROM generate_series(1, $JOBS)"
  sql "VACUUM ANALYZE job_queue" >/dev/null
  deadline=$(( $(date +%s) + MAX_WAIT ))
  rss_peak=0
  local busy0="" all0="" busy1 all1 cpu_b=0 cpu_a=0
  while :; do
    # whether any is left, not how many: a count of 100,000 rows being updated took 60-90 ms of the
    # database's CPU each time (every half second, about a sixth of a core taken from what is measured);
    # the times come from the rows afterwards
    left=$(sql "SELECT count(*) FROM (SELECT 1 FROM job_queue WHERE job_name = '$1' AND status IN ('pending', 'processing') LIMIT 1) x")
    rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
    [ "$rss" -gt "$rss_peak" ] && rss_peak=$rss
    # how busy the machine's cores were while jobs drained (all processes: workers, PostgreSQL, this
    # script): near 100 % means the CPU, not the database's locks, sets the pace
    read -r busy1 all1 <<<"$(machine_ticks)"
    if [ "$(date +%s)" -ge "$due_at" ] && [ -n "$busy0" ]; then cpu_b=$((cpu_b + busy1 - busy0)); cpu_a=$((cpu_a + all1 - all0)); fi
    busy0=$busy1; all0=$all1
    [ "$left" -eq 0 ] && break
    [ "$(date +%s)" -gt "$deadline" ] && { echo "drain $1 did not finish in ${MAX_WAIT}s"; break; }
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
# ... and the floor under it: the same trickle and Caravan's claim statement from a bare JDBC client
# (bench/PickupFloor.java: LISTEN, insert, claim on the notification; no pool, no Camel), on the same
# database with the worker idle beside it: how much of the delay is the database's and the machine's
read -r floor50 floor99 _ <<<"$(java -cp target/caravan.jar bench/PickupFloor.java "$url" "$TRICKLE" "$TRICKLE_GAP_MS")"

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
}

has_phase() { case " $PHASES " in *" $1 "*) return 0 ;; esac; return 1; }
rows=""
has_phase noop && run_noop && rows="$rows
| start-up to ready (ms) | $startup_ms |
$drain_row
| pickup delay p50 / p99 (ms), $TRICKLE jobs every ${TRICKLE_GAP_MS} ms | $p50 / $p99 |
| pickup floor p50 / p99 (ms): the same from a bare JDBC client (bench/PickupFloor.java) | $floor50 / $floor99 |
| idle statements per second | $idle |
$rss_row$scale_rows"
# the scale-out workers are done; only the first one (which may hold the embedded database) stays
for p in $pids; do [ "$p" != "$pid" ] && kill "$p" 2>/dev/null; done
env_db=(DATABASE_URL="$url")

# a stub provider on a free port (bench/stub_provider.py); sets stub_port
start_stub() {
  stub_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  python3 bench/stub_provider.py "$stub_port" "$@" >"$work/stub.log" 2>&1 &
  pids="$pids $!"
  stub_pid=$!
  for _ in $(seq 1 100); do curl -sf "localhost:$stub_port/stats" >/dev/null && return 0; sleep 0.05; done
  echo "the stub provider did not start"; cat "$work/stub.log"; exit 1
}
# start_job_worker LOG JAVA ENV...: a Caravan process for the built-in pipelines, its pid in $started
start_job_worker() {
  local log=$1 java=$2 archive=""; shift 2
  [ "$java" = java ] && archive=$cds
  env "${env_db[@]}" CLEANUP_ENABLED=false MANAGEMENT_ENABLED=false API_PORT=0 ${BENCH_EXTRA_ENV:-} "$@" \
      "$java" @jvm.options $archive ${BENCH_JAVA_OPTS:-} -jar target/caravan.jar >"$log" 2>&1 &
  started=$!
  pids="$pids $started"
  await_ready "$log"
}
stop_worker() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null || true; }
reset_peak() { echo 5 > "/proc/$1/clear_refs" 2>/dev/null || true; }   # VmHWM from now on
hwm_mb() { awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$1/status"; }

# versus: graphile-worker's drain of $JOBS no-op jobs due a little later, from its first job's start to
# its last job's completion as the worker itself reports them (drain.mjs), then until the jobs table is
# empty (its last batch of completions written); sets gw_rate, gw_rss_mb
gw_drain() {
  local due_in=$(( JOBS / 20000 + 10 )) gpid times="" left rss peak=0 deadline
  rm -f "$work/graphile.drained"
  DATABASE_URL="$url" CONCURRENCY="$CONCURRENCY" JOBS="$JOBS" DRAINED_FILE="$work/graphile.drained" node bench/graphile/drain.mjs >"$work/graphile.log" 2>&1 &
  gpid=$!
  pids="$pids $gpid"
  for _ in $(seq 1 600); do grep -q "^ready" "$work/graphile.log" && break; sleep 0.05; done
  grep -q "^ready" "$work/graphile.log" || { echo "graphile-worker did not start:"; tail -20 "$work/graphile.log"; exit 1; }
  sql "SELECT graphile_worker.add_jobs(array_agg(json_populate_record(NULL::graphile_worker.job_spec,
         json_build_object('identifier', 'noop', 'payload', '{}'::json, 'run_at', now() + interval '$due_in seconds'))))
       FROM generate_series(1, $JOBS)" >/dev/null
  sql "VACUUM ANALYZE graphile_worker._private_jobs" >/dev/null
  deadline=$(( $(date +%s) + MAX_WAIT ))
  # the worker's own report: no query on the table while it drains (Caravan's drain is checked with
  # one row, not a count)
  while [ -z "$times" ]; do
    [ -s "$work/graphile.drained" ] && times=$(cat "$work/graphile.drained")
    rss=$(awk '/VmRSS/ {print $2}' /proc/$gpid/status)
    [ "$rss" -gt "$peak" ] && peak=$rss
    [ "$(date +%s)" -gt "$deadline" ] && { echo "graphile-worker's drain did not finish"; break; }
    sleep 0.05
  done
  for _ in $(seq 1 100); do
    left=$(sql "SELECT count(*) FROM graphile_worker._private_jobs")
    [ "$left" -eq 0 ] && break
    sleep 0.1
  done
  [ "$left" -eq 0 ] || echo "graphile-worker reported its drain done with $left jobs still in its table"
  stop_worker "$gpid"
  read -r start_ms end_ms <<<"${times:-0 0}"
  gw_rate=$(python3 -c "print(round($JOBS / max($end_ms - $start_ms, 1) * 1000))")
  gw_rss_mb=$((peak / 1024))
}
if has_phase versus; then
  if ! declare -F drain >/dev/null; then
    echo "the versus phase needs the noop phase (its worker and its drain)"
  else
    (cd bench/graphile && npm ci --no-audit --no-fund --loglevel=error) >"$work/npm.log" 2>&1 \
      || { echo "npm ci in bench/graphile failed:"; cat "$work/npm.log"; exit 1; }
    cv_rates=() gw_rates=() cv_rss=0 gw_rss=0
    for r in $(seq 1 "$VERSUS_ROUNDS"); do
      gw_drain
      gw_rates+=("$gw_rate")
      [ "$gw_rss_mb" -gt "$gw_rss" ] && gw_rss=$gw_rss_mb
      drain "versus-$r"
      cv_rates+=("$throughput")
      [ $((rss_peak / 1024)) -gt "$cv_rss" ] && cv_rss=$((rss_peak / 1024))
    done
    read -r cv_med gw_med ratio <<<"$(python3 -c "
import statistics, sys
c = [int(x) for x in '${cv_rates[*]}'.split()]; g = [int(x) for x in '${gw_rates[*]}'.split()]
print(round(statistics.median(c)), round(statistics.median(g)), round(statistics.median(c) / statistics.median(g), 2))")"
    rows="$rows
| versus: no-op drain of $JOBS, concurrency $CONCURRENCY, $VERSUS_ROUNDS rounds interleaved: Caravan jobs/s (each round; median) / graphile-worker 0.18 batched, local queue 500 / ratio of medians | ${cv_rates[*]}; $cv_med / ${gw_rates[*]}; $gw_med / $ratio |
| versus: peak resident memory during the drains, Caravan / graphile-worker (MB) | $cv_rss / $gw_rss |"
  fi
fi

# fair: tenant A's backlog, then tenant B's ten jobs, on two workers claiming with the statement given
fair_run() {  # FAIRNESS (job_group or off); sets b_ms, a_rate
  local name="fair-$1" w1 w2 deadline
  start_job_worker "$work/fair-1.log" java WORKER_ID=fair-1 WORKER_JOB_TYPES=bench_fair WORKER_CONCURRENCY="$CONCURRENCY" \
      CLAIM_FAIRNESS="$1" CARAVAN_ROUTES_DIR="$PWD/bench/routes" POLL_INTERVAL=1000
  w1=$started
  start_job_worker "$work/fair-2.log" java WORKER_ID=fair-2 WORKER_JOB_TYPES=bench_fair WORKER_CONCURRENCY="$CONCURRENCY" \
      CLAIM_FAIRNESS="$1" CARAVAN_ROUTES_DIR="$PWD/bench/routes" POLL_INTERVAL=1000
  w2=$started
  sql "INSERT INTO job_queue (job_type, job_name, job_group, job_payload)
       SELECT 'bench_fair', '$name-a', 'tenant-a', '{}' FROM generate_series(1, $FAIR_JOBS)"
  deadline=$(( $(date +%s) + MAX_WAIT ))
  # (the checks read the partial indexes on pending and processing jobs: cheap beside what they measure)
  until [ "$(sql "SELECT count(*) FROM job_queue WHERE job_name = '$name-a' AND status = 'pending'")" -le $((FAIR_JOBS * 19 / 20)) ]; do
    [ "$(date +%s)" -gt "$deadline" ] && { echo "fair $1: A did not start"; break; }
    sleep 0.1
  done
  sql "INSERT INTO job_queue (job_type, job_name, job_group, job_payload)
       SELECT 'bench_fair', '$name-b', 'tenant-b', '{}' FROM generate_series(1, 10)"
  until [ "$(sql "SELECT count(*) FROM (SELECT 1 FROM job_queue WHERE job_name IN ('$name-a', '$name-b') AND status IN ('pending', 'processing') LIMIT 1) x")" -eq 0 ]; do
    [ "$(date +%s)" -gt "$deadline" ] && { echo "fair $1 did not finish"; break; }
    sleep 0.2
  done
  b_ms=$(sql "SELECT (extract(epoch FROM max(completed_at) - min(created_at)) * 1000)::bigint FROM job_queue WHERE job_name = '$name-b'")
  a_rate=$(sql "SELECT round(count(*) / extract(epoch FROM max(completed_at) - min(started_at))) FROM job_queue WHERE job_name = '$name-a'")
  stop_worker "$w1"
  stop_worker "$w2"
}
if has_phase fair; then
  fair_run job_group
  fair_on="$b_ms ms, $a_rate jobs/s"
  fair_run off
  rows="$rows
| fair: tenant B's 10 jobs after A's $FAIR_JOBS, 2 workers: B done (ms after insert), A's drain (jobs/s); CLAIM_FAIRNESS=job_group / off | $fair_on / $b_ms ms, $a_rate jobs/s |"
fi

# tracing: the no-op drain with OpenTelemetry off and on (every job sampled, spans sent as OTLP to
# bench/otlp_sink.py), rounds interleaved on fresh workers; sets traced_rate
traced_drain() {  # NAME ENV...
  local name=$1 due_in=$(( JOBS / 20000 + 10 )) w deadline; shift
  start_job_worker "$work/$name.log" java WORKER_ID="$name" WORKER_JOB_TYPES=bench_traced WORKER_CONCURRENCY="$CONCURRENCY" \
      CARAVAN_ROUTES_DIR="$PWD/bench/routes" POLL_INTERVAL=1000 "$@"
  w=$started
  sql "INSERT INTO job_queue (job_type, job_name, job_payload, scheduled_at)
       SELECT 'bench_traced', '$name', '{}', now() + interval '$due_in seconds' FROM generate_series(1, $JOBS)"
  sql "VACUUM ANALYZE job_queue" >/dev/null
  deadline=$(( $(date +%s) + MAX_WAIT ))
  until [ "$(sql "SELECT count(*) FROM (SELECT 1 FROM job_queue WHERE job_name = '$name' AND status IN ('pending', 'processing') LIMIT 1) x")" -eq 0 ]; do
    [ "$(date +%s)" -gt "$deadline" ] && { echo "tracing drain $name did not finish"; break; }
    sleep 0.5
  done
  traced_rate=$(sql "SELECT round(count(*) / extract(epoch FROM max(completed_at) - min(started_at))) FROM job_queue WHERE job_name = '$name'")
  stop_worker "$w"
  # each round on the same table: the finished rows go, as the retention job would take them
  sql "DELETE FROM job_queue WHERE job_name = '$name'"
}
if has_phase tracing; then
  sink_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  python3 bench/otlp_sink.py "$sink_port" >"$work/sink.log" 2>&1 &
  pids="$pids $!"
  off_rates=() on_rates=()
  for r in $(seq 1 "$VERSUS_ROUNDS"); do
    traced_drain "untraced-$r"
    off_rates+=("$traced_rate")
    # a queue and batches sized for thousands of spans a second, so that spans are sent, not dropped
    traced_drain "traced-$r" OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$sink_port" OTEL_BSP_SCHEDULE_DELAY=500 \
        OTEL_BSP_MAX_QUEUE_SIZE=65536 OTEL_BSP_MAX_EXPORT_BATCH_SIZE=2048
    on_rates+=("$traced_rate")
  done
  sink=$(curl -sf "127.0.0.1:$sink_port/stats")
  read -r off_med on_med tratio <<<"$(python3 -c "
import statistics
c = [int(x) for x in '${off_rates[*]}'.split()]; t = [int(x) for x in '${on_rates[*]}'.split()]
print(round(statistics.median(c)), round(statistics.median(t)), round(statistics.median(t) / statistics.median(c), 2))")"
  rows="$rows
| tracing: no-op drain of $JOBS, $VERSUS_ROUNDS rounds interleaved: jobs/s off (each; median) / on, every job sampled (each; median) / ratio; OTLP received | ${off_rates[*]}; $off_med / ${on_rates[*]}; $on_med / $tratio; $sink |"
fi

# autoscale: KEDA's rule on caravan_workers_wanted, applied to worker processes by bench/autoscale.py
if has_phase autoscale; then
  scale=$(BENCH_WORK="$work" python3 bench/autoscale.py "$url" target/caravan.jar "$PWD/bench/routes" 2>"$work/autoscale.timeline")
  cat "$work/autoscale.timeline"
  rows="$rows
| autoscale: $(python3 -c "
import json; r = json.loads('''$scale''')
a, h = r['autoscaled'], r['by_hand']
print(f\"{r['jobs']} jobs of {r['sleep_ms']} ms, {r['concurrency']} slots a worker, {r['min']}..{r['max']} workers (poll {r['poll_s']} s, cooldown {r['cooldown_s']} s): drain autoscaled / {r['max']} by hand (s), ratio | {r['autoscaled_drain_s']} / {r['by_hand_drain_s']}, {r['ratio']}; peak {r['peak_workers']} workers, ended with {r['ended_with']}, {r['scale_downs']} SIGTERMs (exit codes {r['scale_down_exit_codes']}); lost {a['lost']} / {h['lost']}, ran to the end twice {a['ran_to_the_end_twice']} / {h['ran_to_the_end_twice']}, attempts spent {a['attempts_spent']} / {h['attempts_spent']} |\")
") "
fi

# wait_done NAME PID: waits (bounded) until the jobs named NAME are finished; samples the worker's
# threads into threads_peak. The check asks for one unfinished row, not how many (a count of thousands
# of rows being updated cost the database ~19 ms five times a second, a tenth of a core, during a wave);
# the wave's times come from its rows afterwards.
wait_done() {
  local deadline=$(( $(date +%s) + MAX_WAIT )) th=0 left key value _
  threads_peak=0
  # one psql session for all the checks: a psql and a new backend per check (five a second) took more
  # CPU than the worker did in an io wave at C = 200 (1.6 s against 0.4), from the two cores the wave needs
  coproc CHECKS { psql "$url" -qAtX; }
  while :; do
    echo "SELECT count(*) FROM (SELECT 1 FROM job_queue WHERE status IN ('pending', 'processing') AND job_name = '$1' LIMIT 1) x;" >&"${CHECKS[1]}"
    read -r left <&"${CHECKS[0]}" || { echo "the checks' psql session for $1 ended"; break; }
    [ "$left" -eq 0 ] && break
    while read -r key value _; do [ "$key" = Threads: ] && th=$value && break; done < "/proc/$2/status"
    [ "$th" -gt "$threads_peak" ] && threads_peak=$th
    [ "$(date +%s)" -gt "$deadline" ] && { echo "jobs $1 did not finish in ${MAX_WAIT}s"; break; }
    sleep 0.2
  done
  local checks=$CHECKS_PID
  echo '\q' >&"${CHECKS[1]}" 2>/dev/null
  wait "$checks" 2>/dev/null || true
}

# 5. the submission API: jobs due tomorrow (the worker does not run them), the JVM's CPU time per request
if has_phase api; then
  api_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  start_job_worker "$work/api.log" java WORKER_ID=api CARAVAN_ROUTES_DIR="$PWD/bench/routes" WORKER_JOB_TYPES=bench_noop \
      API_PORT="$api_port" CARAVAN_API_KEY=bench-api-key-0123456789
  w=$started
  for c in $API_CLIENTS; do
    read -r _ _ _ rate p50 p99 cpu answers <<<"$(java bench/ApiLoad.java single "http://127.0.0.1:$api_port" \
        bench-api-key-0123456789 "$c" "$API_REQUESTS" "$w")"
    rows="$rows
| api: POST /api/jobs, $c client(s), $API_REQUESTS submits: per s, p50 ms, p99 ms, JVM CPU ms per request, answers | $rate, $p50, $p99, $cpu, $answers |"
  done
  read -r _ _ secs rate p50 p99 cpu answers <<<"$(java bench/ApiLoad.java batch "http://127.0.0.1:$api_port" \
      bench-api-key-0123456789 "$API_BATCH_CLIENTS" "$API_BATCH_JOBS" "$API_BATCH_SIZE" "$w")"
  rows="$rows
| api: POST /api/jobs/batch, $API_BATCH_JOBS jobs in batches of $API_BATCH_SIZE from $API_BATCH_CLIENTS client(s): jobs/s, seconds, p99 ms per batch, JVM CPU ms per batch, answers | $rate, $secs, $p99, $cpu, $answers |"
  stop_worker "$w"
fi

# 6. the console over a big table: a day's worth of finished jobs and then some, 2 % of them dead letters
if has_phase console; then
  sql "INSERT INTO job_queue (job_type, job_name, job_payload, status, retry_count, started_at, completed_at,
         dead_letter_at, error_details, job_group, created_at, scheduled_at)
       SELECT 'bench_noop', 'console-' || g, jsonb_build_object('document', 'doc-' || g), CASE WHEN g % 50 = 0 THEN 'failed' ELSE 'completed' END,
              CASE WHEN g % 50 = 0 THEN 3 ELSE 0 END, t, t + interval '1 second',
              CASE WHEN g % 50 = 0 THEN t + interval '1 second' END,
              CASE WHEN g % 50 = 0 THEN jsonb_build_object('code', CASE WHEN g % 100 = 0 THEN 'PROVIDER_TIMEOUT' ELSE 'PROVIDER_HTTP_503' END,
                                                           'message', 'bench') END,
              'g-' || (g % 1000), t, t
         FROM generate_series(1, $CONSOLE_JOBS) g, LATERAL (SELECT now() - make_interval(secs => g * 0.1) AS t) AS at" >/dev/null
  sql "VACUUM ANALYZE job_queue" >/dev/null
  console_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  start_job_worker "$work/console.log" java WORKER_ID=console CARAVAN_ROUTES_DIR="$PWD/bench/routes" WORKER_JOB_TYPES=audit_cleanup \
      API_PORT="$console_port" CARAVAN_API_KEY=bench-console-key-0123456789
  w=$started
  curl -s -c "$work/cookies" -o /dev/null -d key=bench-console-key-0123456789 "localhost:$console_port/console/login"
  second=$(curl -s -b "$work/cookies" "localhost:$console_port/console/jobs" | grep -o 'id=next href="[^"]*"' | sed 's/.*href="//; s/"$//; s/&amp;/\&/g')
  pages=""
  for page in "/console" "/console/jobs" "$second" "/console/jobs?status=failed&dead_lettered=true" \
              "/console/jobs?error_code=PROVIDER_TIMEOUT" "/console/jobs?group=g-7" "/console/jobs?name=console-99999"; do
    times=""
    for _ in 1 2 3 4 5; do
      times="$times $(curl -s -b "$work/cookies" -o /dev/null -w '%{time_total}' "localhost:$console_port$page")"
    done
    median=$(python3 -c "import sys; t=sorted(float(x) for x in sys.argv[1:]); print(round(t[len(t)//2] * 1000))" $times)
    label=${page%%cursor=*}; [ "$label" != "$page" ] && label="/console/jobs (page 2)"
    pages="$pages${pages:+; }$label $median"
  done
  rows="$rows
| console: $CONSOLE_JOBS finished jobs, page answered in ms (median of 5) | $pages |"
  stop_worker "$w"
fi

# 6b. hostile input (issue 27): a normal client's latency while hostile ones arrive; jobs of a type no
# worker runs, so the figures are the API's own
if has_phase hostile; then
  sql "INSERT INTO job_types (job_type, registered_by) VALUES ('bench_held', 'bench') ON CONFLICT DO NOTHING" >/dev/null
  hostile_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  start_job_worker "$work/hostile.log" java WORKER_ID=hostile CARAVAN_ROUTES_DIR="$PWD/bench/routes" WORKER_JOB_TYPES=bench_noop \
      API_PORT="$hostile_port" CARAVAN_API_KEY=bench-hostile-key-0123456789 API_READ_TIMEOUT_SECONDS=10
  w=$started
  for mix in "huge,stalls,oddities" "huge,stalls,oddities,batches"; do
    summary=$(python3 bench/hostile.py "$hostile_port" bench-hostile-key-0123456789 "$HOSTILE_SECONDS" 2 bench_held "$mix" --summary)
    rows="$rows
| hostile: $mix for ${HOSTILE_SECONDS} s, a normal client's p50 / p99 / max | $summary |"
  done
  rows="$rows
| hostile: ERROR lines in the worker's log | $(grep -c "ERROR" "$work/hostile.log" || true) |"
  stop_worker "$w"
fi

# 7. the real workload: ai_processing jobs, each one chat-completions call. Per concurrency C and JDK,
# 3 x C jobs inserted at once (issue 28's wave case) against a stub that answers every call after
# IO_DELAY s, then again against one whose answers take 0.5 to 4 s (the spread case). Each case twice:
# "first" = the first jobs a freshly started worker runs (its code still being compiled: what a deploy
# or a scale-out meets), "warm" = the same after IO_WARM_UP jobs the stub answers at once (a worker
# that has been running a while). ratio = the ideal time (jobs x the stub's mean latency / C) over the
# time taken; "occupied" is the share of slot-time spent on jobs while jobs were still waiting, which
# is what refilling at once decides (with 3 x C jobs of spread latencies the tail after the last claim
# is idle whatever the worker does: a perfect scheduler reaches a ratio of about 0.74 there).
io_wave() {  # NAME C WORKER-PID: inserts 3 x C (IO_ROUNDS) jobs at once, waits; sets wave (the figures)
  local name=$1 c=$2 w=$3 n=$(($2 * IO_ROUNDS)) done_n ms occupied peak_calls mean ideal_s w0 s0 m0 w1 s1 m1
  curl -s -X POST "localhost:$stub_port/reset" >/dev/null
  # fresh statistics after the drains before (a server may run without autovacuum, as this one does)
  sql "VACUUM ANALYZE job_queue" >/dev/null
  # where the machine's CPU went while the jobs ran: the worker, the stub, everything else (PostgreSQL,
  # this script); on two cores a wave's calls wait for what the others use
  w0=$(cpu_ticks "$w"); s0=$(cpu_ticks "$stub_pid"); read -r m0 _ <<<"$(machine_ticks)"
  sql "INSERT INTO job_queue (job_type, job_lane, job_name, job_payload) SELECT 'ai_processing', 'ai_queue_simple',
       '$name', '{\"ocr_text\": \"a short document\"}' FROM generate_series(1, $n)"
  wait_done "$name" "$w"
  w1=$(cpu_ticks "$w"); s1=$(cpu_ticks "$stub_pid"); read -r m1 _ <<<"$(machine_ticks)"
  read -r done_n ms occupied <<<"$(sql "WITH w AS (SELECT min(started_at) AS t0, max(started_at) AS t1 FROM job_queue
      WHERE job_name = '$name')
    SELECT count(*) FILTER (WHERE status = 'completed'),
           (extract(epoch FROM max(completed_at) - min(created_at)) * 1000)::bigint,
           round((sum(extract(epoch FROM least(completed_at, t1) - greatest(started_at, t0)))
                  FILTER (WHERE started_at < t1) / ($c * extract(epoch FROM max(t1) - max(t0))))::numeric, 2)
      FROM job_queue, w WHERE job_name = '$name'" | tr '|' ' ')"
  # turn = from an answer to the call its freed slot makes next: the i-th answer frees the slot that makes
  # call C + i (both in the stub's order), so each call after the first C pairs with the answer C before it
  read -r peak_calls mean turn <<<"$(curl -s "localhost:$stub_port/stats" | python3 -c '
import json, statistics, sys
d = json.load(sys.stdin); c = int(sys.argv[1]); a = sorted(d["arrived"]); r = sorted(d["answered"])
t = sorted(a[c + i] - r[i] for i in range(min(len(a) - c, len(r))))
turn = "%d / %d" % (statistics.median(t) * 1000, t[int(len(t) * 0.9)] * 1000) if t else "-"
print(d["peak_in_flight"], d["delay_total"] / max(1, d["calls"]), turn)' "$c")"
  ideal_s=$(python3 -c "print(round($n * $mean / $c, 2))")
  if python3 -c "import sys; sys.exit(0 if $ms > 3000 * $ideal_s else 1)"; then
    keep=true
    echo "io: $name took $ms ms against an ideal of $ideal_s s; the worker's log is kept (below)" >&2
  fi
  wave="$done_n of $n in $(python3 -c "print(round($ms / 1000, 2))") ($ideal_s), $(python3 -c "print(round($ideal_s * 1000 / max($ms, 1), 2))"); $occupied; $peak_calls; turn $turn ms; \
cpu s $(python3 -c "t = $(getconf CLK_TCK); print(round(($w1 - $w0) / t, 1), round(($s1 - $s0) / t, 1), round(($m1 - $m0 - $w1 + $w0 - $s1 + $s0) / t, 1), sep=' / ')")"
}
if has_phase io; then
  for shape in "wave" "spread"; do
    if [ "$shape" = wave ]; then start_stub --delay "$IO_DELAY"; else start_stub --spread 0.5 4; fi
    for java in $BENCH_IO_JAVAS; do
      jdk=$("$java" -XshowSettings:properties -version 2>&1 | awk -F' = ' '/java.specification.version/ {print $2}')
      for c in $IO_CONCURRENCY; do
        start_job_worker "$work/io-$jdk-$c.log" "$java" WORKER_ID="io-$shape-$jdk-$c" WORKER_CONCURRENCY="$c" \
            WORKER_JOB_TYPES=ai_processing OPENAI_API_KEY=bench OPENAI_BASE_URL="http://127.0.0.1:$stub_port/v1"
        w=$started
        threads=$(grep -o "Jobs run on [a-z ]*" "$work/io-$jdk-$c.log" | sed "s/Jobs run on //; s/a pool of //; s/ *$//")
        reset_peak "$w"
        io_wave "io-first-$shape-$jdk-$c" "$c" "$w"
        first=$wave
        first_threads=$threads_peak
        # the warm-up: jobs the stub answers at once (their prompt holds its marker)
        sql "INSERT INTO job_queue (job_type, job_lane, job_name, job_payload) SELECT 'ai_processing', 'ai_queue_simple',
             'io-warm-$shape-$jdk-$c', '{\"ocr_text\": \"bench-warm-up\"}' FROM generate_series(1, $IO_WARM_UP)"
        wait_done "io-warm-$shape-$jdk-$c" "$w"
        io_wave "io-$shape-$jdk-$c" "$c" "$w"
        rows="$rows
| io $shape: JDK $jdk, concurrency $c ($threads), $((c * IO_ROUNDS)) jobs at once: jobs done in s (ideal), ratio; occupied while jobs waited; calls in flight peak; an answer to its slot's next call p50 / p90; CPU s worker / stub / rest — first after start / warm; resident MB peak; threads peak | $first / $wave; $(hwm_mb "$w"); $(( first_threads > threads_peak ? first_threads : threads_peak )) |"
        stop_worker "$w"
      done
    done
    kill "$stub_pid" 2>/dev/null
  done
fi

# 7a. the batch lane: a backfill through the provider's Files and Batches APIs
if has_phase batch; then
  start_stub --batch-seconds 2
  start_job_worker "$work/batch.log" java WORKER_ID=batch WORKER_JOB_TYPES=ai_processing OPENAI_API_KEY=bench \
      OPENAI_BASE_URL="http://127.0.0.1:$stub_port/v1" \
      BATCH_INTERVAL_MS=1000 BATCH_GATHER_WAIT_SECONDS=5 BATCH_POLL_INTERVAL_SECONDS=1
  w=$started
  idle_mb=$(awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$w/status")
  reset_peak "$w"
  t0=$(date +%s%N)
  sql "INSERT INTO job_queue (job_type, job_lane, job_name, job_payload) SELECT 'ai_processing', 'ai_queue_simple', 'batch-lane',
       jsonb_build_object('ocr_text', 'Lab report ' || i || '. Haemoglobin 13.5 g/dL, WBC 6.1.', 'llm_batch', true)
       FROM generate_series(1, $BATCH_JOBS) i"
  deadline=$(( $(date +%s) + MAX_WAIT ))
  while [ "$(sql "SELECT count(*) FROM (SELECT 1 FROM job_queue WHERE job_name = 'batch-lane' AND status IN ('pending', 'processing', 'deferred') LIMIT 1) x")" -gt 0 ]; do
    [ "$(date +%s)" -gt "$deadline" ] && { echo "the batch lane's jobs did not finish in ${MAX_WAIT}s"; break; }
    sleep 0.5
  done
  secs=$(python3 -c "print(round(($(date +%s%N) - $t0) / 1e9, 1))")
  read -r batches lines largest <<<"$(curl -s "localhost:$stub_port/stats" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["batches"], d["batch_lines"], d["batch_max_lines"])')"
  sleep 2  # the ledger is written about once a second
  read -r completed cost direct <<<"$(sql "SELECT count(*) FILTER (WHERE q.status = 'completed'), round(sum(s.cost), 6),
        round(sum((s.input_tokens * 0.15 + s.output_tokens * 0.60) / 1e6), 6)
        FROM job_queue q LEFT JOIN job_spend s ON s.job_id = q.id WHERE q.job_name = 'batch-lane'" | tr '|' ' ')"
  rows="$rows
| batch: $BATCH_JOBS jobs in the batch lane at once (each batch answered 2 s after its creation): seconds to the last completion; batches, lines sent, largest batch; jobs completed; resident MB idle / peak; cost in the ledger / at the direct price | $secs; $batches, $lines, $largest; $completed; $idle_mb / $(hwm_mb "$w"); $cost / $direct |"
  stop_worker "$w"
  sql "DELETE FROM job_queue WHERE job_name = 'batch-lane'"
  kill "$stub_pid" 2>/dev/null
fi

# 7b. a token budget shared by two workers against a provider that enforces it
if has_phase tokens; then
  start_stub --spread 0.5 2 --tpm "$TOKENS_TPM"
  tw=""
  for i in 1 2; do
    start_job_worker "$work/tokens-$i.log" java WORKER_ID="tokens-$i" WORKER_CONCURRENCY=20 WORKER_JOB_TYPES=ai_processing \
        OPENAI_API_KEY=bench OPENAI_BASE_URL="http://127.0.0.1:$stub_port/v1" OPENAI_TOKENS_PER_MINUTE="$TOKENS_TPM" \
        OPENAI_MAX_TOKENS=500
    tw="$tw $started"
  done
  # documents of 460 to 14,260 characters (about 300 to 3,700 tokens with the prompt and answer):
  # more than the budget can take in the time, so the queue never runs dry
  n=$(( TOKENS_TPM * TOKENS_SECONDS / 60 / 2000 * 2 ))
  sql "INSERT INTO job_queue (job_type, job_lane, job_name, job_payload, max_retries)
       SELECT 'ai_processing', 'ai_queue_simple', 'tokens', jsonb_build_object('ocr_text',
              repeat('Haemoglobin 13.5 g/dL. ', 20 + (i % 13) * 50)), 3 FROM generate_series(1, $n) i"
  sleep "$TOKENS_SECONDS"
  read -r served refused <<<"$(curl -s "localhost:$stub_port/stats" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["tokens"], d["refused"])')"
  read -r done_n spent snoozes <<<"$(sql "SELECT count(*) FILTER (WHERE status = 'completed'),
        count(*) FILTER (WHERE retry_count > 0),
        count(*) FILTER (WHERE status = 'pending' AND error_details->>'code' = 'PROVIDER_RATE_LIMITED')
        FROM job_queue WHERE job_name = 'tokens'" | tr '|' ' ')"
  rows="$rows
| tokens: $TOKENS_TPM per minute enforced by the provider, two workers, $TOKENS_SECONDS s: tokens served (share of the most the provider lets through in that time, $TOKENS_TPM x ceil($TOKENS_SECONDS / 60)); 429s; jobs done of $n; jobs with an attempt spent; jobs waiting snoozed at the end | $served ($(python3 -c "import math; print(round(100 * $served / ($TOKENS_TPM * math.ceil($TOKENS_SECONDS / 60)), 1))") %); $refused; $done_n; $spent; $snoozes |"
  for w in $tw; do stop_worker "$w"; done
  sql "DELETE FROM job_queue WHERE job_name = 'tokens'"
  kill "$stub_pid" 2>/dev/null
fi

# 8. one PDF through the gateway: peak resident memory of the job, by file_path and by file_url
if has_phase gateway; then
  start_stub
  mkdir -p "$work/store" "$work/results"
  for mb in 1 40; do
    python3 -c "import os,sys; f=open(sys.argv[1],'wb'); f.write(b'%PDF-1.4\n'); f.write(os.urandom($mb << 20)); f.close()" "$work/store/$mb.pdf"
  done
  start_job_worker "$work/gateway.log" java WORKER_ID=gateway WORKER_JOB_TYPES=pdf_to_xml \
      GATEWAY_URL="http://127.0.0.1:$stub_port" CARAVAN_STORAGE_ROOT="$work/store" RESULTS_DIR="$work/results" \
      OUTBOUND_ALLOW=127.0.0.1/32   # the stub serves the file_url documents on loopback, refused by default
  w=$started
  sleep 2   # start-up's own peak is behind it
  gw=""
  for source in file_path file_url; do
    for mb in 1 40; do
      if [ "$source" = file_path ]; then doc="\"file_path\": \"$mb.pdf\""; else doc="\"file_url\": \"http://127.0.0.1:$stub_port/doc/${mb}mb.pdf\""; fi
      base=$(awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$w/status")
      reset_peak "$w"
      sql "INSERT INTO job_queue (job_type, job_name, job_payload) VALUES ('pdf_to_xml', 'gw-$source-$mb', '{$doc}')"
      wait_done "gw-$source-$mb" "$w"
      st=$(sql "SELECT status FROM job_queue WHERE job_name = 'gw-$source-$mb'")
      gw="$gw${gw:+; }$source $mb MB: $(hwm_mb "$w") ($base before, $st)"
    done
  done
  rows="$rows
| gateway: one PDF, peak resident MB (before the job, status) | $gw |"
  stop_worker "$w"
  kill "$stub_pid" 2>/dev/null
fi

# 9. large uploads at once: the worker's peak resident memory, against its idle figure
if has_phase upload; then
  mkdir -p "$work/upload-store"
  python3 -c "import os,sys; f=open(sys.argv[1],'wb'); f.write(b'%PDF-1.4\n'); f.write(os.urandom(45 << 20)); f.close()" "$work/45.pdf"
  sum=$(sha256sum "$work/45.pdf" | cut -d' ' -f1)
  api_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  start_job_worker "$work/upload.log" java WORKER_ID=upload WORKER_JOB_TYPES=audit_cleanup API_PORT="$api_port" \
      CARAVAN_STORAGE_ROOT="$work/upload-store"
  w=$started
  sleep 2
  up=""
  idle_mb=$(awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$w/status")
  for n in $UPLOAD_CLIENTS; do
    reset_peak "$w"
    clients=""
    for i in $(seq 1 "$n"); do
      curl -s -o /dev/null -w "%{http_code}\n" -F "file1=@$work/45.pdf;type=application/pdf" -F job_type=pdf_to_xml \
          "localhost:$api_port/api/documents" >"$work/up-$n-$i.code" &
      clients="$clients $!"
    done
    wait $clients
    ok=$(cat "$work"/up-"$n"-*.code | grep -c '^202$')
    same=$(find "$work/upload-store/uploads" -type f -newer "$work/45.pdf" -exec sha256sum {} + | grep -c "^$sum")
    up="$up${up:+; }$n at once: $(hwm_mb "$w") MB, $ok × 202, $same identical"
    find "$work/upload-store/uploads" -type f -delete
  done
  rows="$rows
| upload: 45 MB PDFs at once, peak resident MB (idle $idle_mb, issue 22's target $(( idle_mb * 12 / 10 + 32 ))) | $up |"
  stop_worker "$w"
fi

machine="$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(java -version 2>&1 | head -1)"
table=$(cat <<TABLE
| figure | value |
|---|---|
| database | $where |$rows
TABLE
)
echo "$table"
{
  echo
  echo "## $(date -u +%Y-%m-%dT%H:%MZ) — $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo
  echo "Machine: $machine. Phases: $PHASES. No-op: concurrency $CONCURRENCY, $JOBS drain jobs. I/O: $IO_DELAY s per call, $IO_ROUNDS rounds. JVM options: jvm.options${cds:+ $cds}${BENCH_JAVA_OPTS:+ $BENCH_JAVA_OPTS}."
  echo
  echo "$table"
} >> bench/RESULTS.md
