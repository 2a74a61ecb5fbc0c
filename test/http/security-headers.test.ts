import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createModel } from "../helpers";

const ORIGIN = "http://modelgate.test";
const get = (path: string) => exports.default.fetch(new Request(`${ORIGIN}${path}`));

/** What every answer carries, whatever it is. */
const ALWAYS = {
  "x-content-type-options": "nosniff",
  "cross-origin-resource-policy": "same-origin",
  "strict-transport-security": "max-age=15552000; includeSubDomains",
};
/** What only documents a browser renders (the UI's pages) carry on top. */
const DOCUMENT_ONLY = {
  "x-frame-options": "SAMEORIGIN",
  "cross-origin-opener-policy": "same-origin",
  "referrer-policy": "no-referrer",
  "origin-agent-cluster": "?1",
  "x-permitted-cross-domain-policies": "none",
};

function headersOf(response: Response, names: string[]): Record<string, string | null> {
  return Object.fromEntries(names.map((name) => [name, response.headers.get(name)]));
}

describe("security headers", () => {
  it("send the UI's pages the full set, framing refused", async () => {
    for (const path of ["/", "/no-such-page"]) {
      const page = await get(path);
      expect(page.headers.get("content-type")).toMatch(/text\/html|application\/json/);
      expect(headersOf(page, Object.keys(ALWAYS))).toEqual(ALWAYS);
      expect(headersOf(page, Object.keys(DOCUMENT_ONLY))).toEqual(DOCUMENT_ONLY);
    }
  });

  it("send JSON and file answers nosniff, CORP and HSTS, without the document-only headers", async () => {
    const name = await createModel();
    const answers = [
      await get(`/api/2.0/mlflow/registered-models/get?name=${name}`),
      await get(`/ajax-api/2.0/mlflow/registered-models/get?name=${name}`),
      await get("/api/2.0/mlflow/no-such-endpoint"),
      await get(`/v1/models/${name}/1`),
      await get("/health"),
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 200, 404, 404, 200]);
    for (const answer of answers) {
      expect(headersOf(answer, Object.keys(ALWAYS))).toEqual(ALWAYS);
      for (const name of Object.keys(DOCUMENT_ONLY)) expect(answer.headers.get(name)).toBeNull();
    }
  });
});
