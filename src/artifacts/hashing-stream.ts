import { toHex } from "../domain/hex";

/**
 * SHA-256 and byte count of data written to it in pieces, computed by the runtime's DigestStream
 * as the bytes go by, so hashing costs no second read and holds no copy: `write` is done with the
 * chunk once its promise settles.
 */
export class Sha256 {
  private readonly digest = new crypto.DigestStream("SHA-256");
  private readonly writer = this.digest.getWriter();
  size = 0;

  write(chunk: Uint8Array): Promise<void> {
    this.size += chunk.byteLength;
    return this.writer.write(chunk);
  }

  async hex(): Promise<string> {
    await this.writer.close();
    return toHex(await this.digest.digest);
  }
}

/** SHA-256 of a whole stream, hex: a native pipe into DigestStream, with no chunk passing through JavaScript. */
export async function sha256OfStream(body: ReadableStream<Uint8Array>): Promise<string> {
  const digest = new crypto.DigestStream("SHA-256");
  await body.pipeTo(digest);
  return toHex(await digest.digest);
}
