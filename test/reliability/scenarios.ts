// Deterministic scenarios against a running `npm start`, for races and reuse the random storm hits
// only by chance. Each returns a ScenarioOutcome.
import { createHash } from "node:crypto";

/** What a scenario did and found. */
export interface ScenarioOutcome {
  name: string;
  checks: number;
  reads?: number;
  violations: string[];
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

function client(base: string) {
  const json = async (method: string, route: string, body?: unknown): Promise<{ status: number; body: any }> => {
    const res = await fetch(`${base}/api/2.0/${route}`, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };
  const must = async (method: string, route: string, body?: unknown) => {
    const res = await json(method, route, body);
    if (res.status !== 200)
      throw new Error(`${method} ${route} ${JSON.stringify(body)}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const put = async (path: string, bytes: Uint8Array) => {
    const res = await fetch(`${base}/api/2.0/mlflow-artifacts/artifacts/${path}`, {
      method: "PUT",
      body: bytes as BodyInit,
    });
    if (res.status !== 200) throw new Error(`PUT ${path}: ${res.status} ${await res.text()}`);
  };
  const get = async (path: string) => {
    const res = await fetch(`${base}${path}`);
    return {
      status: res.status,
      bytes: new Uint8Array(await res.arrayBuffer()),
      cache: res.headers.get("x-modelgate-cache"),
    };
  };
  /** A new run's artifact root (`<experiment>/<run>/artifacts`): artifact writes land only inside one. */
  const runRoot = async () => {
    const { run } = await must("POST", "mlflow/runs/create", { experiment_id: "0", start_time: Date.now() });
    return String(run.info.artifact_uri).replace(/^mlflow-artifacts:\//, "");
  };
  return { json, must, put, get, runRoot };
}

/**
 * A name used by one model, then by another (after a delete, or after a rename): the immutable
 * /v1 file URL of the new model's version 1 must serve the new model's bytes, not the old one's.
 */
export async function nameReuse(base: string, tag: string, _options?: { rounds?: number }): Promise<ScenarioOutcome> {
  const c = client(base);
  const violations: string[] = [];
  let checks = 0;
  // One run holds every file of the scenario; each model version is registered from its own folder.
  const root = await c.runRoot();
  for (const how of ["delete", "rename"]) {
    const name = `reuse-${tag}-${how}`;
    const encode = (text: string) => new TextEncoder().encode(text);
    const files = [encode("first model's weights"), encode("second model's weights, different and longer")] as const;
    await c.must("POST", "mlflow/registered-models/create", { name });
    await c.put(`${root}/${how}/a/model.bin`, files[0]);
    await c.must("POST", "mlflow/model-versions/create", { name, source: `mlflow-artifacts:/${root}/${how}/a` });
    const first = await c.get(`/v1/models/${name}/versions/1/files/model.bin`);
    if (sha256(first.bytes) !== sha256(files[0])) violations.push(`${name}: v1 served other bytes before any reuse`);
    if (how === "delete") await c.must("DELETE", "mlflow/registered-models/delete", { name });
    else await c.must("POST", "mlflow/registered-models/rename", { name, new_name: `${name}-moved` });
    await c.must("POST", "mlflow/registered-models/create", { name });
    await c.put(`${root}/${how}/b/model.bin`, files[1]);
    await c.must("POST", "mlflow/model-versions/create", { name, source: `mlflow-artifacts:/${root}/${how}/b` });
    const lineage = await c.must("GET", `modelgate/model-versions/lineage?name=${name}&version=1`);
    const second = await c.get(`/v1/models/${name}/versions/1/files/model.bin`);
    checks++;
    if (sha256(second.bytes) !== lineage.files[0].sha256) {
      violations.push(
        `after ${how === "delete" ? "deleting model" : "renaming away model"} ${name} and registering a new ${name} v1, ` +
          `GET /v1/models/${name}/versions/1/files/model.bin served ${JSON.stringify(new TextDecoder().decode(second.bytes))} ` +
          `(x-modelgate-cache: ${second.cache}), the previous model's bytes; the manifest says ${lineage.files[0].size} B ${lineage.files[0].sha256.slice(0, 12)}`,
      );
    }
  }
  return { name: "name reuse serves the new model's files", checks, violations };
}

/**
 * Readers hammer GET /v1/models/<name>/Production while versions are promoted one after another.
 * Once a promotion is acknowledged and the reads that were in flight have finished, the same
 * location must resolve Production to the promoted version (the promotion purges the local cache).
 */
export async function promotionFreshness(
  base: string,
  tag: string,
  { rounds = 20, readers = 6 }: { rounds?: number; readers?: number } = {},
): Promise<ScenarioOutcome> {
  const c = client(base);
  const name = `fresh-${tag}`;
  await c.must("POST", "mlflow/registered-models/create", { name });
  for (let v = 1; v <= 3; v++)
    await c.must("POST", "mlflow/model-versions/create", { name, source: `s3://fresh/${v}` });
  let stop = false;
  let reads = 0;
  const inFlight = new Set<Promise<ArrayBuffer>>();
  const reader = async () => {
    while (!stop) {
      const p = fetch(`${base}/v1/models/${name}/Production`).then((r) => r.arrayBuffer());
      inFlight.add(p);
      await p.catch(() => undefined);
      inFlight.delete(p);
      reads++;
    }
  };
  const pool = Array.from({ length: readers }, reader);
  const violations: string[] = [];
  let checks = 0;
  try {
    for (let round = 0; round < rounds; round++) {
      const version = String((round % 3) + 1);
      await c.must("POST", "mlflow/model-versions/transition-stage", { name, version, stage: "Production" });
      // Let every read that started before the acknowledgement finish.
      await Promise.allSettled([...inFlight]);
      const res = await fetch(`${base}/v1/models/${name}/Production`);
      const body = (await res.json()) as { version?: string };
      checks++;
      if (body.version !== version) {
        violations.push(
          `${name}: version ${version} was promoted (acknowledged, in-flight reads finished), yet GET /v1/models/${name}/Production ` +
            `answered version ${body.version} (x-modelgate-cache: ${res.headers.get("x-modelgate-cache")}): a resolution computed before the promotion was cached after its purge`,
        );
      }
    }
  } finally {
    stop = true;
    await Promise.all(pool);
  }
  return { name: "a promotion is visible at once through /v1 on the same location", checks, reads, violations };
}
