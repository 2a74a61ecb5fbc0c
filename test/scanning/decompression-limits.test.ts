import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { PolicyGate } from "../../src/coordinator/policy-gate";
import { ModelState } from "../../src/coordinator/model-state";
import { defaultScanPolicy } from "../../src/domain/promotion-policy";
import { openDatabase } from "../../src/repositories/database";
import { ModelRepository } from "../../src/repositories/model-repository";
import { scanStream } from "../../src/scanning/file-scanner";
import { INFLATE_FLOOR_BYTES, MAX_INFLATE_RATIO } from "../../src/scanning/inflate-limit";
import { ScanGate } from "../../src/scanning/scan-gate";
import { servicesFor } from "../../src/services";
import { call, MODELGATE_API } from "../helpers";
import { registeredVersion } from "./registered-version";

const KiB = 1024;
const MiB = 1024 * KiB;

/** A valid pickle of `size` bytes: PROTO 2, NONE/POP pairs, NONE STOP. It compresses ~1000×. */
function pickleStream(size: number): ReadableStream<Uint8Array> {
  const body = new Uint8Array(MiB);
  for (let i = 0; i < body.length; i += 2) body.set([0x4e, 0x30], i); // "N0"
  let sent = -1;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent === -1) controller.enqueue(Uint8Array.of(0x80, 2));
      else if (sent < size) controller.enqueue(body.subarray(0, Math.min(MiB, size - sent)));
      else if (sent === size)
        controller.enqueue(Uint8Array.of(0x4e, 0x2e)); // "N."
      else return controller.close();
      sent = sent === -1 ? 0 : sent === size ? size + 1 : Math.min(size, sent + MiB);
    },
  });
}

/** A compression bomb made here, with the platform's CompressionStream (no fixture). */
async function compressed(size: number, format: "gzip" | "deflate-raw"): Promise<Uint8Array> {
  return new Uint8Array(
    await new Response(pickleStream(size).pipeThrough(new CompressionStream(format))).arrayBuffer(),
  );
}

/** `bytes` in 1 KiB chunks, counting what the scanner pulled. */
function counted(bytes: Uint8Array): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
  let at = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + KiB));
      at += KiB;
    },
  });
  return { stream, pulled: () => Math.min(at, bytes.length) };
}

const le16 = (n: number) => [n & 255, (n >> 8) & 255];
const le32 = (n: number) => [n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >>> 24) & 255];

/** A zip holding one deflated entry `name` (a local header with its sizes, then the data). */
function zipWith(name: string, deflated: Uint8Array, size: number): Uint8Array {
  const n = new TextEncoder().encode(name);
  const header = [0x50, 0x4b, 0x03, 0x04, 20, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  const bytes = [...header, ...le32(deflated.length), ...le32(size), ...le16(n.length), ...le16(0), ...n];
  const out = new Uint8Array(bytes.length + deflated.length);
  out.set(bytes);
  out.set(deflated, bytes.length);
  return out;
}

describe("decompression limits", () => {
  it("stops a gzip bomb early: unknown, naming the limit, after reading a fraction of it", async () => {
    const bomb = await compressed(16 * MiB, "gzip");
    expect(bomb.length).toBeLessThan(64 * KiB); // ~1000×: far past the ratio
    const source = counted(bomb);
    const scan = await scanStream(source.stream);
    expect(scan.verdict).toBe("unknown");
    expect(scan.reasons).toEqual([
      expect.stringMatching(
        new RegExp(`^decompressed size exceeds ${MAX_INFLATE_RATIO}× the compressed bytes read \\(.*\\): not scanned$`),
      ),
    ]);
    expect(source.pulled()).toBeLessThan(bomb.length / 2);
  });

  it("stops a deflated data.pkl in a PyTorch-style zip, and a gzip nested in a gzip", async () => {
    const size = 16 * MiB;
    const zip = zipWith("archive/data.pkl", await compressed(size, "deflate-raw"), size + 4);
    const source = counted(zip);
    const scan = await scanStream(source.stream);
    expect(scan.verdict).toBe("unknown");
    expect(scan.reasons).toEqual([expect.stringMatching(/^decompressed size exceeds .*: not scanned$/)]);
    expect(source.pulled()).toBeLessThan(zip.length / 2);

    const inner = await compressed(16 * MiB, "gzip");
    const nested = new Uint8Array(
      await new Response(new Blob([inner]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer(),
    );
    const twice = await scanStream(counted(nested).stream);
    expect(twice.verdict).toBe("unknown");
    expect(twice.reasons[0]).toMatch(/^decompressed size exceeds .*: not scanned$/);
  });

  it("still reads a small stream past the ratio (the floor) to its verdict", async () => {
    const small = await compressed(INFLATE_FLOOR_BYTES / 2, "gzip");
    const scan = await scanStream(counted(small).stream);
    expect(scan).toMatchObject({ verdict: "clean", format: "gzip:pickle", reasons: [] });
  });

  it("answers a promotion of a bomb with the rule's 400 and records it unknown; no 5xx", async () => {
    const { name, version } = await registeredVersion({
      MLmodel: "flavors: {}\n",
      "model.pkl.gz": await compressed(16 * MiB, "gzip"),
    });
    const put = await call(
      "PUT",
      "/registered-models/policy",
      { name, policy: { Production: [{ type: "scan" }] } },
      MODELGATE_API,
    );
    expect(put.status).toBe(200);
    const res = await call("POST", "/model-versions/transition-stage", {
      name,
      version,
      stage: "Production",
      archive_existing_versions: false,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error_code).toBe("INVALID_PARAMETER_VALUE");
    expect(res.body.message).toMatch(/scan unknown: model\.pkl\.gz: decompressed size exceeds .*: not scanned/);
    const scan = await call("GET", "/model-versions/scan", { name, version }, MODELGATE_API);
    expect(scan.status).toBe(200);
    expect(scan.body.scan).toBe("unknown");
  });
});

describe("the inline scan's budget of decompressed bytes", () => {
  it("leaves a version pending (for the queue) when its files decompress past it; the queue's scan judges it", async () => {
    // Under the per-file limits (the floor), over an inline budget of 64 KiB.
    const { modelId } = await registeredVersion({ "model.pkl.gz": await compressed(512 * KiB, "gzip") });
    const stub = env.MODEL_COORDINATOR.get(env.MODEL_COORDINATOR.idFromName(`inline-${crypto.randomUUID()}`));
    await runInDurableObject(stub, async (_instance, state) => {
      const db = openDatabase(env.DB);
      const gate = new PolicyGate(state.storage, db, Date.now, {
        scans: new ScanGate(db, env.ARTIFACTS, undefined, Date.now, 64 * KiB),
        defaultPolicy: defaultScanPolicy("Production"),
      });
      const s = ModelState.fromSnapshot((await new ModelRepository(db).loadSnapshot(modelId))!);
      await expect(gate.check(s, 1, "Production", null)).rejects.toThrow(/scan pending: .* not scanned yet/);
      const rows = await env.DB.prepare("SELECT count(*) AS n FROM version_scans WHERE model_id = ?")
        .bind(modelId)
        .first<{ n: number }>();
      expect(rows!.n).toBe(0);
      // The queue's consumer scans with the per-file limits only, and the coordinator records it.
      expect(await servicesFor(env).scans.scanVersion(modelId, 1)).toBe(1);
      await expect(gate.check(s, 1, "Production", null)).resolves.toBeUndefined();
    });
  });
});
