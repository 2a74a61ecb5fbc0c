import { describe, expect, it } from "vitest";
import { scanStream } from "../../src/scanning/file-scanner";

const scan = (bytes: number[]) => scanStream(new Blob([new Uint8Array(bytes)]).stream());

// The sniffers look at up to 16 bytes of head: a file shorter than a format's header is judged by
// what it holds, never by bytes past its end (and never crashes the scan).
describe("files shorter than a format's header", () => {
  it.each([
    { name: "a lone zlib CMF byte is text", bytes: [0x78], verdict: "clean", format: "text" },
    {
      name: "a two-byte zlib header without data does not decompress",
      bytes: [0x78, 0x9c],
      verdict: "unknown",
      format: "zlib:corrupt",
    },
    { name: "a lone PROTO opcode is text", bytes: [0x80], verdict: "clean", format: "text" },
    { name: "PROTO 2 alone is a truncated pickle", bytes: [0x80, 0x02], verdict: "unknown", format: "pickle" },
    { name: "an empty file is empty", bytes: [], verdict: "clean", format: "empty" },
  ])("$name", async ({ bytes, verdict, format }) => {
    expect(await scan(bytes)).toMatchObject({ verdict, format });
  });

  it("reports a truncated PROTO 2 pickle where it ends", async () => {
    expect((await scan([0x80, 0x02])).reasons).toEqual(["not a complete pickle: truncated before STOP (byte 2)"]);
  });
});
