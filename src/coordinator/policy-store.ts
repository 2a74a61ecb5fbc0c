import type { PolicyRecord } from "../domain/promotion-policy";

const KEY = "promotion-policy";

/** What is stored under KEY; `format` lets a later shape be told apart from this one. */
interface Stored {
  format: 1;
  record: PolicyRecord;
}

/**
 * A model's promotion policy in its coordinator's own storage (SQLite-backed, synchronous KV):
 * local to the object that checks it, so a transition reads it without a round trip, and keyed by
 * the model's immutable id with the object itself, so a rename keeps it. Not in D1: nothing but
 * this object reads it to decide, and it changes only through this object's queue (docs/policies.md).
 */
export class PolicyStore {
  /** undefined: not read yet. */
  private cached: PolicyRecord | null | undefined;

  constructor(private readonly storage: DurableObjectStorage) {}

  get(): PolicyRecord | null {
    if (this.cached === undefined) {
      const stored = this.storage.kv.get<Stored>(KEY);
      this.cached = stored?.format === 1 ? stored.record : null;
    }
    return this.cached;
  }

  set(record: PolicyRecord): void {
    this.storage.kv.put<Stored>(KEY, { format: 1, record });
    this.cached = record;
  }

  clear(): void {
    this.storage.kv.delete(KEY);
    this.cached = null;
  }
}
