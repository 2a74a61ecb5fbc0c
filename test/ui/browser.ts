import { exports } from "cloudflare:workers";
import { expect } from "vitest";
import { call, uniqueName } from "../helpers";

export const ORIGIN = "http://modelgate.test";

export interface Page {
  status: number;
  html: string;
  headers: Headers;
}

/**
 * A minimal browser for the UI: keeps cookies, sends what a browser sends (Accept: text/html,
 * Origin on form posts), and never follows redirects, so tests see each step.
 */
export class Browser {
  readonly cookies = new Map<string, string>();

  async get(path: string): Promise<Page> {
    return this.send(
      new Request(`${ORIGIN}${path}`, {
        headers: this.headers({ accept: "text/html,application/xhtml+xml" }),
        redirect: "manual",
      }),
    );
  }

  /**
   * Posts a form as a browser on this origin does; `extra` overrides or adds headers. Fields as
   * pairs send a name more than once (a group of checkboxes).
   */
  async post(
    path: string,
    fields: Record<string, string> | [string, string][],
    extra: Record<string, string> = {},
  ): Promise<Page> {
    const headers = this.headers({
      accept: "text/html",
      "content-type": "application/x-www-form-urlencoded",
      origin: ORIGIN,
      "sec-fetch-site": "same-origin",
      ...extra,
    });
    return this.send(
      new Request(`${ORIGIN}${path}`, {
        method: "POST",
        headers,
        body: new URLSearchParams(fields).toString(),
        redirect: "manual",
      }),
    );
  }

  /** Loads `page` and returns the CSRF token its forms carry. */
  async token(page = "/"): Promise<string> {
    const res = await this.get(page);
    return csrfOf(res.html);
  }

  /** Submits a form found on `page` (its token included) and, when a confirmation is asked for, confirms it. */
  async submit(page: string, action: string, fields: Record<string, string>, confirm = true): Promise<Page> {
    const token = await this.token(page);
    const first = await this.post(action, { ...fields, _csrf: token });
    if (first.status !== 200 || !confirm) return first;
    expect(first.html).toContain('name="confirmed" value="yes"');
    return this.post(action, { ...hiddenFields(first.html), comment: fields.comment ?? "" });
  }

  private headers(base: Record<string, string>): Headers {
    const headers = new Headers(base);
    if (this.cookies.size > 0) headers.set("cookie", [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    return headers;
  }

  private async send(request: Request): Promise<Page> {
    const res = await exports.default.fetch(request);
    for (const line of res.headers.getSetCookie()) {
      const [pair = "", ...attributes] = line.split(";");
      const at = pair.indexOf("=");
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === "";
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return { status: res.status, html: await res.text(), headers: res.headers };
  }
}

export function csrfOf(html: string): string {
  const match = /name="_csrf" value="([0-9a-f]{64})"/.exec(html);
  if (!match) throw new Error(`no CSRF token in the page:\n${html.slice(0, 400)}`);
  return match[1]!;
}

/** The hidden inputs of the (first) form on a confirmation page. */
export function hiddenFields(html: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\/?>/g))
    fields[m[1]!] = decodeEntities(m[2]!);
  return fields;
}

export function decodeEntities(text: string): string {
  return text
    .replaceAll("&quot;", '"')
    .replaceAll("&#39;", "'")
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&amp;", "&");
}

/** The page's text without tags, with whitespace collapsed, for content assertions. */
export function textOf(html: string): string {
  return decodeEntities(
    html.replace(/<style[\s\S]*?<\/style>|<script[\s\S]*?<\/script>/g, " ").replace(/<[^>]+>/g, " "),
  ).replace(/\s+/g, " ");
}

export async function ok(method: string, path: string, params: Record<string, unknown> = {}, base?: string) {
  const res = await call(method, path, params, base);
  if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function upload(path: string, body: string): Promise<void> {
  const res = await exports.default.fetch(
    new Request(`${ORIGIN}/api/2.0/mlflow-artifacts/artifacts/${path}`, { method: "PUT", body }),
  );
  if (res.status !== 200) throw new Error(`upload ${path}: ${res.status} ${await res.text()}`);
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * A run with params and metrics and a model folder; registers it as the next version of `name`.
 * `metrics` are logged at step 0; `history` maps a metric to its values at steps 0, 1, 2, …
 */
export async function registerTrained(
  name: string,
  params: Record<string, string>,
  metrics: Record<string, number>,
  files: Record<string, string> = { MLmodel: "flavors: {}" },
  { history = {}, runName = uniqueName("run") }: { history?: Record<string, number[]>; runName?: string } = {},
) {
  const exp = await ok("POST", "/experiments/create", { name: uniqueName("exp") });
  const run = await ok("POST", "/runs/create", {
    experiment_id: exp.experiment_id,
    start_time: Date.now(),
    run_name: runName,
  });
  const runId = run.run.info.run_id as string;
  for (const [key, value] of Object.entries(params))
    await ok("POST", "/runs/log-parameter", { run_id: runId, key, value });
  for (const [key, value] of Object.entries(metrics))
    await ok("POST", "/runs/log-metric", { run_id: runId, key, value, timestamp: Date.now(), step: 0 });
  const points = Object.entries(history).flatMap(([key, values]) =>
    values.map((value, step) => ({ key, value, step, timestamp: 1_000 + step })),
  );
  if (points.length > 0) await ok("POST", "/runs/log-batch", { run_id: runId, metrics: points });
  for (const [path, body] of Object.entries(files))
    await upload(`${exp.experiment_id}/${runId}/artifacts/model/${path}`, body);
  const created = await ok("POST", "/model-versions/create", { name, source: `runs:/${runId}/model`, run_id: runId });
  expect(created.model_version.status).toBe("READY");
  return { runId, experimentId: exp.experiment_id as string, version: created.model_version.version as string };
}

export async function stageOf(name: string, version: string): Promise<string> {
  return (await ok("GET", "/model-versions/get", { name, version })).model_version.current_stage;
}

export async function transitions(
  name: string,
): Promise<{ version: string; from_stage: string; to_stage: string; actor: string; comment?: string }[]> {
  return (await ok("GET", "/model-versions/transitions", { name }, `${ORIGIN}/api/2.0/modelgate`)).transitions;
}
