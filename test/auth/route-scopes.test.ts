import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { guardScope } from "../../src/http/auth";
import { SCOPES, type Scope } from "../../src/domain/scopes";
import { bearer, clientAddress, createToken, send, tableCounts } from "./helpers";

interface RouteInfo {
  method: string;
  path: string;
  scope: Scope | "public";
}

/** Every route the app serves, with the scope its guard demands (undefined: unguarded). */
function routeTable(): { guarded: RouteInfo[]; unguarded: string[] } {
  const app = createApp();
  const byRoute = new Map<string, { method: string; path: string; scope?: Scope | "public"; handlers: number }>();
  for (const route of app.routes) {
    if (route.method === "ALL") continue; // app-wide middleware
    const key = `${route.method} ${route.path}`;
    const entry = byRoute.get(key) ?? { method: route.method, path: route.path, handlers: 0 };
    const scope = guardScope(route.handler);
    if (scope) entry.scope = scope;
    else entry.handlers += 1;
    byRoute.set(key, entry);
  }
  const guarded: RouteInfo[] = [];
  const unguarded: string[] = [];
  for (const [key, entry] of byRoute) {
    if (entry.path === "/health") continue; // liveness: answers without credentials by design
    if (entry.scope) guarded.push({ method: entry.method, path: entry.path, scope: entry.scope });
    else unguarded.push(key);
  }
  return { guarded, unguarded };
}

/** A concrete URL for a route pattern. */
function concrete(path: string): string {
  return path
    .replace(/:name/g, "guarded-model")
    .replace(/:[a-zA-Z_]+/g, "1")
    .replace(/\*/g, "1/run/artifacts/x");
}

const { guarded, unguarded } = routeTable();
const mutating = guarded.filter((r) => r.method !== "GET" && r.method !== "HEAD" && r.scope !== "public");

describe("every route declares what it needs", () => {
  it("has no route without a guard", () => {
    expect(unguarded).toEqual([]);
    expect(guarded.length).toBeGreaterThan(60);
  });

  it("keeps deletes, tokens and audit admin-only and promotions at promote", () => {
    const scopeOf = (method: string, suffix: string) =>
      guarded.find((r) => r.method === method && r.path.endsWith(suffix))?.scope;
    expect(scopeOf("DELETE", "/registered-models/delete")).toBe("admin");
    expect(scopeOf("DELETE", "/model-versions/delete")).toBe("admin");
    expect(scopeOf("POST", "/tokens")).toBe("admin");
    expect(scopeOf("GET", "/audit")).toBe("admin");
    expect(scopeOf("POST", "/model-versions/transition-stage")).toBe("promote");
    expect(scopeOf("POST", "/registered-models/alias")).toBe("promote");
    expect(scopeOf("POST", "/model-versions/create")).toBe("write");
    expect(scopeOf("POST", "/registered-models/rollback")).toBe("promote");
    expect(scopeOf("GET", "/modelgate/events")).toBe("read");
    // Promotion policies bind promote tokens, so only admin sets or clears them.
    expect(scopeOf("GET", "/registered-models/policy")).toBe("read");
    expect(scopeOf("PUT", "/registered-models/policy")).toBe("admin");
    expect(scopeOf("POST", "/registered-models/policy")).toBe("admin");
    expect(scopeOf("DELETE", "/registered-models/policy")).toBe("admin");
  });

  it("keeps every webhook route admin-only, reads included (URLs, the delivery log), in both MLflow trees", () => {
    const webhookRoutes = guarded.filter((r) => r.path.includes("/webhooks"));
    expect(webhookRoutes.map((r) => `${r.method} ${r.path}`).sort()).toEqual(
      [
        ...["/api/2.0/mlflow", "/ajax-api/2.0/mlflow"].flatMap((tree) => [
          `POST ${tree}/webhooks`,
          `GET ${tree}/webhooks`,
          `GET ${tree}/webhooks/:webhook_id`,
          `PATCH ${tree}/webhooks/:webhook_id`,
          `DELETE ${tree}/webhooks/:webhook_id`,
          `POST ${tree}/webhooks/:webhook_id/test`,
        ]),
        "GET /api/2.0/modelgate/webhooks/:webhook_id/deliveries",
        "POST /api/2.0/modelgate/webhooks/:webhook_id/deliveries/:delivery_id/replay",
        "POST /api/2.0/modelgate/webhooks/reseal-secrets",
      ].sort(),
    );
    for (const route of webhookRoutes) expect(route.scope, `${route.method} ${route.path}`).toBe("admin");
  });
});

describe("scope boundaries on every mutating route", () => {
  const tokens = new Map<Scope, string>();
  const below = (scope: Scope): Scope | undefined => SCOPES[SCOPES.indexOf(scope) - 1];

  it.each(mutating.map((r) => [`${r.method} ${r.path}`, r] as const))(
    "%s refuses missing and too-weak credentials and writes nothing",
    async (_, route) => {
      for (const scope of SCOPES)
        if (!tokens.has(scope)) tokens.set(scope, await createToken({ name: `scope-${scope}`, scopes: [scope] }));
      const before = await tableCounts();
      const url = concrete(route.path);
      const client = clientAddress();
      const anonymous = await send(route.method, url, { name: "guarded-model" }, undefined, client);
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.error_code).toBe("UNAUTHENTICATED");
      const garbage = await send(route.method, url, { name: "guarded-model" }, bearer("mg_not_a_real_token"), client);
      expect(garbage.status).toBe(401);
      const weaker = below(route.scope as Scope);
      if (weaker) {
        const refused = await send(route.method, url, { name: "guarded-model" }, bearer(tokens.get(weaker)!));
        expect(refused.status).toBe(403);
        expect(refused.body.error_code).toBe("PERMISSION_DENIED");
        expect(refused.body.message).toContain(`needs '${route.scope}'`);
      }
      expect(await tableCounts()).toEqual(before);
    },
  );
});
