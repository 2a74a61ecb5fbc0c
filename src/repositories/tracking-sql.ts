import { getTableColumns, sql, type SQL, type SQLWrapper } from "drizzle-orm";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import type { BatchItem } from "drizzle-orm/batch";
import { type Comparator, likeToGlob } from "../domain/search-grammar";
import type { Database } from "./database";
import { translateD1Error } from "./d1-errors";
import { AlreadyExistsError } from "../errors";

// SQL pieces the tracking repositories share.

export type Statement = BatchItem<"sqlite">;

/**
 * D1 binds at most 100 parameters per statement and at most 2 MB per value. A list of rows travels
 * as one JSON parameter read back with json_each, split so that no JSON text exceeds `maxBytes`.
 */
export function jsonChunks(rows: unknown[], maxBytes = 512_000): string[] {
  const encoder = new TextEncoder();
  const chunks: string[] = [];
  let current: string[] = [];
  let size = 2;
  for (const row of rows) {
    const text = JSON.stringify(row);
    const bytes = encoder.encode(text).length + 1;
    if (current.length > 0 && size + bytes > maxBytes) {
      chunks.push(`[${current.join(",")}]`);
      current = [];
      size = 2;
    }
    current.push(text);
    size += bytes;
  }
  if (current.length > 0) chunks.push(`[${current.join(",")}]`);
  return chunks;
}

/** `json_each(?) j`: the row source of an INSERT ... SELECT over a JSON list. */
export const jsonSource = (json: string): SQL => sql`json_each(${json}) j`;

/** One field of the current json_each row; `name` is a code constant, never input. */
export const jsonField = (name: string): SQL => sql.raw(`json_extract(j.value, '$.${name}')`);

/**
 * `SELECT <one expression per column> FROM json_each(?) j WHERE true`, for `INSERT INTO table
 * SELECT ...`: the expressions come out in the table's column order, which the insert expects.
 * (`WHERE true` keeps SQLite from reading a following ON CONFLICT as a join constraint.)
 */
export function selectFromJson<T extends SQLiteTable>(
  table: T,
  json: string,
  fields: { [K in keyof T["$inferSelect"]]: SQL },
): SQL {
  const columns = Object.keys(getTableColumns(table)) as (keyof T["$inferSelect"])[];
  return sql`SELECT ${sql.join(
    columns.map((k) => fields[k]),
    sql`, `,
  )} FROM ${jsonSource(json)} WHERE true`;
}

/** `column IN (<json list>)`, one bound parameter for any number of values. */
export const inJsonList = (column: SQLWrapper, values: readonly (string | number)[]): SQL =>
  sql`${column} IN (SELECT value FROM json_each(${JSON.stringify(values)}))`;

/** Renders one comparison. LIKE becomes GLOB: SQLite's LIKE ignores case and MLflow's does not. */
export function compare(column: SQLWrapper, comparator: Comparator, value: string | number | string[]): SQL {
  switch (comparator) {
    case "=":
      return sql`${column} = ${value}`;
    case "!=":
      return sql`${column} != ${value}`;
    case "<":
      return sql`${column} < ${value}`;
    case "<=":
      return sql`${column} <= ${value}`;
    case ">":
      return sql`${column} > ${value}`;
    case ">=":
      return sql`${column} >= ${value}`;
    case "LIKE":
      return sql`${column} GLOB ${likeToGlob(String(value))}`;
    case "ILIKE":
      return sql`lower(${column}) LIKE lower(${value})`;
    case "IN":
      return inJsonList(column, [value].flat());
    case "NOT IN":
      return sql`NOT ${inJsonList(column, [value].flat())}`;
  }
}

/** ORDER BY terms that put missing values last whichever the direction, as MLflow does. */
export function nullsLast(expression: SQL, ascending: boolean): SQL[] {
  return [
    sql`CASE WHEN ${expression} IS NULL THEN 1 ELSE 0 END`,
    ascending ? sql`${expression} ASC` : sql`${expression} DESC`,
  ];
}

/**
 * Appends one already-serialized entry to a tag holding a Python-style JSON list (`[a, b]`), in
 * SQL, so two concurrent appends cannot lose each other. A missing or non-list value restarts it.
 */
export function appendToJsonList(current: SQLWrapper, entry: string): SQL {
  // `entry` is ASCII (Python-style JSON escapes the rest), so its length is its size in bytes.
  return sql`CASE WHEN json_valid(${current}) AND json_type(${current}) = 'array' AND json_array_length(${current}) > 0
    THEN substr(rtrim(${current}), 1, length(rtrim(${current})) - 1) || ', ' || ${entry} || ']'
    ELSE '[' || ${entry} || ']' END`;
}

/**
 * A concurrent request logged one of the same params first (the primary key refused the insert):
 * the caller re-reads and decides whether the values agree.
 */
export class ParamRaceError extends AlreadyExistsError {
  constructor() {
    super("A parameter was logged concurrently.");
  }
}

/** How long a server-appended JSON list tag may grow; D1 rows hold at most 2 MB. */
export const MAX_JSON_LIST_TAG_LENGTH = 1_000_000;

/** Runs statements as one D1 batch: all of them or none. SQLite's words stop here. */
export async function runBatch(
  db: Database,
  statements: Statement[],
  duplicate?: () => AlreadyExistsError,
): Promise<void> {
  if (statements.length === 0) return;
  try {
    await db.batch(statements as [Statement, ...Statement[]]);
  } catch (error) {
    throw translateD1Error(error, duplicate);
  }
}

/** Runs reads, translating storage errors. */
export async function read<T>(query: () => Promise<T>): Promise<T> {
  try {
    return await query();
  } catch (error) {
    throw translateD1Error(error);
  }
}

/** SQLite stores no NaN or infinities: NaN becomes 0 with a flag, ±Infinity the largest double. */
export function storedMetricValue(value: number): { value: number; isNan: 0 | 1 } {
  if (Number.isNaN(value)) return { value: 0, isNan: 1 };
  if (value === Number.POSITIVE_INFINITY) return { value: Number.MAX_VALUE, isNan: 0 };
  if (value === Number.NEGATIVE_INFINITY) return { value: -Number.MAX_VALUE, isNan: 0 };
  return { value, isNan: 0 };
}

export const loadedMetricValue = (value: number, isNan: number): number => (isNan ? Number.NaN : value);

/** Experiment ids are strings of digits on the wire and integers in the database. */
export function experimentKey(experimentId: string): number | null {
  return /^\d{1,15}$/.test(experimentId) ? Number(experimentId) : null;
}
