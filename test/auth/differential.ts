import { exports } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { guardScope } from "../../src/http/auth";
import { uniqueName } from "../helpers";
import { ADMIN, ORIGIN, bearer, createToken, send } from "./helpers";
import { modelSnapshot, seedModel, type SeededModel } from "./seed";

// The differential authorization test (issue 13). For every route in the app's route table, a
// token that is admin on model A only sends property-generated requests aimed at model B, in every
// encoding a client can choose: JSON, JSON inside a JSON string, the query string, a form body,
// query and body naming different models, repeated keys, percent-encoded path segments, and both
// API trees (the table holds /ajax-api/ routes too). Afterwards B's rows, files, events, webhooks,
// policy and audit trail must be as they were, and no answer may carry B's data.
//
// New routes join by being in the table; a new way of reading parameters is caught because every
// encoding is tried on every route. Breaking the guard (e.g. `byName` returning no model) makes
// this fail on the first route that acts on B.

export interface Route {
  method: string;
  path: string;
}

/** Every guarded, credentialed route the app serves (public ones carry their own signed credential). */
export function routeTable(): Route[] {
  const seen = new Map<string, Route>();
  for (const route of createApp().routes) {
    const scope = guardScope(route.handler);
    if (route.method === "ALL" || scope === undefined || scope === "public") continue;
    seen.set(`${route.method} ${route.path}`, { method: route.method, path: route.path });
  }
  return [...seen.values()];
}

const TRACKING = /\/(experiments|runs|metrics|logged-models)(\/|$)/;

const ENCODINGS = ["json", "json-in-string", "query", "form", "query-names-a", "repeated-keys"] as const;
type Encoding = (typeof ENCODINGS)[number];

const percentEncodeAll = (text: string) =>
  [...new TextEncoder().encode(text)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`).join("");

let a: SeededModel;
let b: SeededModel;
let attacker: string;
let bIds: { webhook: string; token: string };

/** The parameters a request aimed at B may carry, every name a route reads included. */
function paramsAimedAtB(extra: Record<string, unknown>): Record<string, unknown> {
  return {
    name: b.name,
    new_name: b.name,
    model_name: b.name,
    model: b.name,
    source: `models:/${b.name}/1`,
    filter: `name = '${b.name}'`,
    version: "1",
    alias: "champion",
    key: "team",
    value: "taken",
    stage: "Archived",
    description: "taken over",
    run_id: b.runId,
    path: b.folder,
    webhook_id: bIds.webhook,
    policy: { Production: [{ type: "tag", key: "owner", value: "a" }] },
    ...extra,
  };
}

function concretePath(path: string, nameSpelling: "plain" | "percent"): string {
  const name = nameSpelling === "plain" ? encodeURIComponent(b.name) : percentEncodeAll(b.name);
  return path
    .replace(/:name/g, name)
    .replace(/:webhook_id/g, bIds.webhook)
    .replace(/:id/g, bIds.token)
    .replace(/:version/g, "1")
    .replace(/:ref/g, "Production")
    .replace(/:[a-zA-Z_]+/g, "1")
    .replace(/\*/g, `${b.folder}/code/extra.py`);
}

function buildRequest(
  route: Route,
  encoding: Encoding,
  nameSpelling: "plain" | "percent",
  extra: Record<string, unknown>,
): Request {
  const params = paramsAimedAtB(extra);
  const url = new URL(`${ORIGIN}${concretePath(route.path, nameSpelling)}`);
  const headers: Record<string, string> = { authorization: attacker, "content-type": "application/json" };
  const flat = Object.entries(params).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)] as const);
  let body: string | undefined;
  switch (encoding) {
    case "json":
      body = JSON.stringify(params);
      break;
    case "json-in-string":
      body = JSON.stringify(JSON.stringify(params));
      break;
    case "query":
      for (const [k, v] of flat) url.searchParams.append(k, v);
      body = "{}";
      break;
    case "form":
      headers["content-type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams(flat.map(([k, v]) => [k, v])).toString();
      break;
    case "query-names-a":
      // A check that read the query would see A; the handler reads the body (or, for GET, the query).
      url.searchParams.set("name", a.name);
      body = JSON.stringify(params);
      break;
    case "repeated-keys":
      for (const [k, v] of flat) url.searchParams.append(k, v);
      url.searchParams.append("name", a.name);
      body = JSON.stringify({ ...params, name: [a.name, b.name] });
      break;
  }
  const bodyless = route.method === "GET" || route.method === "HEAD";
  if (bodyless) {
    if (encoding !== "query" && encoding !== "repeated-keys")
      for (const [k, v] of flat) if (!url.searchParams.has(k)) url.searchParams.append(k, v);
    return new Request(url, { method: route.method, headers });
  }
  return new Request(url, { method: route.method, headers, body });
}

const requestArbitrary = fc.record({
  encoding: fc.constantFrom(...ENCODINGS),
  nameSpelling: fc.constantFrom("plain" as const, "percent" as const),
  // Free-form extra fields: unknown keys, and overrides of known ones with other spellings of B.
  extra: fc.dictionary(
    fc.constantFrom("name", "new_name", "model_name", "source", "version", "models", "scopes", "events", "url"),
    fc.oneof(
      fc.constant<unknown>(null),
      fc.string({ maxLength: 8 }),
      fc.constantFrom<unknown>(["read"], ["admin"], 1, true),
    ),
    { maxKeys: 2 },
  ),
});

/**
 * The differential test over the routes `part` selects. The route table is split over a few test
 * files so that each runs in an isolate of its own; `routeTable()` is still the one source.
 */
export function describeDifferential(title: string, part: (route: Route) => boolean): void {
  describe(`a token granted model A cannot reach model B: ${title}`, () => {
    const routes = routeTable().filter(part);

    beforeAll(async () => {
      a = await seedModel(uniqueName("diff-a"));
      b = await seedModel(uniqueName("diff-b"));
      attacker = bearer(await createToken({ name: uniqueName("a-admin"), scopes: ["admin"], models: [a.name] }));
      const hook = await send(
        "POST",
        "/api/2.0/mlflow/webhooks",
        {
          name: "b-hook",
          url: "https://hooks.example.com/b",
          events: [{ entity: "model_version", action: "created" }],
          model_name: b.name,
        },
        bearer(ADMIN),
      );
      const token = await send(
        "POST",
        "/api/2.0/modelgate/tokens",
        { name: uniqueName("b-reader"), scopes: ["read"], models: [b.name] },
        bearer(ADMIN),
      );
      bIds = { webhook: hook.body.webhook?.webhook_id ?? "missing-webhook", token: token.body.token.id };
      expect(hook.status).toBe(200);
      const policy = await send(
        "PUT",
        "/api/2.0/modelgate/registered-models/policy",
        { name: b.name, policy: { Production: [{ type: "tag", key: "owner", value: "b" }] } },
        bearer(ADMIN),
      );
      expect(policy.status).toBe(200);
    });

    it("has routes in this part", () => {
      expect(routes.length).toBeGreaterThan(5);
    });

    it.each(routes.map((r) => [`${r.method} ${r.path}`, r] as const))("%s", async (_, route) => {
      const before = await modelSnapshot(b);
      const bToken = await send("GET", "/api/2.0/modelgate/tokens", {}, bearer(ADMIN));
      const leaks: string[] = [];
      await fc.assert(
        fc.asyncProperty(requestArbitrary, async ({ encoding, nameSpelling, extra }) => {
          const request = buildRequest(route, encoding, nameSpelling, extra);
          // What the attacker sent, it knew: an error message quoting it back leaks nothing.
          const sent = decodeURIComponent(request.url) + new TextDecoder().decode(await request.clone().arrayBuffer());
          const res = await exports.default.fetch(request);
          const text = await res.text();
          expect(res.status, `${encoding}: ${text.slice(0, 300)}`).toBeLessThan(500);
          for (const secret of b.secrets)
            if (text.includes(secret) && !sent.includes(secret))
              leaks.push(`${encoding} ${res.status}: carries ${secret}`);
          // Experiments and runs are shared tracking metadata (the attacker may name its own experiment
          // after B); everywhere else a successful answer must not even name B.
          if (res.status < 300 && !TRACKING.test(route.path) && text.includes(b.name))
            leaks.push(`${encoding} ${res.status}: names ${b.name}: ${text.slice(0, 200)}`);
        }),
        { numRuns: 8 },
      );
      expect(leaks).toEqual([]);
      expect(await modelSnapshot(b)).toEqual(before);
      const revoked = (await send("GET", "/api/2.0/modelgate/tokens", {}, bearer(ADMIN))).body.tokens.find(
        (t: { id: string }) => t.id === bIds.token,
      );
      expect(revoked?.revoked_at).toBeUndefined();
      expect(bToken.status).toBe(200);
    });
  });
}
