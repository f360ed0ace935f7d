#!/usr/bin/env bash
# The container, built and run as an operator would: the real Dockerfile (both stages) built with
# podman, then run against a PostgreSQL, and checked:
#   - healthy through the image's own HEALTHCHECK, with a HEALTH_CHECK_PORT that is not the default;
#   - running as a non-root user;
#   - an operator's routes folder, mounted as a volume, changes a pipeline;
#   - `podman stop` with a job running hands the job back (pending, no attempt spent) and the
#     container exits 0 within its grace period;
#   - compose.yaml, run with docker-compose over podman's Docker API (a copy swaps postgres:16, which
#     this machine cannot pull, for the PostgreSQL server it runs), starts healthy and runs a job;
# and prints the image's size. Needs root, podman, runc, mmdebstrap and docker-compose (installed when
# missing, from Debian's packages), a PostgreSQL server on 127.0.0.1:5432 (CONTAINER_TEST_DB_URL, a psql URL) and
# the network the build needs (Maven Central, Debian's mirror).
#
# No registry image can be pulled here: the images the FROM lines name (eclipse-temurin:17-jdk and
# :17-jre) are made from Debian's OpenJDK 17 packages with mmdebstrap, from this machine's own apt
# sources, and tagged with those names (made once; CONTAINER_REBUILD_BASES=true makes them again).
# The build stage gets the host's ~/.m2 as a build-time volume, a cache only: the Dockerfile is built
# as it is.
#
#   ops/container/test.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

DB_URL=${CONTAINER_TEST_DB_URL:-postgres://postgres@127.0.0.1:5432/test}
IMAGE=localhost/caravan:test
work=$(mktemp -d)
containers=()
cleanup() {
  set +e
  for c in "${containers[@]}"; do podman rm -f -t 0 "$c" >/dev/null 2>&1; done
  [ -n "${compose_up:-}" ] && (cd "$work/compose" && docker-compose -f compose.test.yaml down -v -t 5 >/dev/null 2>&1)
  [ -n "${timer_pid:-}" ] && kill "$timer_pid" 2>/dev/null
  [ -n "${service_pid:-}" ] && kill "$service_pid" 2>/dev/null
  [ -n "${db:-}" ] && psql "$DB_URL" -qAtc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
  [ -n "${db2:-}" ] && psql "$DB_URL" -qAtc "DROP DATABASE IF EXISTS $db2 WITH (FORCE)" >/dev/null 2>&1
  rm -rf "$work"
  return 0
}
trap cleanup EXIT
fail() { echo "FAILED: $*"; exit 1; }
step() { echo "--- $*"; }

# --- tools ------------------------------------------------------------------------------------------
if ! command -v podman >/dev/null || ! command -v mmdebstrap >/dev/null || ! command -v docker-compose >/dev/null; then
  step "installing podman, runc, mmdebstrap, docker-compose"
  export DEBIAN_FRONTEND=noninteractive
  pkgs="podman buildah runc mmdebstrap uidmap fuse-overlayfs containernetworking-plugins catatonit slirp4netns docker-compose"
  apt-get install -y -q $pkgs >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q $pkgs >/dev/null; }
fi
# runc, explicit limits, no systemd (the file says why)
export CONTAINERS_CONF="$PWD/ops/container/containers.conf"

# --- base images from Debian packages ---------------------------------------------------------------
# the machine's own apt sources (deb822 or one-line), so no mirror's name is written here
sources=""
for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list; do [ -s "$f" ] && { sources=$f; break; }; done
[ -n "$sources" ] || fail "no apt sources to make the base images from"
base() {  # TAG PACKAGES
  if [ "${CONTAINER_REBUILD_BASES:-false}" != true ] && podman image exists "$1"; then return 0; fi
  step "making $1 from Debian's $2"
  # trusting what this machine trusts (its own CAs, as a company's base images do): the build
  # stage reaches Maven Central, and the runtime stage Debian's mirror, as this machine does
  local trust=()
  if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
    trust=(--customize-hook='copy-in /usr/local/share/ca-certificates /usr/local/share'
           --customize-hook='chroot "$1" update-ca-certificates >/dev/null 2>&1')
  fi
  mmdebstrap --quiet --variant=minbase --include="$2" "${trust[@]}" bookworm "$work/base.tar" "$sources"
  podman import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      "$work/base.tar" "$1" >/dev/null 2>&1
  rm -f "$work/base.tar"
}
# passwd: the runtime stage adds its user, as on the real image's Ubuntu
base docker.io/library/eclipse-temurin:17-jdk openjdk-17-jdk-headless,ca-certificates,passwd
base docker.io/library/eclipse-temurin:17-jre openjdk-17-jre-headless,ca-certificates,passwd

# --- the image --------------------------------------------------------------------------------------
step "building the Dockerfile"
mkdir -p "$HOME/.m2"
build_start=$(date +%s)
podman build --pull=never --format docker --network host -v "$HOME/.m2:/root/.m2" -t "$IMAGE" . \
    >"$work/build.log" 2>&1 || { tail -40 "$work/build.log"; fail "the image did not build"; }
size_mb=$(( $(podman image inspect "$IMAGE" --format '{{.Size}}') / 1024 / 1024 ))
echo "built in $(( $(date +%s) - build_start )) s; image size ${size_mb} MB"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
sql() { psql "$1" -qAtX -v ON_ERROR_STOP=1 -c "$2"; }
db="caravan_container_$(date +%s)"
sql "$DB_URL" "CREATE DATABASE $db"
url="${DB_URL%/*}/$db"

# an operator's routes folder: the test_wait pipeline, whose jobs sleep as long as their payload says
routes="$work/routes"
mkdir -p "$routes"
cat >"$routes/pipeline-container-wait.camel.yaml" <<'EOF'
# A pipeline an operator adds: sleeps payload.sleep_ms, then answers which routes folder it came from.
- route:
    id: pipeline-container-wait
    from:
      uri: direct:pipeline-container_wait
      steps:
        - delay:
            simple: "${body[sleep_ms]}"
        - setBody:
            simple: '{"from": "the mounted routes folder"}'
EOF
chmod -R a+rX "$routes"

health_port=$(free_port)
api_port=$(free_port)
name="caravan-test-$$"
step "running it: HEALTH_CHECK_PORT=$health_port, routes mounted from $routes"
podman run -d --name "$name" --network host --stop-timeout 60 \
    -e DATABASE_URL="$url" -e HEALTH_CHECK_PORT="$health_port" -e API_PORT="$api_port" \
    -e CARAVAN_API_KEY=container-test-key -e WORKER_ID=container-1 -e SHUTDOWN_TIMEOUT_SECONDS=20 \
    -e POLL_INTERVAL=200 -v "$routes:/app/routes:ro" "$IMAGE" >/dev/null 2>"$work/run.log"  # (without systemd it says no timer runs its health check)
containers+=("$name")

# healthy through the image's HEALTHCHECK (no systemd runs its timer here: run it as the engine would)
healthy=""
for _ in $(seq 1 120); do
  if podman healthcheck run "$name" >/dev/null 2>&1; then healthy=yes; break; fi
  podman container exists "$name" && [ "$(podman inspect "$name" --format '{{.State.Running}}')" = true ] \
      || { podman logs "$name" | tail -30; fail "the container stopped"; }
  sleep 1
done
[ -n "$healthy" ] || { podman logs "$name" | tail -30; fail "never healthy through its HEALTHCHECK on port $health_port"; }
echo "healthy through its own HEALTHCHECK on port $health_port"
[ "$(podman inspect "$name" --format '{{.State.Health.Status}}')" = healthy ] || fail "podman does not call it healthy"

user=$(podman exec "$name" id -u)
[ "$user" != 0 ] || fail "it runs as root"
echo "runs as uid $user ($(podman exec "$name" id -un))"

# the mounted pipeline runs a job
job=$(sql "$url" "INSERT INTO job_queue (job_type, job_name, job_payload) VALUES ('container_wait', 'quick', '{\"sleep_ms\": 10}') RETURNING id")
for _ in $(seq 1 100); do [ "$(sql "$url" "SELECT status FROM job_queue WHERE id = '$job'")" = completed ] && break; sleep 0.2; done
[ "$(sql "$url" "SELECT job_result ->> 'from' FROM job_queue WHERE id = '$job'")" = "the mounted routes folder" ] \
    || { podman logs "$name" | tail -30; fail "the mounted route did not run the job"; }
echo "a pipeline from the mounted routes folder ran a job"

# stop with a job running: handed back, no attempt spent, exit 0 within the grace period
job=$(sql "$url" "INSERT INTO job_queue (job_type, job_name, job_payload) VALUES ('container_wait', 'long', '{\"sleep_ms\": 600000}') RETURNING id")
for _ in $(seq 1 100); do [ "$(sql "$url" "SELECT status FROM job_queue WHERE id = '$job'")" = processing ] && break; sleep 0.2; done
[ "$(sql "$url" "SELECT status FROM job_queue WHERE id = '$job'")" = processing ] || fail "the long job never started"
stop_start=$(date +%s)
podman stop -t 60 "$name" >/dev/null 2>"$work/stop.log"   # (it says that no systemd timer was there to remove)
stop_s=$(( $(date +%s) - stop_start ))
code=$(podman inspect "$name" --format '{{.State.ExitCode}}')
read -r status retries worker <<<"$(sql "$url" "SELECT status, retry_count, coalesce(worker_id, '-') FROM job_queue WHERE id = '$job'" | tr '|' ' ')"
[ "$code" = 0 ] || { podman logs "$name" | tail -30; fail "exit code $code after podman stop"; }
[ "$status" = pending ] && [ "$retries" = 0 ] && [ "$worker" = - ] \
    || { podman logs "$name" | tail -30; fail "the running job was not handed back: $status, retry_count $retries, worker $worker"; }
echo "podman stop: exit 0 after ${stop_s} s (SHUTDOWN_TIMEOUT_SECONDS=20, grace 60); the running job is pending again, retry_count 0"

# --- compose.yaml -----------------------------------------------------------------------------------
step "compose.yaml with docker-compose, through podman's Docker API"
# (podman-compose 1.0 cannot run a service on the host's network: it always adds its own network)
podman system service --time=0 "unix://$work/podman.sock" >"$work/service.log" 2>&1 &
service_pid=$!
export DOCKER_HOST="unix://$work/podman.sock"
for _ in $(seq 1 50); do [ -S "$work/podman.sock" ] && break; sleep 0.1; done
db2="caravan_compose_$(date +%s)"
sql "$DB_URL" "CREATE DATABASE $db2"
url2="${DB_URL%/*}/$db2"
mkdir -p "$work/compose/routes" "$work/compose/results"
cp compose.yaml "$work/compose/"
cp "$routes/pipeline-container-wait.camel.yaml" "$work/compose/routes/"
chmod -R a+rwX "$work/compose"
compose_health=$(free_port)
# what this machine lacks, swapped in a copy of compose.yaml: the image is the one built above
# (compose would build the same Dockerfile), the database is the local server (postgres:16 cannot be
# pulled: its service only waits), and every service is on the host's network (so nothing is
# published). Everything else (volumes, environment, grace period, dependencies) is compose.yaml's.
/usr/bin/python3 - "$IMAGE" "$url2" "$compose_health" "$(free_port)" <<'PY' >"$work/compose/compose.test.yaml"
import sys, yaml
image, url, health, api = sys.argv[1:5]
compose = yaml.safe_load(open("compose.yaml"))
pg = compose["services"]["postgres"]
pg.update(image=image, entrypoint=["sh", "-c", "sleep 3600"], network_mode="host",
          healthcheck={"test": ["CMD-SHELL", "true"], "interval": "1s"})
pg.pop("volumes", None)
compose.pop("volumes", None)
cv = compose["services"]["caravan"]
cv.pop("build", None)
cv.pop("ports", None)
cv.update(image=image, network_mode="host")
cv["environment"].update(DATABASE_URL=url, HEALTH_CHECK_PORT=health, API_PORT=api)
print(yaml.safe_dump(compose, sort_keys=False))
PY
# compose waits for the database's health check (depends_on: service_healthy), whose timer is
# systemd's under podman: with no systemd here, this loop runs the checks as the timer would
( while :; do
    for c in $(podman ps --filter health=starting --filter health=unhealthy --format '{{.Names}}' 2>/dev/null); do
      podman healthcheck run "$c" >/dev/null 2>&1
    done
    sleep 1
  done ) &
timer_pid=$!
(cd "$work/compose" && timeout 300 docker-compose -f compose.test.yaml up -d >"$work/compose.log" 2>&1) \
    || { cat "$work/compose.log"; fail "docker-compose up failed"; }
compose_up=yes
ok=""
for _ in $(seq 1 120); do curl -fsS "127.0.0.1:$compose_health/health" >/dev/null 2>&1 && { ok=yes; break; }; sleep 1; done
[ -n "$ok" ] || { cat "$work/compose.log"; (cd "$work/compose" && docker-compose -f compose.test.yaml logs --tail 30); fail "the compose service never answered /health on $compose_health"; }
job=$(sql "$url2" "INSERT INTO job_queue (job_type, job_name, job_payload) VALUES ('container_wait', 'compose', '{\"sleep_ms\": 10}') RETURNING id")
for _ in $(seq 1 100); do [ "$(sql "$url2" "SELECT status FROM job_queue WHERE id = '$job'")" = completed ] && break; sleep 0.2; done
[ "$(sql "$url2" "SELECT status FROM job_queue WHERE id = '$job'")" = completed ] || fail "the compose service did not run a job"
stop_start=$(date +%s)
(cd "$work/compose" && timeout 120 docker-compose -f compose.test.yaml stop >>"$work/compose.log" 2>&1)
code=$(podman inspect compose_caravan_1 --format '{{.State.ExitCode}}' 2>/dev/null || echo "?")
[ "$code" = 0 ] || fail "the compose service exited $code when stopped"
echo "compose.yaml: healthy, its routes volume ran a job, stopped with exit 0 in $(( $(date +%s) - stop_start )) s"

echo "container test passed (image ${size_mb} MB)"
