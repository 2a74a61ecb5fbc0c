import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { completeOrder, parseOrderBy, type SortValue } from "../../src/domain/order-by";
import { decodeSeekToken, encodeSeekToken } from "../../src/domain/paging";
import { parseSearchFilter, type SearchEntity } from "../../src/domain/search-filter";
import { openDatabase } from "../../src/repositories/database";
import { type SearchQuery, SearchRepository } from "../../src/repositories/search-repository";

// Every search shape the MLflow clients, the UI and the CLI send, planned by SQLite on the real
// migrated schema: the statement is the one the repository runs (built by the same code, read with
// drizzle's toSQL), so a new condition or order that loses its index fails here, not at 100,000
// versions in production. Plans do not depend on the data: D1 keeps no ANALYZE statistics unless
// asked, so SQLite plans from the schema alone, here as there.

const repository = new SearchRepository(openDatabase(env.DB));

interface Shape {
  filter?: string;
  orderBy?: string[];
  visibleModels?: string[];
  /**
   * Nothing in the filter picks models (no name =, run_id =, ...): the plan walks the index that
   * orders the answer and stops after a page (a seek to the token's key on later pages). Every
   * other shape must find its rows through an index on what it filters by.
   */
  walksOrder?: boolean;
}

const VERSION_SHAPES: Record<string, Shape> = {
  // MlflowClient.search_model_versions("name='m'"), the UI's model page, `modelgate versions ls`
  "by model": { filter: "name = 'm'" },
  "by model and tag": { filter: "name = 'm' AND tags.`team` = 'vision'" },
  "by model and two tags": { filter: "name = 'm' AND tags.team = 'vision' AND tag.stage != 'x'" },
  "by model, version_number DESC (UI, CLI)": { filter: "name = 'm'", orderBy: ["version_number DESC"] },
  "by model, version_number ASC": { filter: "name = 'm'", orderBy: ["version_number ASC"] },
  "by model, creation_timestamp DESC": { filter: "name = 'm'", orderBy: ["creation_timestamp DESC"] },
  "by model, last_updated_timestamp ASC": { filter: "name = 'm'", orderBy: ["last_updated_timestamp ASC"] },
  "by model, timestamp, version_number": {
    filter: "name = 'm'",
    orderBy: ["timestamp DESC", "version_number ASC"],
  },
  "by model, version range": { filter: "name = 'm' AND version_number > 3 AND version_number <= 40" },
  "by model and run": { filter: "name = 'm' AND run_id = 'r'" },
  "by run (log_model's lookup)": { filter: "run_id = 'r'" },
  "by runs IN": { filter: "run_id IN ('a', 'b')" },
  "by source_path": { filter: "source_path = 'mlflow-artifacts:/1/r/artifacts/model'" },
  "by name prefix": { filter: "name LIKE 'team-%'" },
  "prompts (MLflow 3)": { filter: "name = 'm' AND tags.`mlflow.prompt.is_prompt` = 'true'" },
  "visible to a narrowed token": { visibleModels: ["a", "b"], walksOrder: true },
  "by model, visible to a narrowed token": { filter: "name = 'm'", visibleModels: ["m", "n"] },
  "everything (default order)": { walksOrder: true },
  "everything, name ASC": { orderBy: ["name ASC"], walksOrder: true },
  "everything, creation_timestamp ASC": { orderBy: ["creation_timestamp ASC"], walksOrder: true },
  "everything, version_number DESC": { orderBy: ["version_number DESC"], walksOrder: true },
  "by tag only": { filter: "tags.team = 'vision'", walksOrder: true },
  "by name ILIKE": { filter: "name ILIKE '%vis%'", walksOrder: true },
};

const MODEL_SHAPES: Record<string, Shape> = {
  // MlflowClient.search_registered_models() and the UI's home page
  "everything (name ASC)": { walksOrder: true },
  "by name": { filter: "name = 'm'" },
  "by name prefix": { filter: "name LIKE 'team-%'" },
  "by name prefix, last_updated_timestamp DESC": {
    filter: "name LIKE 'team-%'",
    orderBy: ["last_updated_timestamp DESC"],
  },
  "by tag": { filter: "tags.team = 'vision'", walksOrder: true },
  "everything, timestamp DESC": { orderBy: ["timestamp DESC"], walksOrder: true },
  "everything, creation_timestamp ASC, name DESC": {
    orderBy: ["creation_timestamp ASC", "name DESC"],
    walksOrder: true,
  },
  "prompts (MLflow 3)": { filter: "tags.`mlflow.prompt.is_prompt` = 'true'", walksOrder: true },
  "visible to a narrowed token": { visibleModels: ["a", "b"] },
};

/** A sort key of the right types for `order`, as the previous page's last row would give. */
function someKey(entity: SearchEntity, orderBy: string[] | undefined): SortValue[] {
  const order = completeOrder(entity, parseOrderBy(orderBy, entity));
  return order.map((t) => (t.key === "name" ? "m" : t.key === "version_number" ? 250 : 1_700_000_000_000));
}

/** The query the service builds for a shape, on its first page or on a later one (through a real token). */
function queryFor(entity: SearchEntity, shape: Shape, later: boolean): SearchQuery {
  const order = completeOrder(entity, parseOrderBy(shape.orderBy, entity));
  const token = later ? encodeSeekToken(order, someKey(entity, shape.orderBy)) : undefined;
  return {
    conditions: parseSearchFilter(shape.filter, entity),
    order,
    after: decodeSeekToken(token, order),
    limit: 101,
    visibleModels: shape.visibleModels ?? null,
  };
}

async function planOf(statement: { toSQL(): { sql: string; params: unknown[] } }): Promise<string[]> {
  const { sql, params } = statement.toSQL();
  const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
    .bind(...params)
    .all<{ detail: string }>();
  return results.map((r) => r.detail);
}

// Tables that grow with the registry, and the aliases the repository gives them in subqueries
// (m2: model_versions; t: a tag table; a: registered_model_aliases).
const GROWING = /^(model_versions|model_version_tags|registered_model_tags|registered_model_aliases|m2|t|a)$/;
const TAGS = /^(model_version_tags|registered_model_tags|t)$/;

/** What is wrong with a plan, or [] when every read of a growing table goes through an index. */
function problems(plan: string[], shape: Shape): string[] {
  const found: string[] = [];
  for (const line of plan) {
    const read = /^(SCAN|SEARCH) (\S+)(?: USING (?:COVERING )?(?:INDEX|PRIMARY KEY) ?(\S*))?(.*)$/.exec(line);
    if (!read || !GROWING.test(read[2]!)) continue;
    const [, how, table = "", index, constraint = ""] = read;
    if (how === "SCAN" && !index) found.push(`full scan: ${line}`);
    else if (how === "SCAN" && (table !== "model_versions" || !shape.walksOrder))
      found.push(`walks a whole index: ${line}`);
    // A tag is looked up for the row at hand: the seek names its model (a key/value seek alone
    // reads that tag on every model, as the prompt check did before 0012_search_indexes).
    else if (TAGS.test(table) && !/model_id=\?/.test(constraint)) found.push(`tag seek not by model: ${line}`);
  }
  // A filter that picks models finds their versions by it, never by walking every version in order.
  if (!shape.walksOrder && plan.some((l) => /^SCAN model_versions\b/.test(l))) found.push("walks model_versions");
  return found;
}

describe("search query plans (100,000 versions must not mean 100,000 rows read)", () => {
  for (const [entity, shapes] of [
    ["model_version", VERSION_SHAPES],
    ["registered_model", MODEL_SHAPES],
  ] as const) {
    for (const [name, shape] of Object.entries(shapes)) {
      for (const later of [false, true]) {
        it(`${entity} search ${name}, ${later ? "a later page (keyset)" : "first page"}: answered from indexes`, async () => {
          const query = queryFor(entity, shape, later);
          const statement =
            entity === "model_version" ? repository.versionsQuery(query) : repository.modelsQuery(query);
          const plan = await planOf(statement);
          expect(problems(plan, shape), plan.join("\n")).toEqual([]);
        });
      }
    }
  }

  it("the check itself fails on the plans it exists to catch", async () => {
    const scan = await planOf({
      toSQL: () => ({ sql: "SELECT * FROM model_versions WHERE description = ?", params: ["x"] }),
    });
    expect(problems(scan, {})[0]).toMatch(/^full scan: SCAN model_versions/);
    const walk = await planOf({
      toSQL: () => ({ sql: "SELECT * FROM model_versions ORDER BY version LIMIT 5", params: [] }),
    });
    expect(problems(walk, {})[0]).toMatch(/^walks a whole index: SCAN model_versions USING INDEX/);
    const anyModel = await planOf({
      toSQL: () => ({ sql: "SELECT model_id FROM model_version_tags WHERE key = ? AND value = ?", params: ["k", "v"] }),
    });
    expect(problems(anyModel, {})).toEqual([
      expect.stringMatching(/^tag seek not by model: SEARCH model_version_tags/),
    ]);
  });

  it("latest_versions of a page of models: seeks per (model, stage), never a model's other versions", async () => {
    const plan = await planOf(repository.latestQuery(["a", "b", "c"]));
    expect(problems(plan, {}), plan.join("\n")).toEqual([]);
    expect(plan.filter((l) => /\bm2\b/.test(l)).every((l) => /model_versions_model_stage_idx/.test(l))).toBe(true);
  });
});
