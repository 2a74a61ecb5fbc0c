import { z } from "zod";
import type { RegistryEvent } from "../domain/events";
import type { ScanService } from "./scan-service";

/** Records a scanned version's verdict with its event (the model's coordinator does: PolicyService.recordScan). */
export type RecordScan = (modelId: string, version: number) => Promise<unknown>;

/** The queue of versions to scan (wrangler.toml); its consumer runs the scans, off any request. */
export const SCANS_QUEUE = "modelgate-scans";

export interface ScanRequest {
  modelId: string;
  version: number;
}

const ScanRequestBody = z.object({ modelId: z.string().min(1), version: z.number().int().positive() });

/** The scans a batch of registry events asks for: one per version that became READY. */
export function scanRequestsFor(events: readonly RegistryEvent[]): ScanRequest[] {
  return events
    .filter((e) => e.type === "model_version.ready" && e.version !== null)
    .map((e) => ({ modelId: e.modelId, version: e.version! }));
}

/**
 * The scans queue's consumer: one version per message, scanned to the end (a version already
 * scanned costs one D1 read), then its verdict recorded by its coordinator, which emits the
 * `model_version.scanned` event (once: a redelivered message records nothing new). A failure (R2 or D1 unreachable) retries the message; a malformed
 * message is logged and acknowledged.
 */
export async function consumeScans(
  batch: MessageBatch<unknown>,
  scans: ScanService,
  recordScan: RecordScan,
): Promise<void> {
  for (const message of batch.messages) {
    const body = ScanRequestBody.safeParse(message.body);
    if (!body.success) {
      console.error("scans: unreadable message", message.id);
      message.ack();
      continue;
    }
    try {
      await scans.scanVersion(body.data.modelId, body.data.version);
      await recordScan(body.data.modelId, body.data.version);
      message.ack();
    } catch (error) {
      console.error("scans: scan failed", body.data.modelId, body.data.version, String(error));
      message.retry({ delaySeconds: Math.min(300, 10 * 2 ** Math.min(message.attempts, 5)) });
    }
  }
}
