import { R2ArtifactStore } from "../artifacts/r2-artifact-store";
import type { ScanFact } from "../domain/promotion-policy";
import { RegistryError } from "../errors";
import { ArtifactRepository } from "../repositories/artifact-repository";
import type { Database } from "../repositories/database";
import { EventRepository } from "../repositories/event-repository";
import { type VersionKey, versionKey } from "../domain/scans";
import { ScanRepository, type VersionVerdict } from "./scan-repository";
import { type ComputedVerdict, overrideInForce, SCANNER_VERSION, ScanService } from "./scan-service";

/**
 * How many unscanned bytes a `scan` rule scans itself, inside the transition, rather than refuse
 * with "scan pending". A training job registers a version and promotes it at once, before the
 * scans queue has reached it; its pickles are usually a few MiB, which the scanner reads in well
 * under a second, so the promotion does not fail by a race. Larger versions wait for the queue.
 */
export const INLINE_SCAN_BYTES = 64 * 1024 * 1024;

/**
 * How many decompressed bytes (gzip/zlib wrappers, deflated zip entries) the inline scan reads, all
 * the version's files together, before it stops and leaves the rest pending for the queue: the
 * compressed size alone does not bound the work (a 127 KiB gzip can hold 128 MiB of pickle), and
 * the inline scan runs inside the model's Durable Object, holding up every other mutation of it.
 * With INLINE_SCAN_BYTES this bounds an inline scan to about 128 MiB parsed (a few seconds of CPU
 * at worst, for an opcode-dense pickle).
 */
export const INLINE_INFLATE_BYTES = 64 * 1024 * 1024;

/**
 * The scan side of a model's coordinator: the facts a `scan` policy rule reads, and the recording
 * of a version's verdict with its `model_version.scanned` event (one D1 batch, from inside the
 * coordinator, so the event takes its place in the model's sequence and the outbox relays it).
 */
export class ScanGate {
  private readonly scanner: ScanService;
  private readonly repo: ScanRepository;
  private readonly events: EventRepository;

  constructor(
    db: Database,
    bucket: R2Bucket,
    private readonly inlineBudget: number = INLINE_SCAN_BYTES,
    private readonly clock: () => number = Date.now,
    private readonly inlineInflateBudget: number = INLINE_INFLATE_BYTES,
  ) {
    const artifacts = new ArtifactRepository(db);
    this.repo = new ScanRepository(db);
    this.events = new EventRepository(db);
    this.scanner = new ScanService(
      {
        getVersion: () => {
          throw new RegistryError("INTERNAL_ERROR", "The coordinator's scanner reads versions by id only.");
        },
        manifest: (modelId, version) => artifacts.manifest(modelId, version),
      },
      new R2ArtifactStore(bucket),
      this.repo,
      clock,
    );
  }

  /**
   * What a `scan` rule needs to decide for the version. A pending version whose unscanned files
   * fit `inlineBudget` is scanned here and now (and its verdict recorded, with its event), unless
   * its files decompress to more than `inlineInflateBudget`: then it stays pending for the queue.
   */
  async fact(key: VersionKey, modelName: string): Promise<ScanFact> {
    const recorded = (await this.repo.versionVerdicts([key], SCANNER_VERSION)).get(versionKey(key));
    let verdict: ComputedVerdict = recorded
      ? { status: recorded.status, finding: recorded.finding, unscannedBytes: 0 }
      : await this.record(key, modelName, null);
    if (verdict.status === "pending" && verdict.unscannedBytes <= this.inlineBudget) {
      try {
        await this.scanner.scanVersion(key.modelId, key.version, { left: this.inlineInflateBudget });
        verdict = await this.record(key, modelName, null);
      } catch (error) {
        // R2 or D1 unreachable: the rule reports the scan as pending; the queue will scan it.
        console.error("inline scan failed", key.modelId, key.version, String(error));
      }
    }
    const override =
      verdict.status === "clean" || verdict.status === "pending"
        ? null
        : overrideInForce(await this.repo.latestOverride(key), verdict.status);
    return {
      status: verdict.status,
      finding: verdict.finding,
      unscannedBytes: verdict.unscannedBytes,
      override: override ? { actor: override.actor, reason: override.reason } : null,
    };
  }

  /**
   * Computes the version's verdict from its files' scans and, when it is final and not recorded
   * yet (or recorded differently, by an older scan), records it with a `model_version.scanned`
   * event in one batch. A repeat (the queue delivered twice) writes nothing. `known`: the recorded
   * verdict when the caller has just read it (null: none), so it is not read again.
   */
  async record(key: VersionKey, modelName: string, known?: VersionVerdict | null): Promise<ComputedVerdict> {
    const computed = await this.scanner.computeVerdict(key);
    if (computed.status === "pending") return computed;
    const recorded =
      known !== undefined ? known : (await this.repo.versionVerdicts([key], SCANNER_VERSION)).get(versionKey(key));
    if (recorded && recorded.status === computed.status && recorded.finding === computed.finding) return computed;
    const now = this.clock();
    const outbox = {
      modelName,
      actor: null,
      timestamp: now,
      events: [
        {
          type: "model_version.scanned" as const,
          version: key.version,
          from: recorded?.status ?? "pending",
          to: computed.status,
          data: {
            verdict: computed.status,
            scanner: SCANNER_VERSION,
            ...(computed.finding ? { finding: computed.finding } : {}),
          },
        },
      ],
    };
    await this.repo.run([
      ...this.events.inserts(key.modelId, outbox),
      this.repo.verdictStatement(key, SCANNER_VERSION, {
        status: computed.status,
        finding: computed.finding,
        scannedAt: now,
      }),
    ]);
    return computed;
  }
}
