import { describe, expect, it } from "vitest";
import { scanStream } from "../../src/scanning/file-scanner";
import expected from "../fixtures/pickles/expected.json";
import { fixtureBytes } from "./fixture-bytes";

/** The bytes as a stream of small, unaligned chunks: every read path crosses chunk borders. */
function chunked(bytes: Uint8Array, size = 7): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + size));
      at += size;
    },
  });
}

const corpus = Object.entries(expected as Record<string, "clean" | "unknown" | "unsafe">);

describe("the fixture corpus", () => {
  it.each(corpus)("scans %s as %s", async (name, verdict) => {
    const bytes = fixtureBytes(name);
    const whole = await scanStream(new Blob([bytes]).stream());
    const small = await scanStream(chunked(bytes));
    expect(
      { verdict: whole.verdict, imports: whole.imports, reasons: whole.reasons },
      JSON.stringify(whole),
    ).toMatchObject({ verdict });
    expect(small).toEqual(whole);
  });
});
