import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ModelgateClient } from "../../src/client/modelgate-client";
import { createModel, uniqueName } from "../helpers";

// What `modelgate versions ls` runs: the client walks a model's versions by page token, newest
// first in the server's order, a thousand per request, and can stop after N and go on later.

function client(requests: URL[]) {
  return new ModelgateClient({
    baseUrl: "http://modelgate.test",
    fetch: async (input, init) => {
      const request = new Request(input, init);
      requests.push(new URL(request.url));
      return exports.default.fetch(request);
    },
  });
}

async function modelWithVersions(count: number): Promise<string> {
  const name = await createModel(uniqueName("client-paging"));
  const { id } = (await env.DB.prepare("SELECT id FROM registered_models WHERE name = ?")
    .bind(name)
    .first<{ id: string }>())!;
  const insert = env.DB.prepare(
    "INSERT INTO model_versions (model_id, version, source, status, creation_time, last_updated_time) VALUES (?, ?, ?, 'READY', ?, ?)",
  );
  const rows = Array.from({ length: count }, (_, i) => insert.bind(id, i + 1, `mlflow-artifacts:/c/${i + 1}`, 1, 1));
  for (let i = 0; i < rows.length; i += 500) await env.DB.batch(rows.slice(i, i + 500));
  return name;
}

const numbers = (versions: { version: string }[]) => versions.map((v) => Number(v.version));
const descending = (from: number, count: number) => Array.from({ length: count }, (_, i) => from - i);

describe("the client's version listing (modelgate versions ls)", () => {
  it("lists every version newest first, a thousand per request", async () => {
    const name = await modelWithVersions(2100);
    const requests: URL[] = [];
    const { versions, nextPageToken } = await client(requests).versionsFrom(name);
    expect(numbers(versions)).toEqual(descending(2100, 2100));
    expect(nextPageToken).toBeNull();
    const searches = requests.filter((u) => u.pathname.endsWith("/model-versions/search"));
    expect(searches.map((u) => u.searchParams.get("max_results"))).toEqual(["1000", "1000", "1000"]);
    expect(searches.every((u) => u.searchParams.get("order_by") === "version_number DESC")).toBe(true);
  });

  it("stops after --max-results and goes on from the token it printed, without a gap or a repeat", async () => {
    const name = await modelWithVersions(1500);
    const first = await client([]).versionsFrom(name, { limit: 1200 });
    expect(numbers(first.versions)).toEqual(descending(1500, 1200));
    expect(first.nextPageToken).toEqual(expect.any(String));
    const rest = await client([]).versionsFrom(name, { limit: 1200, pageToken: first.nextPageToken! });
    expect(numbers(rest.versions)).toEqual(descending(300, 300));
    expect(rest.nextPageToken).toBeNull();
  });

  it("a token that is not one the registry made is refused", async () => {
    const name = await modelWithVersions(2);
    await expect(client([]).versionsFrom(name, { pageToken: "bm90LWEtdG9rZW4" })).rejects.toMatchObject({
      status: 400,
      errorCode: "INVALID_PARAMETER_VALUE",
    });
  });
});
