import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { tarLength, tarStream, type TarEntry } from "../../src/artifacts/tar-stream";
import { call, createModel, uniqueName } from "../helpers";
import { createRun } from "../tracking-helpers";

const decoder = new TextDecoder();
const field = (block: Uint8Array, offset: number, width: number) =>
  decoder
    .decode(block.subarray(offset, offset + width))
    .replace(/\0.*$/s, "")
    .trim();

interface TarHeader {
  name: string;
  type: string;
  size: number;
  /** Seconds since the epoch, as ustar stores it. */
  mtime: number;
  checksumOk: boolean;
  data: Uint8Array;
}

/** Every header of a tar archive in order (pax headers included), with its checksum checked. */
function readTar(tar: Uint8Array): TarHeader[] {
  const out: TarHeader[] = [];
  for (let offset = 0; offset + 512 <= tar.length; ) {
    const block = tar.subarray(offset, offset + 512);
    if (block.every((b) => b === 0)) break;
    const size = parseInt(field(block, 124, 12), 8);
    const sum = block.reduce((a, b, i) => a + (i >= 148 && i < 156 ? 32 : b), 0);
    out.push({
      name: field(block, 0, 100),
      type: field(block, 156, 1),
      size,
      mtime: parseInt(field(block, 136, 12), 8),
      checksumOk: parseInt(field(block, 148, 8), 8) === sum,
      data: tar.subarray(offset + 512, offset + 512 + size),
    });
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

const text = (s: string) => new TextEncoder().encode(s);
const entry = (path: string, body: string, mtimeMs?: number): TarEntry => ({
  path,
  size: text(body).length,
  mtimeMs,
  open: async () => new Response(text(body)).body!,
});

async function archive(entries: TarEntry[]): Promise<Uint8Array> {
  const bytes = new Uint8Array(await new Response(tarStream(entries)).arrayBuffer());
  expect(bytes.length).toBe(tarLength(entries));
  return bytes;
}

describe("tarStream", () => {
  it("dates each entry with its mtimeMs, in whole seconds, and keeps the checksum right", async () => {
    const created = Date.UTC(2026, 10, 27, 8, 40, 52, 789);
    const headers = readTar(
      await archive([entry("MLmodel", "flavors: {}\n", created), entry("conf/model.pkl", "weights", created + 5000)]),
    );
    expect(headers.map((h) => [h.name, h.type, h.mtime, h.checksumOk, decoder.decode(h.data)])).toEqual([
      ["MLmodel", "0", Math.floor(created / 1000), true, "flavors: {}\n"],
      ["conf/model.pkl", "0", Math.floor(created / 1000) + 5, true, "weights"],
    ]);
  });

  it("dates a long or non-ASCII name's pax header and its entry alike", async () => {
    const created = Date.UTC(2026, 0, 2, 3, 4, 5);
    const long = `${"deep/".repeat(30)}model.bin`;
    const headers = readTar(await archive([entry(long, "x", created), entry("données/vocab.txt", "a\nb\n", created)]));
    expect(headers.map((h) => [h.type, h.mtime, h.checksumOk])).toEqual([
      ["x", created / 1000, true],
      ["0", created / 1000, true],
      ["x", created / 1000, true],
      ["0", created / 1000, true],
    ]);
    expect(decoder.decode(headers[0]!.data)).toContain(` path=${long}\n`);
    expect(decoder.decode(headers[2]!.data)).toContain(" path=données/vocab.txt\n");
  });

  it("dates an entry without mtimeMs at the epoch, as before", async () => {
    const [header] = readTar(await archive([entry("a.txt", "a")]));
    expect([header!.mtime, header!.checksumOk]).toEqual([0, true]);
  });
});

describe("GET /v1/models/{name}/versions/{v}/archive.tar", () => {
  it("dates every entry with the version's creation time", async () => {
    const fetchWorker = (path: string, init?: RequestInit) =>
      exports.default.fetch(new Request(`http://modelgate.test${path}`, init));
    const name = await createModel(uniqueName("tar-time"));
    const root = `${String((await createRun("0")).info.artifact_uri).replace(/^mlflow-artifacts:\//, "")}/model`;
    for (const [path, body] of [
      ["MLmodel", "flavors: {}\n"],
      [`nested/${"long-name-".repeat(12)}.bin`, "weights"],
    ]) {
      expect(
        (await fetchWorker(`/api/2.0/mlflow-artifacts/artifacts/${root}/${path}`, { method: "PUT", body })).status,
      ).toBe(200);
    }
    const created = await call("POST", "/model-versions/create", { name, source: `mlflow-artifacts:/${root}` });
    expect(created.body.model_version.status).toBe("READY");
    const seconds = Math.floor(Number(created.body.model_version.creation_timestamp) / 1000);
    expect(seconds).toBeGreaterThan(Date.UTC(2020, 0, 1) / 1000);

    const res = await fetchWorker(`/v1/models/${name}/versions/1/archive.tar`);
    expect(res.status).toBe(200);
    const headers = readTar(new Uint8Array(await res.arrayBuffer()));
    expect(headers.map((h) => [h.type, h.mtime, h.checksumOk])).toEqual([
      ["0", seconds, true], // model.sig
      ["0", seconds, true],
      ["x", seconds, true],
      ["0", seconds, true],
    ]);
  });
});
