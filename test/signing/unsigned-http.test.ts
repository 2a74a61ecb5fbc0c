// Review L1 through the HTTP routes: the app under bindings without MODELGATE_MODEL_SIGNING_KEYS
// serves archive.tar without model.sig (x-modelgate-signature: unavailable), refuses model.sig with
// 503 and MLflow's error JSON, and /health is degraded naming the missing key.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { bodyText } from "../helpers";
import { publish } from "./publish";

const ORIGIN = "http://modelgate.test";
const unsignedEnv = { ...env, MODELGATE_MODEL_SIGNING_KEYS: undefined };

async function withoutKeys(path: string): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await createApp().fetch(new Request(`${ORIGIN}${path}`), unsignedEnv, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

/** The entry names of a ustar archive. */
function entryNames(tar: Uint8Array): string[] {
  const names: string[] = [];
  for (let offset = 0; offset + 512 <= tar.length; ) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const text = (a: number, b: number) => new TextDecoder().decode(header.subarray(a, b)).replace(/\0.*$/s, "");
    names.push(text(0, 100));
    offset += 512 + Math.ceil(parseInt(text(124, 136), 8) / 512) * 512;
  }
  return names;
}

describe("without MODELGATE_MODEL_SIGNING_KEYS", () => {
  it("archive.tar is served without model.sig and says so; with the key it is included", async () => {
    const name = await publish({ MLmodel: "flavors: {}\n", "model.pkl": "w" });
    const res = await withoutKeys(`/v1/models/${name}/versions/1/archive.tar`);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-modelgate-signature")).toBe("unavailable");
    const tar = new Uint8Array(await res.arrayBuffer());
    expect(Number(res.headers.get("content-length"))).toBe(tar.byteLength);
    expect(entryNames(tar)).toEqual(["MLmodel", "model.pkl"]);
    const signed = await exports.default.fetch(new Request(`${ORIGIN}/v1/models/${name}/versions/1/archive.tar`));
    expect(signed.headers.get("x-modelgate-signature")).toBe("included");
    expect(entryNames(new Uint8Array(await signed.arrayBuffer()))).toEqual(["model.sig", "MLmodel", "model.pkl"]);
  });

  it("model.sig answers 503 with a message naming the missing secret", async () => {
    const name = await publish({ "model.pkl": "x" });
    const res = await withoutKeys(`/v1/models/${name}/versions/1/model.sig`);
    expect(res.status).toBe(503);
    expect(JSON.parse(await bodyText(res))).toEqual({
      error_code: "TEMPORARILY_UNAVAILABLE",
      message:
        "Modelgate is not configured for model signing: the MODELGATE_MODEL_SIGNING_KEYS secret is missing. The version's files and archive.tar are served without model.sig.",
    });
  });

  it("/health is degraded with the missing key in its details", async () => {
    const res = await withoutKeys("/health");
    expect(res.status).toBe(200);
    const body = JSON.parse(await bodyText(res));
    expect(body.status).toBe("degraded");
    expect(body.details.model_signing).toBe(
      "model.sig cannot be issued: the MODELGATE_MODEL_SIGNING_KEYS secret is missing",
    );
  });
});
