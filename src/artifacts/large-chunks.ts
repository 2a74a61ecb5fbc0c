/**
 * Re-reads a byte stream in chunks of up to `size` bytes. A request body read the default way
 * arrives in 4 KiB chunks; per-chunk costs downstream (hashing, R2) then dominate: measured on a
 * 300 MiB upload, draining the body took 7.0 s with the default reader and 1.4 s with a 1 MiB BYOB
 * reader. Memory stays bounded: one buffer per chunk in flight.
 */
export function inLargeChunks(body: ReadableStream<Uint8Array>, size = 1024 * 1024): ReadableStream<Uint8Array> {
  let reader: ReadableStreamBYOBReader;
  try {
    reader = body.getReader({ mode: "byob" });
  } catch {
    return body; // not a byte stream: pass it through as it is
  }
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { done, value } = await reader.read(new Uint8Array(size));
        if (done) controller.close();
        else controller.enqueue(value);
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
