import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";

const HEALTH = "http://modelgate.test/health";
const UI_ORIGIN = "https://ui.example";

/** The app under a configuration that lists one browser origin (the test bindings list none). */
async function withAllowedOrigin(request: Request): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await createApp().fetch(request, { ...env, MODELGATE_CORS_ORIGINS: UI_ORIGIN }, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

describe("CORS", () => {
  it("answers no cross-origin grant when no origin is configured (the default)", async () => {
    const simple = await exports.default.fetch(
      new Request(HEALTH, { headers: { origin: "https://elsewhere.example" } }),
    );
    expect(simple.status).toBe(200);
    expect(simple.headers.get("access-control-allow-origin")).toBeNull();
    const preflight = await exports.default.fetch(
      new Request(HEALTH, {
        method: "OPTIONS",
        headers: { origin: "https://elsewhere.example", "access-control-request-method": "GET" },
      }),
    );
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("grants a configured origin, with credentials, and no other", async () => {
    const allowed = await withAllowedOrigin(new Request(HEALTH, { headers: { origin: UI_ORIGIN } }));
    expect(allowed.headers.get("access-control-allow-origin")).toBe(UI_ORIGIN);
    expect(allowed.headers.get("access-control-allow-credentials")).toBe("true");
    const preflight = await withAllowedOrigin(
      new Request(HEALTH, {
        method: "OPTIONS",
        headers: { origin: UI_ORIGIN, "access-control-request-method": "POST" },
      }),
    );
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe(UI_ORIGIN);
    const other = await withAllowedOrigin(new Request(HEALTH, { headers: { origin: "https://elsewhere.example" } }));
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });
});
