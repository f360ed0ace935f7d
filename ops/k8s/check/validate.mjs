// Validates the objects `kubectl kustomize ops/k8s` makes (read from stdin) against the Kubernetes and
// KEDA schemas (kubernetes-models, @kubernetes-models/keda), then checks what the README promises of
// them; prints one line per object and exits 1 on the first thing wrong. No cluster is needed.
//   kubectl kustomize ops/k8s | node ops/k8s/check/validate.mjs
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { ConfigMap } from "kubernetes-models/v1";
import { Deployment } from "kubernetes-models/apps/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ScaledObject, TriggerAuthentication } from "@kubernetes-models/keda/keda.sh/v1alpha1";

const models = { ConfigMap, Deployment, PodDisruptionBudget, ScaledObject, TriggerAuthentication };
const docs = parseAllDocuments(readFileSync(0, "utf8")).map((d) => d.toJS()).filter(Boolean);
const byKind = {};
function fail(message) {
  console.error(`FAILED: ${message}`);
  process.exit(1);
}
for (const doc of docs) {
  const Model = models[doc.kind];
  if (!Model) fail(`unexpected kind ${doc.kind}`);
  try {
    new Model(doc).validate();
  } catch (e) {
    fail(`${doc.kind} ${doc.metadata?.name}: ${e.message}`);
  }
  byKind[doc.kind] = doc;
  console.log(`valid ${doc.apiVersion} ${doc.kind} ${doc.metadata.name}`);
}
for (const kind of Object.keys(models)) {
  if (!byKind[kind]) fail(`no ${kind}`);
}

const deployment = byKind.Deployment;
const pod = deployment.spec.template.spec;
const container = pod.containers[0];
const env = Object.fromEntries(container.env.map((e) => [e.name, e]));
const value = (name) => env[name]?.value;
const shutdown = Number(value("SHUTDOWN_TIMEOUT_SECONDS"));
// Camel's own stop takes up to 15 s after the jobs' SHUTDOWN_TIMEOUT_SECONDS
if (!(pod.terminationGracePeriodSeconds > shutdown + 15)) {
  fail(`terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} is not above SHUTDOWN_TIMEOUT_SECONDS ${shutdown} + 15`);
}
const management = container.ports.find((p) => p.name === "management");
if (String(management.containerPort) !== value("HEALTH_CHECK_PORT")) fail("the management port is not HEALTH_CHECK_PORT");
for (const probe of ["livenessProbe", "readinessProbe", "startupProbe"]) {
  if (container[probe]?.httpGet?.port !== "management") fail(`${probe} is not on the management port`);
}
if (container.livenessProbe.httpGet.path !== "/observe/health/live") fail("liveness is not /observe/health/live");
if (container.readinessProbe.httpGet.path !== "/observe/health/ready") fail("readiness is not /observe/health/ready");
for (const secret of ["DATABASE_URL", "CARAVAN_API_KEY", "CARAVAN_MANAGEMENT_KEY", "OPENAI_API_KEY"]) {
  if (!env[secret]?.valueFrom?.secretKeyRef) fail(`${secret} is not read from a Secret`);
}
const memory = container.resources.limits.memory;
if (!/^\d+Mi$/.test(memory) || Number.parseInt(memory) < 256) fail(`memory limit ${memory} is below the measured 256 MB bound`);
const routes = pod.volumes.find((v) => v.name === "routes");
if (routes?.configMap?.name !== byKind.ConfigMap.metadata.name) fail("the routes volume is not the routes ConfigMap");
if (!container.volumeMounts.some((m) => m.name === "routes" && m.mountPath === "/app/routes")) fail("routes not at /app/routes");

const scaled = byKind.ScaledObject;
if (scaled.spec.scaleTargetRef.name !== deployment.metadata.name) fail("the ScaledObject does not scale the Deployment");
const trigger = scaled.spec.triggers[0];
if (trigger.type !== "postgresql") fail("the trigger is not postgresql");
const concurrency = value("WORKER_CONCURRENCY");
if (trigger.metadata.query !== `SELECT caravan_workers_wanted(${concurrency})`) {
  fail(`the query ${trigger.metadata.query} does not ask for workers of WORKER_CONCURRENCY ${concurrency}`);
}
if (trigger.metadata.targetQueryValue !== "1") fail("targetQueryValue must be 1: the query already counts workers");
if (trigger.authenticationRef.name !== byKind.TriggerAuthentication.metadata.name) fail("the trigger's authentication is not ours");
const pdbSelector = JSON.stringify(byKind.PodDisruptionBudget.spec.selector.matchLabels);
if (pdbSelector !== JSON.stringify(deployment.spec.selector.matchLabels)) fail("the PodDisruptionBudget selects other pods");
console.log("ops/k8s: every object valid, and as the README says");
