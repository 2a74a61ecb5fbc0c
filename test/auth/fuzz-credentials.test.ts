import fc from "fast-check";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { guardScope } from "../../src/http/auth";
import { clientAddress, ORIGIN, tableCounts } from "./helpers";

const mutating = createApp()
  .routes.filter(
    (r) =>
      r.method !== "ALL" &&
      r.method !== "GET" &&
      r.method !== "HEAD" &&
      guardScope(r.handler) !== undefined &&
      guardScope(r.handler) !== "public",
  )
  .map((r) => ({
    method: r.method,
    path: r.path
      .replace(/:name/g, "fuzz-model")
      .replace(/:[a-zA-Z_]+/g, "1")
      .replace(/\*/g, "1/r/artifacts/x"),
  }));

const credential = fc.oneof(
  fc.constant(undefined),
  fc.string(),
  fc.string().map((s) => `Bearer ${s}`),
  fc.string().map((s) => `Basic ${s}`),
  fc.tuple(fc.string(), fc.string()).map(([u, p]) => `Basic ${btoa(unescape(encodeURIComponent(`${u}:${p}`)))}`),
  fc.stringMatching(/^[0-9a-f]{64}$/).map((hex) => `Bearer mg_${hex}`),
  fc.constant("Bearer "),
  fc.constant("Basic Og=="),
);

const body = fc.oneof(
  fc.json(),
  fc.string(),
  fc.constant("{"),
  fc
    .record({
      name: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
      version: fc.oneof(fc.string(), fc.integer()),
    })
    .map((o) => JSON.stringify(o)),
);

describe("random and malformed credentials", () => {
  it("never answer 500 and never write", { timeout: 120_000 }, async () => {
    const before = await tableCounts();
    let cases = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...mutating), credential, body, async (route, authorization, payload) => {
        cases += 1;
        const headers: Record<string, string> = { "content-type": "application/json", ...clientAddress() };
        // Header values must be ByteStrings; the fuzzer's non-Latin-1 strings are what a client could not send anyway.
        if (authorization !== undefined && /^[\x00-\xff]*$/.test(authorization) && !/[\r\n\0]/.test(authorization))
          headers.authorization = authorization;
        const res = await exports.default.fetch(
          new Request(`${ORIGIN}${route.path}`, { method: route.method, headers, body: payload }),
        );
        const json = (await res.json()) as { error_code?: string; message?: string };
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
        expect(typeof json.error_code).toBe("string");
        expect(typeof json.message).toBe("string");
      }),
      { numRuns: 300 },
    );
    expect(cases).toBe(300);
    expect(await tableCounts()).toEqual(before);
  });
});
