/** Milliseconds since the epoch: what services stamp records with and check expiries against. */
export type Clock = () => number;

/**
 * The real time, read on every call (not a captured `Date.now`): a service built once per isolate
 * then follows whatever `Date` the isolate has, so the workerd tests, which share the Worker's
 * isolate, set the time the Worker sees with vitest's `vi.setSystemTime` (test/helpers.ts).
 */
export const systemClock: Clock = () => Date.now();
