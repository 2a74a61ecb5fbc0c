import type { ByteRange } from "../domain/artifacts";

/**
 * A request's `Range` against a file of `size` bytes. Only a single `bytes=` range is honoured;
 * null means none, or one HTTP lets a server ignore (several ranges, another unit, malformed), so
 * the whole file is sent. "unsatisfiable": the range lies wholly past the end (answered 416).
 */
export function parseRange(header: string | undefined, size: number): ByteRange | "unsatisfiable" | null {
  const match = header && /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === "" && match[2] === "")) return null;
  if (match[1] === "") {
    const suffix = Math.min(Number(match[2]), size);
    return suffix === 0 ? "unsatisfiable" : { offset: size - suffix, length: suffix };
  }
  const start = Number(match[1]);
  const end = match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size || end < start) return "unsatisfiable";
  return { offset: start, length: end - start + 1 };
}

/** The `Content-Range` of a partial answer: `bytes <first>-<last>/<size>`. */
export function contentRange(range: ByteRange, size: number): string {
  return `bytes ${range.offset}-${range.offset + range.length - 1}/${size}`;
}
