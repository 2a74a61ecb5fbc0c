import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { call, type Json, uniqueName } from "../helpers";

// Keyset paging walked end to end through the API: for random models and versions (timestamps
// drawn from a few values, so ties are the rule), a random order_by and a random page size,
// following next_page_token yields exactly the whole answer in order: no row twice, none missing.
// Rows are written straight into the local D1 (the search reads nothing else), so a run costs a
// few inserts rather than a Durable Object round trip per version.

type Field = "name" | "version_number" | "creation_timestamp" | "last_updated_timestamp";
interface Term {
  field: Field;
  asc: boolean;
}
interface Row {
  name: string;
  version: number;
  created: number;
  updated: number;
  tagged: boolean;
}

const T0 = 1_700_000_000_000;
const timestamp = fc.integer({ min: 0, max: 3 }).map((n) => T0 + n * 1000);
// Suffixes that sort differently by bytes and by locale (case, a non-ASCII letter, a digit).
const SUFFIXES = ["a", "B", "b", "é", "z1", "Z"];

const modelsArb = fc.uniqueArray(
  fc.record({
    suffix: fc.constantFrom(...SUFFIXES),
    created: timestamp,
    updated: timestamp,
    versions: fc.array(fc.record({ created: timestamp, updated: timestamp, tagged: fc.boolean() }), {
      maxLength: 7,
    }),
  }),
  { selector: (m) => m.suffix, minLength: 1, maxLength: 4 },
);

const termArb = (fields: Field[]) =>
  fc.record({ field: fc.constantFrom(...fields), asc: fc.boolean() }) as fc.Arbitrary<Term>;

async function seed(prefix: string, models: Json[]): Promise<Row[]> {
  const rows: Row[] = [];
  const statements: D1PreparedStatement[] = [];
  for (const m of models) {
    const id = `${prefix}-${m.suffix}-id`;
    const name = `${prefix}-${m.suffix}`;
    statements.push(
      env.DB.prepare(
        "INSERT INTO registered_models (id, name, creation_time, last_updated_time, next_version) VALUES (?, ?, ?, ?, ?)",
      ).bind(id, name, m.created, m.updated, m.versions.length + 1),
    );
    m.versions.forEach((v: Json, i: number) => {
      rows.push({ name, version: i + 1, created: v.created, updated: v.updated, tagged: v.tagged });
      statements.push(
        env.DB.prepare(
          "INSERT INTO model_versions (model_id, version, source, status, creation_time, last_updated_time) VALUES (?, ?, ?, 'READY', ?, ?)",
        ).bind(id, i + 1, `mlflow-artifacts:/${prefix}/${i + 1}`, v.created, v.updated),
      );
      if (v.tagged)
        statements.push(
          env.DB.prepare(
            "INSERT INTO model_version_tags (model_id, version, key, value) VALUES (?, ?, 'pick', 'yes')",
          ).bind(id, i + 1),
        );
    });
  }
  await env.DB.batch(statements);
  return rows;
}

/** SQLite's BINARY order on UTF-8 text; for these names (no surrogate pairs) the same as UTF-16 code units. */
const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The order MLflow answers in: the terms asked for (first mention of a field wins), then its tiebreakers. */
function sorter(terms: Term[], tiebreakers: Term[]) {
  const seen = new Set<Field>();
  const all = [...terms, ...tiebreakers].filter((t) => !seen.has(t.field) && seen.add(t.field));
  const value = (r: Row, f: Field) =>
    f === "name" ? r.name : f === "version_number" ? r.version : f === "creation_timestamp" ? r.created : r.updated;
  return (a: Row, b: Row) => {
    for (const t of all) {
      const x = value(a, t.field);
      const y = value(b, t.field);
      const c = typeof x === "string" ? compareText(x, y as string) : (x as number) - (y as number);
      if (c !== 0) return t.asc ? c : -c;
    }
    return 0;
  };
}

async function walk(path: string, key: string, params: Json): Promise<{ items: Json[]; pages: number }> {
  const items: Json[] = [];
  let token: string | undefined;
  for (let pages = 1; pages <= 200; pages++) {
    const res = await call("GET", path, { ...params, ...(token ? { page_token: token } : {}) });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    items.push(...(res.body[key] ?? []));
    token = res.body.next_page_token;
    if (!token) return { items, pages };
  }
  throw new Error("paging did not end");
}

const orderBy = (terms: Term[], names: Record<Field, string>) =>
  terms.map((t) => `${names[t.field]} ${t.asc ? "ASC" : "DESC"}`);

describe("keyset paging walks every row exactly once, in order", () => {
  it("model-versions/search, any order_by, any page size, with and without a tag filter", async () => {
    await fc.assert(
      fc.asyncProperty(
        modelsArb,
        fc.array(termArb(["name", "version_number", "creation_timestamp", "last_updated_timestamp"]), {
          maxLength: 3,
        }),
        fc.integer({ min: 1, max: 5 }),
        fc.boolean(),
        async (models, terms, pageSize, byTag) => {
          const prefix = uniqueName("keyset-v");
          const rows = await seed(prefix, models);
          const wanted = rows
            .filter((r) => !byTag || r.tagged)
            .sort(
              sorter(terms.length > 0 ? terms : [{ field: "last_updated_timestamp", asc: false }], [
                { field: "name", asc: true },
                { field: "version_number", asc: false },
              ]),
            )
            .map((r) => `${r.name}#${r.version}`);
          const { items, pages } = await walk("/model-versions/search", "model_versions", {
            filter: `name LIKE '${prefix}-%'${byTag ? " AND tags.pick = 'yes'" : ""}`,
            max_results: pageSize,
            order_by: orderBy(terms, {
              name: "name",
              version_number: "version_number",
              creation_timestamp: "creation_timestamp",
              last_updated_timestamp: "last_updated_timestamp",
            }),
          });
          expect(items.map((v) => `${v.name}#${v.version}`)).toEqual(wanted);
          expect(pages).toBe(Math.max(1, Math.ceil(wanted.length / pageSize)));
        },
      ),
      { numRuns: 30 },
    );
  });

  it("registered-models/search, any order_by, any page size", async () => {
    await fc.assert(
      fc.asyncProperty(
        modelsArb,
        fc.array(termArb(["name", "creation_timestamp", "last_updated_timestamp"]), { maxLength: 3 }),
        fc.integer({ min: 1, max: 3 }),
        async (models, terms, pageSize) => {
          const prefix = uniqueName("keyset-m");
          await seed(prefix, models);
          const rows: Row[] = models.map((m) => ({
            name: `${prefix}-${m.suffix}`,
            version: 0,
            created: m.created,
            updated: m.updated,
            tagged: false,
          }));
          const wanted = rows.sort(sorter(terms, [{ field: "name", asc: true }])).map((r) => r.name);
          const { items } = await walk("/registered-models/search", "registered_models", {
            filter: `name LIKE '${prefix}-%'`,
            max_results: pageSize,
            order_by: orderBy(terms, {
              name: "name",
              version_number: "name",
              creation_timestamp: "creation_timestamp",
              last_updated_timestamp: "last_updated_timestamp",
            }),
          });
          expect(items.map((m) => m.name)).toEqual(wanted);
        },
      ),
      { numRuns: 30 },
    );
  });

  it("a token is good only for the order it was made for", async () => {
    const prefix = uniqueName("keyset-o");
    await seed(prefix, [
      { suffix: "a", created: T0, updated: T0, versions: [] },
      { suffix: "b", created: T0, updated: T0, versions: [] },
    ]);
    const first = await call("GET", "/registered-models/search", { filter: `name LIKE '${prefix}-%'`, max_results: 1 });
    expect(first.body.registered_models.map((m: Json) => m.name)).toEqual([`${prefix}-a`]);
    const other = await call("GET", "/registered-models/search", {
      filter: `name LIKE '${prefix}-%'`,
      max_results: 1,
      order_by: ["timestamp DESC"],
      page_token: first.body.next_page_token,
    });
    expect(other.status).toBe(400);
    expect(other.body.error_code).toBe("INVALID_PARAMETER_VALUE");
    expect(other.body.message).toMatch(/page token/i);
  });
});
