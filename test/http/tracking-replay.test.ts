import { describe, expect, it, vi } from "vitest";
import mlflow212 from "../../../shared/fixtures/mlflow-2.12-client-seed-workflow.jsonl?raw";
import mlflow35 from "../../../shared/fixtures/mlflow-3.5-client-seed-workflow.jsonl?raw";
import { call, uniqueName, type Json } from "../helpers";

// Contract test: replays, in order, every Tracking request the real MLflow clients (2.12.2 and
// 3.5.1) sent in the recorded seed workflow, and checks each answer against MLflow's own: same
// status and error_code, and every field the recorded response has, with the same value and type.
// Ids the server makes up (experiment, run and logged-model ids) are learned from earlier answers
// and substituted; server clock readings are checked for type only. Registry and artifact requests
// of the workflow are other tests' business and are skipped here.

vi.setConfig({ testTimeout: 120_000 });

interface Exchange {
  method: string;
  path: string;
  query: Record<string, string[]>;
  req: Json | null;
  status: number;
  resp: Json;
}

const TRACKING = /^\/api\/2\.0\/mlflow\/(experiments|runs|metrics|logged-models)(\/|$)/;
/** Server clock readings: only their type can match. */
const CLOCK_FIELDS = new Set(["creation_time", "last_update_time", "creation_timestamp_ms", "last_updated_timestamp_ms"]);
/** Written by the registry's model-versions/create (not replayed here); the client then sets it itself. */
const REGISTRY_WRITTEN_TAGS = new Set(["mlflow.modelVersions"]);

const exchanges = (jsonl: string): Exchange[] =>
  jsonl
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as Exchange);

/** Recorded ids and names → ours. */
class Substitutions {
  private readonly experiments = new Map<string, string>();
  private readonly strings = new Map<string, string>();

  experiment(recorded: string, ours: string) {
    this.experiments.set(recorded, ours);
  }

  text(recorded: string, ours: string) {
    this.strings.set(recorded, ours);
  }

  apply(value: unknown, key?: string): unknown {
    if (Array.isArray(value)) return value.map((v) => this.apply(v, key));
    if (value && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.apply(v, k)]));
    }
    if (typeof value !== "string") return value;
    if ((key === "experiment_id" || key === "experiment_ids") && this.experiments.has(value)) return this.experiments.get(value);
    let out = value.replace(/^mlflow-artifacts:\/(\d+)(?=\/|$)/, (whole, id: string) =>
      this.experiments.has(id) ? `mlflow-artifacts:/${this.experiments.get(id)}` : whole,
    );
    for (const [from, to] of this.strings) out = out.split(from).join(to);
    return out;
  }
}

function withoutRegistryTags(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value
      .filter((v) => !(v && typeof v === "object" && REGISTRY_WRITTEN_TAGS.has((v as Json).key)))
      .map(withoutRegistryTags);
  }
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutRegistryTags(v)]));
  return value;
}

/** Every field of `expected` must be in `actual`, equal (clock fields: same type). Extra fields are fine. */
function contractProblems(expected: unknown, actual: unknown, path: string, problems: string[]): void {
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return void problems.push(`${path}: expected a list, got ${JSON.stringify(actual)}`);
    if (actual.length !== expected.length) problems.push(`${path}: expected ${expected.length} items, got ${actual.length}`);
    expected.forEach((e, i) => contractProblems(e, actual[i], `${path}[${i}]`, problems));
    return;
  }
  if (expected && typeof expected === "object") {
    if (!actual || typeof actual !== "object" || Array.isArray(actual)) return void problems.push(`${path}: expected an object, got ${JSON.stringify(actual)}`);
    for (const [k, e] of Object.entries(expected)) {
      const a = (actual as Json)[k];
      if (CLOCK_FIELDS.has(k)) {
        if (typeof a !== typeof e) problems.push(`${path}.${k}: expected a ${typeof e}, got ${JSON.stringify(a)}`);
      } else {
        contractProblems(e, a, `${path}.${k}`, problems);
      }
    }
    return;
  }
  if (actual !== expected) problems.push(`${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

async function replay(jsonl: string): Promise<number> {
  const subs = new Substitutions();
  // Our test database may already hold the recorded experiment name; give this replay its own.
  subs.text("house-price-registry", uniqueName("house-price-registry"));
  let replayed = 0;
  for (const [index, x] of exchanges(jsonl).entries()) {
    if (!TRACKING.test(x.path)) continue;
    const path = subs.apply(x.path.replace("/api/2.0/mlflow", "")) as string;
    const params =
      x.method === "GET"
        ? (subs.apply(Object.fromEntries(Object.entries(x.query).map(([k, v]) => [k, v.length === 1 ? v[0] : v]))) as Json)
        : ((subs.apply(x.req ?? {}) as Json) ?? {});
    const res = await call(x.method, path, params);
    const where = `#${index} ${x.method} ${x.path}`;
    expect(res.status, `${where}: ${JSON.stringify(res.body)}`).toBe(x.status);
    if (x.status !== 200) {
      expect(res.body.error_code, where).toBe(x.resp.error_code);
      expect(typeof res.body.message, where).toBe("string");
    } else {
      // Learn the ids this server made up before comparing the answer that carries them.
      if (x.path.endsWith("/experiments/create")) subs.experiment(x.resp.experiment_id, res.body.experiment_id);
      if (x.path.endsWith("/runs/create")) subs.text(x.resp.run.info.run_id, res.body.run.info.run_id);
      if (x.method === "POST" && x.path.endsWith("/logged-models")) subs.text(x.resp.model.info.model_id, res.body.model.info.model_id);
      const problems: string[] = [];
      contractProblems(withoutRegistryTags(subs.apply(x.resp)), withoutRegistryTags(res.body), "response", problems);
      expect(problems, where).toEqual([]);
    }
    replayed++;
  }
  return replayed;
}

describe("replay of the recorded MLflow client traffic (Tracking)", () => {
  it("answers the MLflow 2.12 client's tracking requests as MLflow's server did", async () => {
    const recorded = exchanges(mlflow212).filter((x) => TRACKING.test(x.path));
    expect(recorded.map((x) => `${x.method} ${x.path.replace(/[0-9a-f]{32}/g, "<id>")}`)).toContain("POST /api/2.0/mlflow/runs/log-model");
    expect(await replay(mlflow212)).toBe(recorded.length);
    expect(recorded.length).toBe(24);
  });

  it("answers the MLflow 3.5 client's tracking and logged-model requests as MLflow's server did", async () => {
    const recorded = exchanges(mlflow35).filter((x) => TRACKING.test(x.path));
    expect(await replay(mlflow35)).toBe(recorded.length);
    expect(recorded.length).toBe(44);
    expect(recorded.filter((x) => x.path.includes("/logged-models"))).toHaveLength(14);
  });
});
