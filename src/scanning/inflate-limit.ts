import type { ByteReader } from "./byte-reader";

/**
 * Limits on what a file's compressed streams (gzip/zlib wrappers, deflated zip entries) may
 * decompress to. Without them a small upload costs unbounded CPU: a 127 KiB gzip of a valid pickle
 * decompresses to 128 MiB and took 3.2 s to scan, and the inline scan runs inside the model's
 * Durable Object (docs/supply-chain.md, "Limits").
 */
export const MAX_INFLATE_RATIO = 200;
/** Decompressed bytes a file may produce whatever its ratio: a tiny stream of real data is fine. */
export const INFLATE_FLOOR_BYTES = 1024 * 1024;
/** Decompressed bytes one file may produce at most, all its compressed streams together. */
export const MAX_INFLATED_BYTES = 1024 * 1024 * 1024;

/**
 * Compressed bytes handed to the decompressor at a time: what it inflates before the limits are
 * checked again (at deflate's ~1032× at most, about 8 MiB).
 */
const FEED_BYTES = 8 * 1024;

/** A budget of decompressed bytes shared by several files (the coordinator's inline scan). */
export interface SharedInflateBudget {
  left: number;
}

/** The formats DecompressionStream opens. */
export type InflateFormat = "gzip" | "deflate" | "deflate-raw";

/** Thrown (and caught by scanStream) when a decompressed stream goes past a limit. */
export class InflateLimitReached extends Error {}

/**
 * Thrown by scanStream when the shared budget ran out: the file is not judged here (it is not
 * `unknown`: the scans queue will read it whole, under the per-file limits only).
 */
export class ScanDeferred extends Error {}

/**
 * Counts the bytes every decompressed stream of one file produces, against
 * min(MAX_INFLATED_BYTES, max(INFLATE_FLOOR_BYTES, MAX_INFLATE_RATIO × compressed bytes read)).
 * The compressed bytes are the file's own bytes handed to a decompressor so far (a nested
 * stream's input, itself decompressed, does not count), so nested wrappers share one budget and
 * the work is bounded per byte uploaded, while streaming.
 */
export class InflateMeter {
  private inflated = 0;
  /** The file's own bytes handed to a decompressor so far (not those of a nested stream). */
  private fed = 0;
  /** The limit that stopped the scan, in words; null while none has. */
  exceeded: string | null = null;
  deferred = false;

  constructor(
    private readonly file: ByteReader,
    private readonly shared?: SharedInflateBudget,
  ) {}

  get stopped(): boolean {
    return this.exceeded !== null || this.deferred;
  }

  /**
   * `input` decompressed, counted against the limits: the stream errors once the file has produced
   * more than it may. The decompressor is fed by hand, FEED_BYTES at a time and only while its
   * output is wanted: piped (`pipeThrough`), workerd reads the whole input at once and a native
   * decompressor inflates all it is given, so a limit checked on the output would come too late
   * for memory and CPU.
   */
  inflate(from: ByteReader, input: ReadableStream<Uint8Array>, format: InflateFormat): ReadableStream<Uint8Array> {
    const own = from === this.file;
    const decompressor = new DecompressionStream(format);
    const writer = decompressor.writable.getWriter();
    const output = decompressor.readable.getReader();
    const source = input.getReader();
    let held: Uint8Array = new Uint8Array(0);
    let ended = false;
    /** Writes the next slice of input (closing the decompressor once the input ends). */
    const feed = async (): Promise<void> => {
      if (held.length === 0) {
        const next = await source.read();
        if (next.done) {
          ended = true;
          writer.close().catch(() => undefined); // a truncated stream errors the output instead
          return;
        }
        held = next.value;
      }
      const slice = held.subarray(0, FEED_BYTES);
      held = held.subarray(slice.length);
      if (own) this.fed += slice.length;
      await writer.write(slice);
    };
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        const read = output.read();
        let settled = false;
        read.then(
          () => (settled = true),
          () => (settled = true),
        );
        // The decompressor inflates each slice whole as it is written: its output may already wait
        // in the readable, arriving a turn of the event loop later. Feed only once it did not.
        if (!ended) await Promise.race([read, nextTurn()]).catch(() => undefined);
        while (!settled && !ended) {
          const wrote = feed();
          wrote.catch(() => undefined); // its error reaches `read` too
          await Promise.race([read, wrote]);
        }
        const { value, done } = await read;
        if (done) return controller.close();
        this.count(value.length);
        controller.enqueue(value);
      },
      cancel: async (reason) => {
        await source.cancel(reason).catch(() => undefined);
        await output.cancel(reason).catch(() => undefined);
        await writer.abort(reason).catch(() => undefined);
      },
    });
  }

  private count(n: number): void {
    this.inflated += n;
    if (this.shared) {
      this.shared.left -= n;
      if (this.shared.left < 0) {
        this.deferred = true;
        throw new ScanDeferred("the inline scan's budget of decompressed bytes ran out");
      }
    }
    const compressed = this.fed;
    const byRatio = Math.max(INFLATE_FLOOR_BYTES, MAX_INFLATE_RATIO * compressed);
    if (this.inflated <= Math.min(MAX_INFLATED_BYTES, byRatio)) return;
    this.exceeded =
      byRatio < MAX_INFLATED_BYTES
        ? `decompressed size exceeds ${MAX_INFLATE_RATIO}× the compressed bytes read (more than ${mib(this.inflated)} from ${mib(compressed)}): not scanned`
        : `decompressed size exceeds ${mib(MAX_INFLATED_BYTES)}, the scanner's limit per file: not scanned`;
    throw new InflateLimitReached(this.exceeded);
  }
}

function mib(n: number): string {
  return n >= 1024 * 1024 ? `${(n / (1024 * 1024)).toFixed(1)} MiB` : `${(n / 1024).toFixed(1)} KiB`;
}

/** Resolves after pending I/O callbacks of this turn (a read of buffered output) have run. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
