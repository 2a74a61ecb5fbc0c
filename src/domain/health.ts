// What /health reports (the maintenance service computes it; the API and every UI page show it).

/** Events the relay gave up on (sent `sends` times, never fanned out into webhook deliveries). */
export interface UndeliveredEvents {
  count: number;
  /** The oldest such event's change time (epoch ms). */
  oldestTimestamp: number;
  /** How many times each was sent before the relay stopped. */
  sends: number;
  /** Per model, oldest first (names as the events recorded them: only for authenticated views). */
  models: { modelId: string; modelName: string; count: number; oldestTimestamp: number }[];
}

/** What /health reports: ok, or degraded with what is wrong. */
export type Health =
  | { status: "ok" }
  | {
      status: "degraded";
      undeliveredEvents: UndeliveredEvents | null;
      checkFailed: string | null;
      /** Why model.sig cannot be issued (no MODELGATE_MODEL_SIGNING_KEYS); files and archives still download. */
      modelSigning?: string;
    };
