/// <reference types="vite/client" />
import { describe, expect, it } from "vitest";
import { scanStream } from "../../src/scanning/file-scanner";
import expected from "../fixtures/pickles/expected.json";

// The corpus (test/fixtures/pickles/generate.py, run once): each file as a data: URL, read back as bytes.
const files = import.meta.glob<string>("../fixtures/pickles/*", { query: "?url&inline", import: "default", eager: true });

function bytesOf(name: string): Uint8Array {
  const url = files[`../fixtures/pickles/${name}`];
  if (!url) throw new Error(`fixture ${name} missing`);
  const b64 = url.slice(url.indexOf(",") + 1);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

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
    const bytes = bytesOf(name);
    const whole = await scanStream(new Blob([bytes]).stream());
    const small = await scanStream(chunked(bytes));
    expect({ verdict: whole.verdict, imports: whole.imports, reasons: whole.reasons }, JSON.stringify(whole)).toMatchObject({ verdict });
    expect(small).toEqual(whole);
  });
});
