import { InvalidParameterError } from "../errors";

// Page tokens are opaque to clients; inside they carry the offset of the next page.
export function encodePageToken(offset: number): string {
  return btoa(JSON.stringify({ offset }));
}

export function decodePageToken(token: string | undefined): number {
  if (!token) return 0;
  try {
    const { offset } = JSON.parse(atob(token)) as { offset: unknown };
    if (typeof offset === "number" && Number.isSafeInteger(offset) && offset >= 0) return offset;
  } catch {
    // fall through to the error below
  }
  throw new InvalidParameterError(`Invalid page token: '${token}'.`);
}

export function validateMaxResults(maxResults: number | undefined, fallback: number, max: number): number {
  if (maxResults === undefined) return fallback;
  if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > max) {
    throw new InvalidParameterError(
      `Invalid value ${maxResults} for parameter 'max_results' supplied. It must be a positive integer at most ${max}.`,
    );
  }
  return maxResults;
}
