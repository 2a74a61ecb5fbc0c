const EMPTY = new Uint8Array(0);

/** `tryByte()`'s answer when the current chunk is used up: call `byte()` (which may await). */
export const NEED_MORE = -2;

/**
 * A pull reader over a byte stream that never holds more than the chunk in hand (plus, for `peek`
 * and short reads that straddle chunks, a few bytes). `end` bounds it to a region (a zip entry): reads
 * past it answer end-of-stream, and the caller skips to the region's end afterwards.
 */
export class ByteReader {
  private buf: Uint8Array = EMPTY;
  private pos = 0;
  /** Absolute offset of buf[0]. */
  private base = 0;
  private done = false;
  end = Infinity;

  constructor(private readonly source: ReadableStreamDefaultReader<Uint8Array>) {}

  static of(stream: ReadableStream<Uint8Array>): ByteReader {
    return new ByteReader(stream.getReader());
  }

  get position(): number {
    return this.base + this.pos;
  }

  /** Bytes readable now without awaiting. */
  available(): number {
    return Math.min(this.buf.length - this.pos, this.end - this.position);
  }

  /** Makes at least one byte available; false at the end of the stream or region. */
  async more(): Promise<boolean> {
    if (this.position >= this.end) return false;
    while (this.pos >= this.buf.length) {
      if (this.done) return false;
      const { value, done } = await this.source.read();
      if (done) {
        this.done = true;
        return false;
      }
      if (value.length === 0) continue;
      this.base += this.buf.length;
      this.buf = value;
      this.pos = 0;
    }
    return true;
  }

  tryByte(): number {
    return this.available() > 0 ? this.buf[this.pos++]! : NEED_MORE;
  }

  /** `n` bytes the caller knows are available(): no await, no copy (valid until the next read). */
  takeSync(n: number): Uint8Array {
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** The byte `ahead` positions on, if it is in the current chunk; -1 otherwise. */
  peekSync(ahead: number): number {
    return this.available() > ahead ? this.buf[this.pos + ahead]! : -1;
  }

  /** The next byte, or -1 at the end. */
  async byte(): Promise<number> {
    if (this.available() > 0 || (await this.more())) return this.buf[this.pos++]!;
    return -1;
  }

  /** Exactly `n` bytes (n small: a header, a length, a short string), or null if the stream ends first. */
  async exact(n: number): Promise<Uint8Array | null> {
    if (this.available() >= n) {
      const out = this.buf.subarray(this.pos, this.pos + n);
      this.pos += n;
      return out;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      if (this.available() === 0 && !(await this.more())) return null;
      const take = Math.min(n - filled, this.available());
      out.set(this.buf.subarray(this.pos, this.pos + take), filled);
      this.pos += take;
      filled += take;
    }
    return out;
  }

  /** Skips `n` bytes without keeping them; false if the stream ends first. */
  async skip(n: number): Promise<boolean> {
    let left = n;
    while (left > 0) {
      if (this.available() === 0 && !(await this.more())) return false;
      const take = Math.min(left, this.available());
      this.pos += take;
      left -= take;
    }
    return true;
  }

  /** The next `n` bytes without consuming them (fewer at the end). For format sniffing; n is small. */
  async peek(n: number): Promise<Uint8Array> {
    while (this.buf.length - this.pos < n && !this.done) {
      const { value, done } = await this.source.read();
      if (done) {
        this.done = true;
        break;
      }
      const joined = new Uint8Array(this.buf.length - this.pos + value.length);
      joined.set(this.buf.subarray(this.pos));
      joined.set(value, this.buf.length - this.pos);
      this.base += this.pos;
      this.buf = joined;
      this.pos = 0;
    }
    return this.buf.subarray(
      this.pos,
      Math.min(this.buf.length, this.pos + n, this.pos + Math.max(0, this.end - this.position)),
    );
  }

  /**
   * Reads up to and including the next "\n", keeping at most `keep` bytes of it (the rest is
   * counted, not held). null if the stream ends before a newline.
   */
  async line(keep: number): Promise<{ head: Uint8Array; length: number } | null> {
    let head: Uint8Array | null = null;
    let length = 0;
    for (;;) {
      if (this.available() === 0 && !(await this.more())) return null;
      const avail = this.available();
      const view = this.buf.subarray(this.pos, this.pos + avail);
      const nl = view.indexOf(10);
      const take = nl < 0 ? avail : nl;
      if (length < keep) {
        const part = view.subarray(0, Math.min(take, keep - length));
        if (head === null && nl >= 0) head = part;
        else {
          const grown: Uint8Array = new Uint8Array((head?.length ?? 0) + part.length);
          if (head) grown.set(head);
          grown.set(part, head?.length ?? 0);
          head = grown;
        }
      }
      length += take;
      this.pos += nl < 0 ? avail : nl + 1;
      if (nl >= 0) return { head: head ?? EMPTY, length };
    }
  }

  /**
   * The next `length` bytes (at most to the end) as a stream of their own, for a decompressor. The
   * chunks are copies: a consumer may keep or transfer them.
   */
  region(length: number): ReadableStream<Uint8Array> {
    let left = length;
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        if (left <= 0 || (this.available() === 0 && !(await this.more()))) return controller.close();
        const take = Math.min(left, this.available());
        controller.enqueue(this.buf.slice(this.pos, this.pos + take));
        this.pos += take;
        left -= take;
      },
    });
  }

  /** Stops reading the source (the caller is done with the stream). */
  async cancel(): Promise<void> {
    await this.source.cancel().catch(() => undefined);
  }
}
