"""The autoscale phase (issue 33): KEDA's rule for the postgresql trigger, applied by a driver instead
of a cluster. Every POLL seconds it reads SELECT caravan_workers_wanted(C, '{bench_scale}') and, as
KEDA with targetQueryValue 1 would, wants that many workers within [MIN, MAX]: it starts Caravan
processes when more are wanted, and after COOLDOWN seconds of wanting fewer it stops the newest with
SIGTERM (a graceful stop: their running jobs finish or go back to pending). Over a burst of JOBS jobs
of SLEEP_MS each and a quiet period after it, it prints the timeline and one summary line; then the
same burst with MAX workers started by hand, for the drain time to compare with.

  python3 bench/autoscale.py DB_URL JAR ROUTES_DIR  (settings from BENCH_SCALE_* variables)
Checks from the rows: every job completed, each run to its end once (bench_scale_runs), none spent
an attempt (retry_count 0)."""
import json
import os
import signal
import subprocess
import sys
import time

db, jar, routes = sys.argv[1:4]
JOBS = int(os.environ.get("BENCH_SCALE_JOBS", "20000"))
SLEEP_MS = int(os.environ.get("BENCH_SCALE_SLEEP_MS", "200"))
C = int(os.environ.get("BENCH_SCALE_CONCURRENCY", "20"))
MIN = int(os.environ.get("BENCH_SCALE_MIN", "1"))
MAX = int(os.environ.get("BENCH_SCALE_MAX", "4"))
POLL = float(os.environ.get("BENCH_SCALE_POLL_SECONDS", "2"))
COOLDOWN = float(os.environ.get("BENCH_SCALE_COOLDOWN_SECONDS", "10"))
QUIET = float(os.environ.get("BENCH_SCALE_QUIET_SECONDS", "30"))
LIMIT = float(os.environ.get("BENCH_MAX_WAIT_SECONDS", "600"))
JAVA_OPTS = os.environ.get("BENCH_SCALE_JAVA_OPTS", "").split()
work = os.environ.get("BENCH_WORK", "/tmp")


def sql(statement):
    out = subprocess.run(["psql", db, "-qAtX", "-v", "ON_ERROR_STOP=1", "-c", statement],
                         check=True, capture_output=True, text=True).stdout.strip()
    return out


class Worker:
    serial = 0

    def __init__(self, tag):
        Worker.serial += 1
        self.name = f"{tag}-{Worker.serial}"
        env = dict(os.environ, DATABASE_URL=db, CARAVAN_ROUTES_DIR=routes, WORKER_JOB_TYPES="bench_scale",
                   WORKER_CONCURRENCY=str(C), WORKER_ID=self.name, CLEANUP_ENABLED="false",
                   MANAGEMENT_ENABLED="false", API_PORT="0", POLL_INTERVAL="1000", SHUTDOWN_TIMEOUT_SECONDS="10")
        self.log = open(os.path.join(work, self.name + ".log"), "w")
        self.proc = subprocess.Popen(["java", "@jvm.options", *JAVA_OPTS, "-jar", jar], env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)

    def stopped(self, timeout):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None


def burst(name):
    sql(f"INSERT INTO job_queue (job_type, job_name, job_payload) SELECT 'bench_scale', '{name}', "
        f"'{{\"sleep_ms\": {SLEEP_MS}}}' FROM generate_series(1, {JOBS})")
    return time.time()


def left(name):
    return int(sql(f"SELECT count(*) FROM job_queue WHERE job_name = '{name}' AND status IN ('pending', 'processing')"))


def drain_seconds(name):
    return float(sql(f"SELECT extract(epoch FROM max(completed_at) - min(created_at)) FROM job_queue WHERE job_name = '{name}'"))


def check(name):
    done = int(sql(f"SELECT count(*) FROM job_queue WHERE job_name = '{name}' AND status = 'completed'"))
    spent = int(sql(f"SELECT count(*) FROM job_queue WHERE job_name = '{name}' AND retry_count > 0"))
    twice = int(sql(f"SELECT count(*) FROM (SELECT r.job_id FROM bench_scale_runs r JOIN job_queue j ON j.id = r.job_id "
                    f"WHERE j.job_name = '{name}' GROUP BY r.job_id HAVING count(*) > 1) x"))
    runs = int(sql(f"SELECT count(DISTINCT r.job_id) FROM bench_scale_runs r JOIN job_queue j ON j.id = r.job_id "
                   f"WHERE j.job_name = '{name}'"))
    return {"completed": done, "lost": JOBS - done, "runs_recorded": runs, "ran_to_the_end_twice": twice,
            "attempts_spent": spent}


sql("CREATE TABLE IF NOT EXISTS bench_scale_runs (job_id uuid, worker_id text, claimed_at timestamptz, "
    "finished_at timestamptz DEFAULT clock_timestamp())")

# 1. autoscaled: MIN workers at rest, the burst, the driver's loop, then a quiet period
workers = [Worker("auto") for _ in range(MIN)]
time.sleep(8)  # the first worker migrates and starts before the burst (the rest of the time is the driver's)
timeline = []
stops = []
start = burst("autoscale")
low_since = None
peak = len(workers)
quiet_from = None
while time.time() - start < LIMIT:
    wanted = int(sql(f"SELECT caravan_workers_wanted({C}, '{{bench_scale}}')"))
    desired = max(MIN, min(MAX, wanted))
    running = len(workers)
    if desired > running:
        workers += [Worker("auto") for _ in range(desired - running)]
        low_since = None
    elif desired < running:
        low_since = low_since or time.time()
        if time.time() - low_since >= COOLDOWN:
            for w in workers[desired:]:
                w.stop()
                stops.append(w)
            workers = workers[:desired]
            low_since = None
    else:
        low_since = None
    peak = max(peak, len(workers))
    remaining = left("autoscale")
    timeline.append((round(time.time() - start, 1), wanted, len(workers), remaining))
    if remaining == 0 and quiet_from is None:
        quiet_from = time.time()
    if quiet_from is not None and time.time() - quiet_from >= QUIET and len(workers) == MIN:
        break
    time.sleep(POLL)
auto_drain = drain_seconds("autoscale")
auto_check = check("autoscale")
exits = [w.stopped(60) for w in stops]
for w in workers:
    w.stop()
for w in workers:
    w.stopped(60)

# 2. by hand: MAX workers started before the burst
hand = [Worker("hand") for _ in range(MAX)]
time.sleep(8)
burst("by-hand")
deadline = time.time() + LIMIT
while left("by-hand") > 0 and time.time() < deadline:
    time.sleep(0.5)
hand_drain = drain_seconds("by-hand")
hand_check = check("by-hand")
for w in hand:
    w.stop()
for w in hand:
    w.stopped(60)

for t, wanted, running, remaining in timeline:
    print(f"t={t:>6}s wanted={wanted:>3} running={running} left={remaining}", file=sys.stderr)
print(json.dumps({
    "jobs": JOBS, "sleep_ms": SLEEP_MS, "concurrency": C, "min": MIN, "max": MAX, "poll_s": POLL, "cooldown_s": COOLDOWN,
    "autoscaled_drain_s": round(auto_drain, 1), "peak_workers": peak, "ended_with": len(workers),
    "scale_downs": len(stops), "scale_down_exit_codes": sorted(set(exits)),
    "by_hand_drain_s": round(hand_drain, 1), "ratio": round(auto_drain / hand_drain, 2),
    "autoscaled": auto_check, "by_hand": hand_check}))
