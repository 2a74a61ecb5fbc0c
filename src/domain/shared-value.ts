// One value object handed to many requests must never change under them. The coordinator client
// shares each point-read answer it holds this way (src/coordinator/coordinator-client.ts), and the
// JSON renderer keeps an answer's rendering only for a shared value (src/http/rendered-json.ts):
// this file is the contract between the two.

/** Freezes `value` and everything it holds, so every holder may keep what it derives from it. */
export function share<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) share(inner);
  }
  return value;
}

/** Whether `value` was shared (frozen): what is derived from it now holds as long as it lives. */
export function isShared(value: object): boolean {
  return Object.isFrozen(value);
}
