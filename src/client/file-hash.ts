import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";

/** Feeds the first `length` bytes of `file` into `hash`, streaming. */
export async function hashInto(hash: Hash, file: string, length: number, signal?: AbortSignal): Promise<void> {
  for await (const chunk of createReadStream(file, { start: 0, end: length - 1, signal })) hash.update(chunk as Buffer);
}

/** The hex sha256 of the first `length` bytes of `file`. */
export async function hashFile(file: string, length: number, signal?: AbortSignal): Promise<string> {
  const hash = createHash("sha256");
  if (length > 0) await hashInto(hash, file, length, signal);
  return hash.digest("hex");
}
