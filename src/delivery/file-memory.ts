// Small immutable files held in this isolate's memory (issue 19). A warm
// `load_model("models:/X/Production")` downloads ~9 files of a few hundred bytes each; answering one
// from the Cache API costs a subrequest (locally: Miniflare's cache worker and its Durable Object)
// and more CPU than the file's bytes are worth. Entries are keyed by the Cache API key (model id,
// version, manifest path: what never changes), so a held file is exactly the cached one.
//
// Bounds: files over MAX_HELD_FILE_BYTES are never held, and the held bytes never exceed
// MAX_HELD_BYTES (least recently served dropped first). Deleting a version drops its files here at
// once in the isolate that deleted it (purgeChanged); another isolate may answer them from memory for
// at most HELD_FILE_MS, as it may its memory of the version's sealed folder (the resolve TTL's default).

export const MAX_HELD_FILE_BYTES = 256 * 1024;
export const MAX_HELD_BYTES = 16 * 1024 * 1024;
export const HELD_FILE_MS = 10_000;

export interface HeldFile {
  bytes: Uint8Array;
  /** The cached answer's headers, without the per-route ones (cache-control, x-modelgate-cache). */
  headers: [string, string][];
}

export class FileMemory {
  // A Map iterates in insertion order; a served entry is re-inserted, so the first is the least recent.
  private readonly files = new Map<string, { file: HeldFile; until: number }>();
  private held = 0;

  constructor(
    readonly maxFileBytes: number,
    readonly maxBytes: number,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Bytes held now (never more than maxBytes). */
  get bytes(): number {
    return this.held;
  }

  has(key: string): boolean {
    return this.files.has(key);
  }

  /** The fresh file under `key`, marked as the most recently served. */
  get(key: string): HeldFile | undefined {
    const entry = this.files.get(key);
    if (!entry) return undefined;
    this.files.delete(key);
    if (entry.until <= this.now()) {
      this.held -= entry.file.bytes.byteLength;
      return undefined;
    }
    this.files.set(key, entry);
    return entry.file;
  }

  /** Holds a file if it fits under the bounds; false when it is too large to hold. */
  keep(key: string, file: HeldFile): boolean {
    const size = file.bytes.byteLength;
    if (size > this.maxFileBytes || size > this.maxBytes) return false;
    this.forget(key);
    for (const [oldest] of this.files) {
      if (this.held + size <= this.maxBytes) break;
      this.forget(oldest);
    }
    this.files.set(key, { file, until: this.now() + this.ttlMs });
    this.held += size;
    return true;
  }

  forget(key: string): void {
    const entry = this.files.get(key);
    if (!entry) return;
    this.files.delete(key);
    this.held -= entry.file.bytes.byteLength;
  }
}

/** This isolate's held files, shared by /v1's file URLs and the artifact API's sealed files. */
export const fileMemory = new FileMemory(MAX_HELD_FILE_BYTES, MAX_HELD_BYTES, HELD_FILE_MS);
