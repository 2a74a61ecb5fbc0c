import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { API, createModel, createVersion, MODELGATE_API } from "../helpers";

const HEADER = "x-d1-bookmark";
const BOOKMARK = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/;

/** One request through the Worker's entry (src/index.ts), with or without a bookmark. */
async function send(
  method: string,
  url: string,
  bookmark?: string,
  body?: unknown,
): Promise<{ status: number; json: any; bookmark: string | null }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (bookmark !== undefined) headers[HEADER] = bookmark;
  const response = await exports.default.fetch(
    new Request(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }),
  );
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : {}, bookmark: response.headers.get(HEADER) };
}

/** The newest bookmark of the (one, local) database, read at the primary now. */
async function primaryBookmark(): Promise<string> {
  const session = env.DB.withSession("first-primary");
  await session.prepare("SELECT 1").first();
  return session.getBookmark()!;
}

const searchVersions = (name: string, bookmark?: string) =>
  send("GET", `${API}/model-versions/search?filter=${encodeURIComponent(`name='${name}'`)}`, bookmark);

describe("D1 sessions: the x-d1-bookmark round trip", () => {
  it("answers a search with its session's bookmark, and continues a session from the bookmark sent back", async () => {
    const name = await createModel();
    const first = await searchVersions(name);
    expect(first.status).toBe(200);
    expect(first.bookmark).toMatch(BOOKMARK);
    const again = await searchVersions(name, first.bookmark!);
    expect(again.status).toBe(200);
    // Never older than what the client had: bookmarks sort oldest first.
    expect(again.bookmark! >= first.bookmark!).toBe(true);
  });

  it("answers a write with a bookmark taken after it, and the next search with that bookmark sees the write", async () => {
    const name = await createModel();
    const before = await searchVersions(name);
    expect(before.json.model_versions ?? []).toEqual([]);
    const beforeWrite = await primaryBookmark();
    // Registered by the model's coordinator, which writes to D1 with its own handle.
    const created = await send("POST", `${API}/model-versions/create`, before.bookmark!, {
      name,
      source: "s3://models/bookmarks/model",
    });
    expect(created.status).toBe(200);
    const afterWrite = await primaryBookmark();
    expect(created.bookmark).toMatch(BOOKMARK);
    expect(created.bookmark! > beforeWrite).toBe(true);
    expect(created.bookmark! <= afterWrite).toBe(true);
    const after = await searchVersions(name, created.bookmark!);
    expect(after.json.model_versions.map((v: { version: string }) => v.version)).toEqual(["1"]);
    expect(after.bookmark! >= created.bookmark!).toBe(true);
  });

  it("gives a client that sends no bookmark none after a write (its reads start at the primary: nothing to carry)", async () => {
    const name = await createModel();
    const created = await send("POST", `${API}/model-versions/create`, undefined, {
      name,
      source: "s3://models/bookmarks/model",
    });
    expect(created.status).toBe(200);
    expect(created.bookmark).toBeNull();
    expect((await searchVersions(name)).json.model_versions).toHaveLength(1);
  });

  it("starts a session from a constraint name, and ignores a malformed bookmark (never echoed, never handed to D1)", async () => {
    const name = await createModel();
    for (const sent of ["first-unconstrained", "first-primary", "garbage", "", "ffffffff-ffffffff-ffffffff-ffff"]) {
      const answer = await searchVersions(name, sent);
      expect(answer.status, sent).toBe(200);
      expect(answer.bookmark, sent).toMatch(BOOKMARK);
    }
  });

  it("reads lists and lineage through the session too; point reads answered by the coordinator carry none", async () => {
    const name = await createModel();
    await createVersion(name);
    const q = `name=${encodeURIComponent(name)}`;
    for (const url of [
      `${API}/registered-models/search?filter=${encodeURIComponent(`name='${name}'`)}`,
      `${MODELGATE_API}/model-versions/transitions?${q}`,
      `${MODELGATE_API}/events?${q}`,
      `${MODELGATE_API}/model-versions/lineage?${q}&version=1`,
    ]) {
      const answer = await send("GET", url, "first-primary");
      expect(answer.status, url).toBe(200);
      expect(answer.bookmark, url).toMatch(BOOKMARK);
    }
    const point = await send("GET", `${API}/registered-models/get?${q}`, "first-primary");
    expect(point.status).toBe(200);
    expect(point.bookmark).toBeNull();
  });
});
