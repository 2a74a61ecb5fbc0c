// A POSIX (ustar + pax) tar archive, produced as a stream: one file's bytes at a time, never the
// whole archive in memory.

const BLOCK = 512;
const encoder = new TextEncoder();

export interface TarEntry {
  path: string;
  size: number;
  /**
   * When the entry was last modified, in milliseconds since the epoch (the registry's unit):
   * a version's files carry the version's creation time. Stored in whole seconds, as ustar does;
   * without it, 0 (1970-01-01).
   */
  mtimeMs?: number;
  open: () => Promise<ReadableStream<Uint8Array>>;
}

/** An entry whose bytes are already in memory (a generated file, e.g. the version's model.sig). */
export function bytesEntry(path: string, bytes: Uint8Array, mtimeMs?: number): TarEntry {
  return {
    path,
    size: bytes.length,
    mtimeMs,
    open: async () =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(bytes);
          controller.close();
        },
      }),
  };
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, "0")}\0`;
}

function header(name: string, size: number, type: "0" | "x", mtime: number, prefix = ""): Uint8Array {
  const block = new Uint8Array(BLOCK);
  const put = (text: string, offset: number, width: number) =>
    block.set(encoder.encode(text).subarray(0, width), offset);
  put(name, 0, 100);
  put(octal(0o644, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(size, 12), 124, 12);
  put(octal(mtime, 12), 136, 12);
  put("        ", 148, 8); // checksum field counts as spaces while summing
  put(type, 156, 1);
  put("ustar\u0000", 257, 6);
  put("00", 263, 2);
  put(prefix, 345, 155);
  const sum = block.reduce((a, b) => a + b, 0);
  put(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8);
  return block;
}

/** A pax record `"<len> path=<value>\n"`, whose length counts its own digits. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const n = encoder.encode(body).length;
  let length = n + String(n).length;
  if (String(length).length > String(n).length) length = n + String(length).length;
  return `${length}${body}`;
}

/** The header blocks for one entry: ustar when the name fits, a pax header before it otherwise. */
export function entryHeaders(path: string, size: number, mtimeMs = 0): Uint8Array[] {
  // ustar's 12-byte octal field holds seconds up to 8^11 - 1 (the year 2242); negative times are 0.
  const mtime = Math.min(Math.max(0, Math.floor(mtimeMs / 1000)), 8 ** 11 - 1);
  const bytes = encoder.encode(path).length;
  if (bytes <= 100 && /^[\x20-\x7e]*$/.test(path)) return [header(path, size, "0", mtime)];
  const pax = encoder.encode(paxRecord("path", path));
  const paxBlock = new Uint8Array(Math.ceil(pax.length / BLOCK) * BLOCK);
  paxBlock.set(pax);
  const shortName = `PaxHeader/${path.slice(-80)}`.replace(/[^\x20-\x7e]/g, "_");
  return [
    header(shortName, pax.length, "x", mtime),
    paxBlock,
    header(path.replace(/[^\x20-\x7e]/g, "_").slice(-100), size, "0", mtime),
  ];
}

const padding = (size: number) => (BLOCK - (size % BLOCK)) % BLOCK;

/** The archive's exact length, known before any byte is sent. */
export function tarLength(entries: Pick<TarEntry, "path" | "size">[]): number {
  let total = 2 * BLOCK;
  for (const e of entries)
    total += entryHeaders(e.path, e.size).reduce((n, b) => n + b.length, 0) + e.size + padding(e.size);
  return total;
}

export function tarStream(entries: TarEntry[]): ReadableStream<Uint8Array> {
  let index = 0;
  let current: ReadableStreamDefaultReader<Uint8Array> | null = null;
  return new ReadableStream<Uint8Array>(
    {
      // Every pull enqueues something: with a high-water mark of 0 a pull that enqueued nothing is
      // not called again, and the archive stopped after an empty file or one ending on a block.
      async pull(controller) {
        if (current) {
          const { done, value } = await current.read();
          if (!done) return controller.enqueue(value);
          current = null;
          const pad = padding(entries[index - 1]!.size); // the entry `current` reads
          if (pad > 0) return controller.enqueue(new Uint8Array(pad));
        }
        if (index >= entries.length) {
          controller.enqueue(new Uint8Array(2 * BLOCK));
          return controller.close();
        }
        const entry = entries[index++]!;
        for (const block of entryHeaders(entry.path, entry.size, entry.mtimeMs)) controller.enqueue(block);
        current = (await entry.open()).getReader();
      },
      async cancel(reason) {
        await current?.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
