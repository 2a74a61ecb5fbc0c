/**
 * A pass-through stream that counts bytes and computes their SHA-256 with the runtime's
 * DigestStream as they flow, so hashing costs no second read and no buffering.
 */
export function hashingStream() {
  const digest = new crypto.DigestStream("SHA-256");
  const writer = digest.getWriter();
  let size = 0;
  const stream = new TransformStream<Uint8Array, Uint8Array>({
    async transform(chunk, controller) {
      size += chunk.byteLength;
      // Hash a copy-free view first: enqueueing may hand the buffer to the consumer.
      await writer.write(chunk);
      controller.enqueue(chunk);
    },
    async flush() {
      await writer.close();
    },
  });
  return {
    stream,
    size: () => size,
    sha256: async () => toHex(await digest.digest),
  };
}

export function toHex(buffer: ArrayBuffer): string {
  return [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
