/** Everything the client throws on purpose; the CLI prints `message` as the one-line reason. */
export class ModelgateError extends Error {
  override name = "ModelgateError";
}

/** The server answered with an error status; `errorCode` is MLflow's `error_code` when the body had one. */
export class ModelgateHttpError extends ModelgateError {
  override name = "ModelgateHttpError";
  constructor(
    readonly status: number,
    readonly errorCode: string | undefined,
    readonly url: string,
    /** The server's own `message` (MLflow's error text), without the status suffix. */
    readonly serverMessage: string,
  ) {
    super(`${serverMessage} (HTTP ${status}${errorCode ? ` ${errorCode}` : ""})`);
  }
}

/** The request never got an answer: connection refused, DNS, reset, or a body cut off midway. */
export class ModelgateNetworkError extends ModelgateError {
  override name = "ModelgateNetworkError";
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    super(`cannot reach ${url}: ${describe(cause)}`, { cause });
  }
}

/** A downloaded file is not the file the manifest describes. */
export class VerificationError extends ModelgateError {
  override name = "VerificationError";
  constructor(
    readonly path: string,
    readonly expected: string,
    readonly actual: string,
    what: "sha256" | "size" = "sha256",
  ) {
    super(`verification failed for '${path}': expected ${what} ${expected}, got ${actual}`);
  }
}

/** A manifest entry that would write outside the target directory. */
export class UnsafePathError extends ModelgateError {
  override name = "UnsafePathError";
  constructor(readonly path: string) {
    super(`refusing manifest path '${path}': it would be written outside the target directory`);
  }
}

/** fetch's own errors say only "fetch failed"; the reason is in `cause` (undici), sometimes nested. */
function describe(error: unknown): string {
  let current = error;
  let message = "unknown error";
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    message = current.message;
    current = current.cause;
  }
  return message;
}
