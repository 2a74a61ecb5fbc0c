import { env, exports } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AnswerMemory } from "../../src/http/answer-memory";
import { API, call, createModel, createVersion, uniqueName } from "../helpers";

// Search answers held per isolate while the generation of search data has not moved
// (src/http/answer-memory.ts, migration 0014). The property that matters: a held answer is always
// the answer D1 gives now. Each write below goes through a different path, including SQL straight
// into D1 (what another isolate's write, or a bulk import, looks like from here).

async function search(path: string, params: Record<string, string>, fresh = false) {
  const url = `${API}${path}?${new URLSearchParams(params)}`;
  const res = await exports.default.fetch(new Request(url, fresh ? { headers: { "cache-control": "no-cache" } } : {}));
  return { status: res.status, cache: res.headers.get("x-modelgate-cache"), body: await res.text() };
}

const versionsOf = (name: string) => search("/model-versions/search", { filter: `name = '${name}'` });
const modelsLike = (prefix: string) => search("/registered-models/search", { filter: `name LIKE '${prefix}%'` });

describe("held search answers", () => {
  it("answers a repeated search from memory and a search after any write from D1", async () => {
    const name = await createModel();
    await createVersion(name);
    const first = await versionsOf(name);
    expect(first).toMatchObject({ status: 200, cache: "miss" });
    const again = await versionsOf(name);
    expect(again).toMatchObject({ status: 200, cache: "hit", body: first.body });

    await call("POST", "/model-versions/set-tag", { name, version: "1", key: "team", value: "vision" });
    const tagged = await versionsOf(name);
    expect(tagged.cache).toBe("miss");
    expect(JSON.parse(tagged.body).model_versions[0].tags).toEqual([{ key: "team", value: "vision" }]);
  });

  it("sees writes made straight to D1, outside this isolate's requests", async () => {
    const name = await createModel();
    await createVersion(name);
    await versionsOf(name);
    expect((await versionsOf(name)).cache).toBe("hit");

    await env.DB.prepare(
      "UPDATE model_versions SET description = 'written elsewhere' WHERE model_id = (SELECT id FROM registered_models WHERE name = ?)",
    )
      .bind(name)
      .run();
    const after = await versionsOf(name);
    expect(after.cache).toBe("miss");
    expect(JSON.parse(after.body).model_versions[0].description).toBe("written elsewhere");

    const id = (await env.DB.prepare("SELECT id FROM registered_models WHERE name = ?")
      .bind(name)
      .first<{ id: string }>())!.id;
    await env.DB.prepare(
      "INSERT INTO version_scans (model_id, version, scanner, status, finding, scanned_at) VALUES (?, 1, 'x', 'unsafe', NULL, 0)",
    )
      .bind(id)
      .run();
    expect((await versionsOf(name)).cache).toBe("miss");
  });

  it("keeps model search answers until a model, its tags, aliases or versions change", async () => {
    const prefix = uniqueName("held");
    const name = await createModel(`${prefix}-a`);
    await modelsLike(prefix);
    expect((await modelsLike(prefix)).cache).toBe("hit");
    await createVersion(name);
    const withVersion = await modelsLike(prefix);
    expect(withVersion.cache).toBe("miss");
    expect(JSON.parse(withVersion.body).registered_models[0].latest_versions).toHaveLength(1);
    await call("POST", "/registered-models/alias", { name, alias: "champion", version: "1" });
    const aliased = await modelsLike(prefix);
    expect(aliased.cache).toBe("miss");
    expect(JSON.parse(aliased.body).registered_models[0].aliases).toEqual([{ alias: "champion", version: "1" }]);
  });

  it("answers a request that asks for no-cache from D1", async () => {
    const name = await createModel();
    await versionsOf(name);
    const fresh = await search("/model-versions/search", { filter: `name = '${name}'` }, true);
    expect(fresh.cache).toBe("miss");
  });

  it("never holds an error", async () => {
    const bad = await search("/model-versions/search", { filter: "name = " });
    expect(bad.status).toBe(400);
    expect((await search("/model-versions/search", { filter: "name = " })).cache).toBeNull();
  });

  it("moves the generation for every table a search reads from", async () => {
    // The tables the search statements open (their b-trees, from SQLite's own bytecode), and the
    // scan verdicts the answers carry: each needs a trigger for insert, update and delete.
    const opened = new Set<string>(["version_scans"]);
    for (const sql of [
      "SELECT * FROM model_versions v JOIN registered_models m ON m.id = v.model_id WHERE EXISTS (SELECT 1 FROM model_version_tags t WHERE t.model_id = v.model_id) AND EXISTS (SELECT 1 FROM registered_model_aliases a WHERE a.model_id = v.model_id)",
      "SELECT * FROM registered_models m WHERE EXISTS (SELECT 1 FROM registered_model_tags t WHERE t.model_id = m.id)",
    ]) {
      const steps = await env.DB.prepare(`EXPLAIN ${sql}`).all<{ opcode: string; p2: number }>();
      const roots = steps.results.filter((s) => s.opcode === "OpenRead").map((s) => s.p2);
      for (const root of roots) {
        const row = await env.DB.prepare("SELECT tbl_name FROM sqlite_master WHERE rootpage = ?")
          .bind(root)
          .first<{ tbl_name: string }>();
        if (row) opened.add(row.tbl_name);
      }
    }
    const triggers = await env.DB.prepare(
      "SELECT tbl_name, sql FROM sqlite_master WHERE type = 'trigger' AND sql LIKE '%answer_generation%'",
    ).all<{ tbl_name: string; sql: string }>();
    for (const table of opened) {
      const events = triggers.results.filter((t) => t.tbl_name === table).map((t) => /AFTER (\w+)/.exec(t.sql)![1]);
      expect(events.sort(), table).toEqual(["DELETE", "INSERT", "UPDATE"]);
    }
    expect([...opened].sort()).toEqual([
      "model_version_tags",
      "model_versions",
      "registered_model_aliases",
      "registered_model_tags",
      "registered_models",
      "version_scans",
    ]);
  });

  it("always gives the answer D1 gives now, over random writes and searches", async () => {
    const name = await createModel();
    await createVersion(name);
    const write = fc.oneof(
      fc.constant(async () => void (await createVersion(name))),
      fc.string({ minLength: 1, maxLength: 6 }).map((value) => async () => {
        await call("POST", "/model-versions/set-tag", { name, version: "1", key: "k", value });
      }),
      fc.string({ maxLength: 6 }).map((description) => async () => {
        await call("PATCH", "/model-versions/update", { name, version: "1", description });
      }),
      fc.constant(async () => {
        await call("DELETE", "/model-versions/delete-tag", { name, version: "1", key: "k" });
      }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.option(write, { nil: undefined }), { minLength: 1, maxLength: 6 }),
        async (steps) => {
          for (const step of steps) {
            if (step) await step();
            const held = await versionsOf(name);
            const fresh = await search("/model-versions/search", { filter: `name = '${name}'` }, true);
            expect(held.body).toBe(fresh.body);
          }
        },
      ),
      { numRuns: 12 },
    );
  });
});

describe("AnswerMemory", () => {
  it("serves an answer only at the generation it was read at", () => {
    const memory = new AnswerMemory();
    memory.keep("k", 7, "{}");
    expect(memory.get("k", 7)).toBe("{}");
    expect(memory.get("k", 8)).toBeUndefined();
    memory.keep("k", 8, "[]");
    expect(memory.get("k", 7)).toBeUndefined();
    expect(memory.bytes).toBe(2);
  });

  it("never holds more than its bounds, dropping the least recently served first", () => {
    const memory = new AnswerMemory(10, 25);
    memory.keep("too-large", 1, "x".repeat(11));
    expect(memory.get("too-large", 1)).toBeUndefined();
    memory.keep("a", 1, "a".repeat(10));
    memory.keep("b", 1, "b".repeat(10));
    expect(memory.get("a", 1)).toBeDefined();
    memory.keep("c", 1, "c".repeat(10));
    expect(memory.bytes).toBe(20);
    expect(memory.get("b", 1)).toBeUndefined();
    expect(memory.get("a", 1)).toBeDefined();
    expect(memory.get("c", 1)).toBeDefined();
  });
});
