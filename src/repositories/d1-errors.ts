import { type AlreadyExistsError, RegistryError } from "../errors";

// SQLite's words stop here. A constraint we know becomes a domain error; anything else stays an
// internal error (never "not found").
export function translateD1Error(error: unknown, duplicate?: () => AlreadyExistsError): RegistryError {
  if (error instanceof RegistryError) return error;
  const message = describe(error);
  if (duplicate && /UNIQUE constraint failed/i.test(message)) return duplicate();
  console.error("D1 error", message);
  return new RegistryError("INTERNAL_ERROR", "The registry database failed to complete the request.");
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message}: ${cause.message}` : error.message;
  }
  return String(error);
}
