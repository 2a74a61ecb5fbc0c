import { describe, expect, it } from "vitest";
import { scanStream } from "../../src/scanning/file-scanner";

const MiB = 1024 * 1024;
const utf8 = new TextEncoder();

/**
 * `head`, then `size` bytes of filler produced on demand (one reused 1 MiB buffer), then `tail`: a
 * large file that never exists in memory, so the test proves the scanner streams it.
 */
function generated(
  head: Uint8Array,
  size: number,
  tail: Uint8Array,
): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
  const filler = new Uint8Array(MiB).fill(0x4b);
  let sent = -1;
  let pulled = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      let chunk: Uint8Array;
      if (sent === -1) chunk = head;
      else if (sent < size) chunk = filler.subarray(0, Math.min(MiB, size - sent));
      else if (sent === size) chunk = tail;
      else return controller.close();
      sent = sent === -1 ? 0 : sent === size ? size + 1 : sent + chunk.length;
      pulled += chunk.length;
      controller.enqueue(chunk);
    },
  });
  return { stream, pulled: () => pulled };
}

const le32 = (n: number) => [n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >>> 24) & 255];
const le16 = (n: number) => [n & 255, (n >> 8) & 255];

/** A zip local header for a stored entry (sizes given, no data descriptor). */
function localHeader(name: string, size: number): number[] {
  const n = utf8.encode(name);
  return [
    0x50,
    0x4b,
    0x03,
    0x04,
    20,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    ...le32(size),
    ...le32(size),
    ...le16(n.length),
    0,
    0,
    ...n,
  ];
}

describe("large files", () => {
  it("walks past a 1 GiB tensor entry of a PyTorch-style zip without reading it as a pickle, and still scans the pickle after it", async () => {
    const size = 1024 * MiB;
    const evil = utf8.encode("cos\nsystem\n(S'echo'\ntR.");
    const head = new Uint8Array(localHeader("archive/data/0", size));
    const tail = new Uint8Array([...localHeader("archive/data.pkl", evil.length), ...evil]);
    const file = generated(head, size, tail);
    const scan = await scanStream(file.stream);
    expect(scan).toMatchObject({
      verdict: "unsafe",
      format: "pytorch-zip",
      imports: [{ name: "os.system", entry: "archive/data.pkl" }],
    });
    expect(file.pulled()).toBe(head.length + size + tail.length);
  });

  it("skips a 1 GiB BINBYTES8 payload of a plain pickle", async () => {
    const size = 1024 * MiB;
    const head = new Uint8Array([0x80, 0x04, 0x8e, ...le32(size), 0, 0, 0, 0]);
    const scan = await scanStream(generated(head, size, utf8.encode("0cbuiltins\nbytearray\n)R.")).stream);
    expect(scan).toMatchObject({ verdict: "clean", format: "pickle", imports: [{ name: "builtins.bytearray" }] });
  });
});
