#!/usr/bin/env bash
# ops/k8s run for real, without a cluster: the Deployment (with its routes ConfigMap) played by
# `podman kube play` against the local PostgreSQL, as ops/k8s/check/podman.mjs adapts it for one
# machine; it must become healthy through its probes, run a job of the ConfigMap's pipeline, and stop.
# Needs the image ops/container/test.sh builds (localhost/caravan:test), podman, kubectl and Node.
# The offline schema checks are KubernetesManifestsTest (part of ./mvnw verify).
#   ops/k8s/check.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

DB_URL=${CONTAINER_TEST_DB_URL:-postgres://postgres@127.0.0.1:5432/test}
IMAGE=${K8S_TEST_IMAGE:-localhost/caravan:test}
work=$(mktemp -d)
cleanup() {
  set +e
  [ -f "$work/play.yaml" ] && podman kube down "$work/play.yaml" >/dev/null 2>&1
  [ -n "${db:-}" ] && psql "$DB_URL" -qAtc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
  rm -rf "$work"
  return 0
}
trap cleanup EXIT
fail() { echo "FAILED: $*"; exit 1; }
# runc, explicit limits, no systemd (the file says why)
export CONTAINERS_CONF="$PWD/ops/container/containers.conf"
podman image exists "$IMAGE" || fail "$IMAGE is missing: run ops/container/test.sh first"
[ -d ops/k8s/check/node_modules ] || (cd ops/k8s/check && npm ci --no-audit --no-fund --loglevel=error >/dev/null)

sql() { psql "$1" -qAtX -v ON_ERROR_STOP=1 -c "$2"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
db="caravan_k8s_$(date +%s)"
sql "$DB_URL" "CREATE DATABASE $db"
url="${DB_URL%/*}/$db"
health=$(free_port)
values=$(printf '{"DATABASE_URL": "%s", "CARAVAN_API_KEY": "k8s-test-key", "CARAVAN_MANAGEMENT_KEY": "k8s-test-management-key", "WORKER_ID": "k8s-pod", "HEALTH_CHECK_PORT": "%s", "API_PORT": "%s", "POLL_INTERVAL": "200"}' \
    "$url" "$health" "$(free_port)")
kubectl kustomize ops/k8s | node ops/k8s/check/podman.mjs "$IMAGE" "$values" >"$work/play.yaml"
podman kube play "$work/play.yaml" >"$work/play.log" 2>&1 || { cat "$work/play.log"; fail "podman kube play failed"; }
pod_container=$(podman ps --format '{{.Names}}' | grep -E '^caravan-pod-' | grep -v infra | head -n 1)
[ -n "$pod_container" ] || { podman ps -a; fail "the Deployment's container is not running"; }

ready=""
for _ in $(seq 1 120); do
  curl -fsS "127.0.0.1:$health/observe/health/ready" >/dev/null 2>&1 && { ready=yes; break; }
  sleep 1
done
[ -n "$ready" ] || { podman logs "$pod_container" | tail -30; fail "never ready on /observe/health/ready"; }
# the liveness probe is the container's health check under podman
podman healthcheck run "$pod_container" >/dev/null || fail "the liveness probe (podman's health check) fails"
echo "the Deployment runs: ready, and live through its probe ($pod_container)"

job=$(sql "$url" "INSERT INTO job_queue (job_type, job_name, job_payload) VALUES ('example_echo', 'k8s', '{\"n\": 1}') RETURNING id")
for _ in $(seq 1 100); do [ "$(sql "$url" "SELECT status FROM job_queue WHERE id = '$job'")" = completed ] && break; sleep 0.2; done
[ "$(sql "$url" "SELECT job_result ->> 'n' FROM job_queue WHERE id = '$job'")" = 1 ] \
    || { podman logs "$pod_container" | tail -30; fail "the ConfigMap's pipeline did not run a job"; }
echo "the routes ConfigMap's pipeline (example_echo) ran a job"
[ "$(sql "$url" "SELECT caravan_workers_wanted(50)")" = 0 ] || fail "an idle queue should want no workers"
podman kube down "$work/play.yaml" >/dev/null 2>&1
rm -f "$work/play.yaml"
echo "ops/k8s check passed"
