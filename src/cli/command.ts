/// <reference types="node" />
import type { Command } from "commander";
import { ModelgateHttpError, UnsafePathError, VerificationError } from "../client/errors";
import { NodeModelgateClient } from "../client/pull";

/**
 * Exit codes a CI job can branch on (documented in docs/ci-cd.md and `modelgate --help`):
 * 0 success; 1 the operation failed (the server refused it, or could not be reached, or a
 * registration failed); 2 the command line is wrong (nothing was sent); 3 downloaded bytes failed
 * sha256 or size verification.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, verification: 3 } as const;

/** What a command may touch: its output streams and the environment. */
export interface CliContext {
  env: Record<string, string | undefined>;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

/** One run of main(): the context plus the exit code an action settled on. */
export interface RunContext extends CliContext {
  exitCode: number;
}

/** Options every command takes (defined once, on the program). */
export interface GlobalOptions {
  url?: string;
  token?: string;
  json?: boolean;
}

/** Wrong arguments: exit code 2 and a pointer to the command's help. */
export class UsageError extends Error {
  override name = "UsageError";
}

export const DEFAULT_URL = "http://127.0.0.1:8787";

/** --url/--token, else MODELGATE_URL/MODELGATE_TOKEN, else MLflow's MLFLOW_TRACKING_URI/MLFLOW_TRACKING_TOKEN. */
export function clientFor(options: GlobalOptions, env: CliContext["env"]): NodeModelgateClient {
  const baseUrl = options.url || env.MODELGATE_URL || env.MLFLOW_TRACKING_URI || DEFAULT_URL;
  let parsed: URL;
  try {
    parsed = new URL(baseUrl);
  } catch {
    throw new UsageError(`the registry URL '${baseUrl}' is not a URL`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
    throw new UsageError(`the registry URL '${baseUrl}' is not http(s)`);
  const token = options.token || env.MODELGATE_TOKEN || env.MLFLOW_TRACKING_TOKEN || undefined;
  return new NodeModelgateClient({ baseUrl, token });
}

/** The exit code an error means. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError) return EXIT.usage;
  if (error instanceof VerificationError || error instanceof UnsafePathError) return EXIT.verification;
  return EXIT.failed;
}

/** `{error_code, message, exit_code}` (MLflow's error envelope plus our exit code), for --json runs. */
export function errorJson(error: unknown): Record<string, unknown> {
  const message = error instanceof ModelgateHttpError ? oneLine(error.serverMessage) : oneLine(error);
  const code = exitCodeOf(error);
  const errorCode =
    error instanceof ModelgateHttpError
      ? error.errorCode
      : code === EXIT.usage
        ? "USAGE"
        : code === EXIT.verification
          ? "VERIFICATION_FAILED"
          : undefined;
  return {
    ...(errorCode ? { error_code: errorCode } : {}),
    ...(error instanceof ModelgateHttpError ? { http_status: error.status } : {}),
    message,
    exit_code: code,
  };
}

export function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s*\n\s*/g, " ");
}

/** What an action hands back: the --json document, and the lines a person reads instead. */
export interface Outcome {
  json: unknown;
  /** Lines for stdout without --json (each ends with a newline when written). */
  text?: string[];
  /** A note for stderr without --json (e.g. "revoked token ..."). */
  note?: string;
  /** Non-zero when the operation ran but did not succeed (e.g. a webhook test the receiver refused). */
  exitCode?: number;
}

export interface ActionInput {
  ctx: RunContext;
  options: GlobalOptions;
  client: () => NodeModelgateClient;
}

/**
 * Wires an action: global options merged, one output document, errors left to main() to map to
 * an exit code. `fn` gets the command's arguments and its own options.
 */
export function action<A extends unknown[], O>(
  ctx: RunContext,
  fn: (io: ActionInput, opts: O, ...args: A) => Promise<Outcome>,
) {
  return async (...received: unknown[]) => {
    const command = received[received.length - 1] as Command;
    const opts = received[received.length - 2] as O;
    const args = received.slice(0, -2) as A;
    const options = command.optsWithGlobals<GlobalOptions>();
    const outcome = await fn({ ctx, options, client: () => clientFor(options, ctx.env) }, opts, ...args);
    if (options.json) {
      ctx.stdout.write(`${JSON.stringify(outcome.json, null, 2)}\n`);
    } else {
      if (outcome.note) ctx.stderr.write(`${outcome.note}\n`);
      for (const line of outcome.text ?? []) ctx.stdout.write(`${line}\n`);
    }
    ctx.exitCode = outcome.exitCode ?? EXIT.ok;
  };
}

/** A whole number >= min, or a usage error naming the argument. */
export function wholeNumber(value: string, what: string, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(
      `${what} must be a whole number${max === Number.MAX_SAFE_INTEGER ? ` of at least ${min}` : ` from ${min} to ${max}`}, got '${value}'`,
    );
  }
  return n;
}

/** Left-aligned columns, for human output. */
export function table(rows: string[][]): string[] {
  if (rows.length === 0) return [];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) =>
    r
      // A row longer than the first has no width for its extra cells: they are not padded.
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd(),
  );
}

export function isoTime(ms: number | undefined): string {
  return ms === undefined ? "-" : new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}
