import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { expect, onTestFinished, vi } from "vitest";
import worker from "../src/index";

export const API = "http://modelgate.test/api/2.0/mlflow";

export type Json = Record<string, any>;

export interface CallOptions {
  headers?: Record<string, string>;
  /** Return only once the work the request left running after its answer is done (fetchSettled). */
  settle?: boolean;
}

/** Calls the Worker the way the MLflow client does: query string for GET, JSON body otherwise. */
export async function call(
  method: string,
  path: string,
  params: Json = {},
  base = API,
  options: CallOptions = {},
): Promise<{ status: number; body: Json }> {
  let url = `${base}${path}`;
  const init: RequestInit = { method, headers: { "content-type": "application/json", ...options.headers } };
  if (method === "GET") {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) for (const item of [v].flat()) query.append(k, String(item));
    url += `?${query}`;
  } else {
    init.body = JSON.stringify(params);
  }
  const request = new Request(url, init);
  const response = options.settle ? await fetchSettled(request) : await exports.default.fetch(request);
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {} };
}

/**
 * Sends a request to the Worker's handler and returns once the work it left running after the
 * answer (`waitUntil`: the audit row, ...) has finished: the barrier a test waits on instead of polling.
 */
export async function fetchSettled(request: Request): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(request, env, ctx);
  const body = await response.arrayBuffer();
  await waitOnExecutionContext(ctx);
  return new Response(body, response);
}

/**
 * Answers `probe`'s first truthy value, asking it at most `attempts` times, `intervalMs` apart.
 * For what the Worker does behind a test's back (a queue batch, a Durable Object alarm) there is
 * no signal a test can wait on: workerd runs a promise's continuation in the context that resolved
 * it, so a queue handler or an alarm that woke a waiting test would leave the test's next D1 call
 * in a context about to end (it hangs, or fails with "Cannot perform I/O on behalf of a different
 * Durable Object"). So the wait is a bounded number of attempts, counted rather than timed against
 * `Date.now()`, which a test that froze the clock (`testClock`) would never see run out.
 */
export async function retryUntil<T>(
  probe: () => Promise<T | undefined | null | false>,
  { attempts, intervalMs, what = "the condition" }: { attempts: number; intervalMs: number; what?: string },
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const value = await probe();
    if (value) return value;
    if (attempt >= attempts) throw new Error(`${what}: not met after ${attempts} attempts ${intervalMs} ms apart`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
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

/** Registers a version; the default source is an outside store, which registers READY without files here. */
export async function createVersion(name: string, source = "s3://models/abc/model"): Promise<Json> {
  const { status, body } = await call("POST", "/model-versions/create", { name, source });
  if (status !== 200) throw new Error(`version of ${name}: ${status} ${JSON.stringify(body)}`);
  return body.model_version;
}

/** Base URLs of the same registry tree as MLflow's UI calls it, and of Modelgate's own endpoints. */
export const AJAX_API = "http://modelgate.test/ajax-api/2.0/mlflow";
export const MODELGATE_API = "http://modelgate.test/api/2.0/modelgate";

/**
 * The time the Worker sees. These tests run in the Worker's own isolate, and its clocks read
 * `Date.now()` on every call (src/domain/clock.ts), so faking `Date` here sets the time every
 * timestamp and expiry check uses. Only `Date` is faked: timers, I/O, retries and alarms run as usual.
 * `freeze` must come before the records the test compares are created; the real clock comes back
 * when the test ends.
 */
export const testClock = {
  /** Stops the clock at `at` (default: now) until the test ends or `advance` moves it. */
  freeze(at = Date.now()): void {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(at);
    onTestFinished(() => {
      vi.useRealTimers();
    });
  },
  /** Moves the frozen clock forward (default 1 ms: enough for two timestamps to differ). */
  advance(ms = 1): void {
    if (!vi.isFakeTimers()) throw new Error("testClock.advance: freeze the clock first");
    vi.setSystemTime(Date.now() + ms);
  },
};

/** Sends a request with an exact body text (or none), for malformed and unusual requests. */
export async function rawCall(
  method: string,
  url: string,
  body?: string,
  headers: Record<string, string> = { "content-type": "application/json" },
): Promise<{ status: number; text: string; contentType: string | null }> {
  const response = await exports.default.fetch(new Request(url, { method, headers, body }));
  return { status: response.status, text: await response.text(), contentType: response.headers.get("content-type") };
}

/** Creates a registered model with any create parameters (tags, description, ...) and returns it. */
export async function createModelWith(params: Json): Promise<Json> {
  const { status, body } = await call("POST", "/registered-models/create", params);
  if (status !== 200) throw new Error(`create ${params.name}: ${status} ${JSON.stringify(body)}`);
  return body.registered_model;
}

/**
 * A source in a store Modelgate does not manage, so registering it depends on no uploaded artifacts:
 * registry tests stay about the registry.
 */
export const EXTERNAL_SOURCE = "s3://modelgate-test-bucket/models/model";

/** Creates a model version with any create parameters (source, run_id, tags, ...) and returns it. */
export async function createVersionWith(name: string, params: Json = {}): Promise<Json> {
  const { status, body } = await call("POST", "/model-versions/create", { name, source: EXTERNAL_SOURCE, ...params });
  if (status !== 200) throw new Error(`version of ${name}: ${status} ${JSON.stringify(body)}`);
  return body.model_version;
}

/** Moves a version to a stage and returns the updated version; throws on any error. */
export async function transitionTo(
  name: string,
  version: string,
  stage: string,
  archiveExisting = false,
  comment?: string,
): Promise<Json> {
  const { status, body } = await call("POST", "/model-versions/transition-stage", {
    name,
    version,
    stage,
    archive_existing_versions: archiveExisting,
    ...(comment === undefined ? {} : { comment }),
  });
  if (status !== 200) throw new Error(`transition ${name} v${version} to ${stage}: ${status} ${JSON.stringify(body)}`);
  return body.model_version;
}

/** The current stage of every version of a model, by version number, read through model-versions/get. */
export async function stagesOf(name: string, versions: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const version of versions) {
    const { status, body } = await call("GET", "/model-versions/get", { name, version });
    if (status !== 200) throw new Error(`get ${name} v${version}: ${status} ${JSON.stringify(body)}`);
    out[version] = body.model_version.current_stage;
  }
  return out;
}

/**
 * Asserts an MLflow error answer: the HTTP status, the error_code, and a body of exactly the two
 * string fields `error_code` and `message` (optionally matching `message`).
 */
export function expectError(
  res: { status: number; body: Json },
  status: number,
  code: string,
  message?: string | RegExp,
): void {
  expect({ status: res.status, error_code: res.body.error_code }).toEqual({ status, error_code: code });
  expect(Object.keys(res.body).sort()).toEqual(["error_code", "message"]);
  expect(typeof res.body.message).toBe("string");
  if (typeof message === "string") expect(res.body.message).toBe(message);
  else if (message) expect(res.body.message).toMatch(message);
}

/** A downloaded file's bytes as text (`.text()` on an octet-stream body makes workerd warn). */
export async function bodyText(res: Response): Promise<string> {
  return new TextDecoder().decode(await res.arrayBuffer());
}
