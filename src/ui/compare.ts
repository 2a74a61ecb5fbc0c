import { InvalidParameterError } from "../errors";
import { parseVersion } from "../domain/limits";

// The comparison rules, kept free of rendering so they can be tested alone.

export const MIN_COMPARED = 2;
export const MAX_COMPARED = 10;

/**
 * Versions to compare, from `versions=1,2,3` and/or repeated `v=1&v=2` (what a checkbox form
 * sends), in the order given, without repeats.
 */
export function parseVersionList(inputs: string[]): number[] {
  const out: number[] = [];
  for (const input of inputs) {
    for (const part of input.split(",")) {
      if (part.trim() === "") continue;
      const version = parseVersion(part);
      if (!out.includes(version)) out.push(version);
    }
  }
  if (out.length < MIN_COMPARED) throw new InvalidParameterError(`Pick at least ${MIN_COMPARED} versions to compare.`);
  if (out.length > MAX_COMPARED)
    throw new InvalidParameterError(`At most ${MAX_COMPARED} versions can be compared at once; got ${out.length}.`);
  return out;
}

export interface ComparedRow<T> {
  key: string;
  /** One cell per compared version, in order; null where that version has no such key. */
  cells: (T | null)[];
  /** True when the versions disagree (a missing value disagrees with a present one). */
  differs: boolean;
}

/** Lines up keyed values (params, metrics) of several versions, sorted by key. */
export function compareRows<T>(columns: Map<string, T>[], same: (a: T, b: T) => boolean = Object.is): ComparedRow<T>[] {
  const keys = new Set<string>();
  for (const column of columns) for (const key of column.keys()) keys.add(key);
  return [...keys]
    .sort((a, b) => a.localeCompare(b))
    .map((key) => {
      const cells = columns.map((column) => (column.has(key) ? column.get(key)! : null));
      const first = cells[0]!; // one cell per column: some() below calls nothing when there is none
      const differs = cells.some(
        (cell) => (cell === null) !== (first === null) || (cell !== null && first !== null && !same(cell, first)),
      );
      return { key, cells, differs };
    });
}

/** The metric charted when none is asked for: the first (by name) that at least two versions have. */
export function defaultMetric(rows: ComparedRow<number>[]): string | undefined {
  return rows.find((r) => r.cells.filter((v) => v !== null && Number.isFinite(v)).length >= 2)?.key ?? rows[0]?.key;
}
