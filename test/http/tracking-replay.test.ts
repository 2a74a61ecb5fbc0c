import { describe, expect, it, vi } from "vitest";
import mlflow212 from "../fixtures/mlflow-2.12-client-seed-workflow.jsonl?raw";
import mlflow35 from "../fixtures/mlflow-3.5-client-seed-workflow.jsonl?raw";
import { call, uniqueName, type Json } from "../helpers";
import { contractProblems, exchanges, Substitutions, TRACKING_CLOCK_FIELDS } from "./replay-support";

// Contract test: replays, in order, every Tracking request the real MLflow clients (2.12.2 and
// 3.5.1) sent in the recorded seed workflow, and checks each answer against MLflow's own: same
// status and error_code, and every field the recorded response has, with the same value and type.
// Ids the server makes up (experiment, run and logged-model ids) are learned from earlier answers
// and substituted; server clock readings are checked for type only. Registry and artifact requests
// of the workflow are other tests' business and are skipped here.

vi.setConfig({ testTimeout: 120_000 });

const TRACKING = /^\/api\/2\.0\/mlflow\/(experiments|runs|metrics|logged-models)(\/|$)/;
/** Written by the registry's model-versions/create (not replayed here); the client then sets it itself. */
const REGISTRY_WRITTEN_TAGS = new Set(["mlflow.modelVersions"]);

function withoutRegistryTags(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value
      .filter((v) => !(v && typeof v === "object" && REGISTRY_WRITTEN_TAGS.has((v as Json).key)))
      .map(withoutRegistryTags);
  }
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutRegistryTags(v)]));
  return value;
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
        ? (subs.apply(
            Object.fromEntries(Object.entries(x.query).map(([k, v]) => [k, v.length === 1 ? v[0] : v])),
          ) as Json)
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
      if (x.method === "POST" && x.path.endsWith("/logged-models"))
        subs.text(x.resp.model.info.model_id, res.body.model.info.model_id);
      const problems: string[] = [];
      contractProblems(withoutRegistryTags(subs.apply(x.resp)), withoutRegistryTags(res.body), "response", problems, {
        clockFields: TRACKING_CLOCK_FIELDS,
      });
      expect(problems, where).toEqual([]);
    }
    replayed++;
  }
  return replayed;
}

describe("replay of the recorded MLflow client traffic (Tracking)", () => {
  it("answers the MLflow 2.12 client's tracking requests as MLflow's server did", async () => {
    const recorded = exchanges(mlflow212).filter((x) => TRACKING.test(x.path));
    expect(recorded.map((x) => `${x.method} ${x.path.replace(/[0-9a-f]{32}/g, "<id>")}`)).toContain(
      "POST /api/2.0/mlflow/runs/log-model",
    );
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
