// Turns `kubectl kustomize ops/k8s` into what `podman kube play` (4.3) can run on one machine without
// a cluster: the ConfigMap and the Deployment only, on the host's network (no ports), its image the one
// built here, the Secret's and the pod name's values given as plain values (podman 4.3 cannot read a
// secretKeyRef), probes on the management port's number. Everything else (probes' paths, grace
// period, volumes, the user) is left as the manifests say.
//   kubectl kustomize ops/k8s | node podman.mjs IMAGE '{"DATABASE_URL": "...", ...}'
import { readFileSync } from "node:fs";
import { parseAllDocuments, stringify } from "yaml";

const [image, valuesJson] = process.argv.slice(2);
const values = JSON.parse(valuesJson);
const docs = parseAllDocuments(readFileSync(0, "utf8")).map((d) => d.toJS()).filter(Boolean);
const out = [];
for (const doc of docs) {
  if (doc.kind === "ConfigMap") out.push(doc);
  if (doc.kind !== "Deployment") continue;
  const pod = doc.spec.template.spec;
  pod.hostNetwork = true;
  for (const c of pod.containers) {
    c.image = image;
    const management = c.ports.find((p) => p.name === "management").containerPort;
    delete c.ports;
    c.env = c.env
      .map((e) => (e.name in values ? { name: e.name, value: String(values[e.name]) } : e))
      .filter((e) => !e.valueFrom);
    for (const [name, value] of Object.entries(values)) {
      if (!c.env.some((e) => e.name === name)) c.env.push({ name, value: String(value) });
    }
    const port = Number(values.HEALTH_CHECK_PORT ?? management);
    for (const probe of ["livenessProbe", "readinessProbe", "startupProbe"]) {
      if (c[probe]?.httpGet) c[probe].httpGet.port = port;
    }
  }
  out.push(doc);
}
process.stdout.write(out.map((d) => stringify(d)).join("---\n"));
