import { exports } from "cloudflare:workers";
import { expect } from "vitest";
import { call, createModel, uniqueName } from "../helpers";
import { createRun } from "../tracking-helpers";

/** A new model with version 1 holding `files`, uploaded under a run and registered READY. */
export async function publish(files: Record<string, string>, prefix = "signed"): Promise<string> {
  const name = await createModel(uniqueName(prefix));
  const root = `${String((await createRun("0")).info.artifact_uri).replace(/^mlflow-artifacts:\//, "")}/model`;
  for (const [path, body] of Object.entries(files)) {
    const res = await exports.default.fetch(
      new Request(`http://modelgate.test/api/2.0/mlflow-artifacts/artifacts/${root}/${path}`, { method: "PUT", body }),
    );
    expect(res.status).toBe(200);
  }
  const created = await call("POST", "/model-versions/create", { name, source: `mlflow-artifacts:/${root}` });
  expect(created.body.model_version.status).toBe("READY");
  return name;
}
