import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { RegistryError } from "../errors";
import { STATUS_BY_CODE } from "./error-codes";

/** The one place errors become HTTP: MLflow's `{error_code, message}` with the status from its table. */
export function errorResponse(c: Context, error: RegistryError) {
  return c.json({ error_code: error.code, message: error.message }, STATUS_BY_CODE[error.code]);
}

export function onError(error: Error, c: Context) {
  if (error instanceof RegistryError) return errorResponse(c, error);
  if (error instanceof HTTPException) {
    const code =
      error.status === 413 ? "INVALID_PARAMETER_VALUE" : error.status < 500 ? "BAD_REQUEST" : "INTERNAL_ERROR";
    return c.json({ error_code: code, message: error.message || "Bad request" }, error.status);
  }
  console.error("unhandled error", error.message);
  return errorResponse(c, new RegistryError("INTERNAL_ERROR", "Internal server error."));
}

export function notFound(c: Context) {
  return errorResponse(
    c,
    new RegistryError("ENDPOINT_NOT_FOUND", `No API endpoint matches ${c.req.method} ${new URL(c.req.url).pathname}.`),
  );
}
