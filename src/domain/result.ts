import type { ErrorCode } from "../errors";

// Durable Object RPC drops custom error classes, so the coordinator answers with a tagged Result
// that its client turns back into a RegistryError.
export type Failure = { ok: false; code: ErrorCode; message: string };
export type Result<T> = { ok: true; value: T } | Failure;

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
