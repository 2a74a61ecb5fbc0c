import { exports } from "cloudflare:workers";

export const API = "http://modelgate.test/api/2.0/mlflow";

export type Json = Record<string, any>;

/** Calls the Worker the way the MLflow client does: query string for GET, JSON body otherwise. */
export async function call(method: string, path: string, params: Json = {}, base = API): Promise<{ status: number; body: Json }> {
  let url = `${base}${path}`;
  const init: RequestInit = { method, headers: { "content-type": "application/json" } };
  if (method === "GET") {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) for (const item of [v].flat()) query.append(k, String(item));
    url += `?${query}`;
  } else {
    init.body = JSON.stringify(params);
  }
  const response = await exports.default.fetch(new Request(url, init));
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {} };
}

let counter = 0;
/** A model name unique to this test run, so tests own their data. */
export function uniqueName(prefix = "model"): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}

export async function createModel(name = uniqueName()): Promise<string> {
  const { status, body } = await call("POST", "/registered-models/create", { name });
  if (status !== 200) throw new Error(`create ${name}: ${status} ${JSON.stringify(body)}`);
  return name;
}

export async function createVersion(name: string, source = "mlflow-artifacts:/0/abc/artifacts/model"): Promise<Json> {
  const { status, body } = await call("POST", "/model-versions/create", { name, source });
  if (status !== 200) throw new Error(`version of ${name}: ${status} ${JSON.stringify(body)}`);
  return body.model_version;
}
