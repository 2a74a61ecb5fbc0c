/// <reference types="node" />
import type { ParseArgsConfig } from "node:util";
import { NodeModelgateClient } from "../client/pull";

export type OptionSpecs = NonNullable<ParseArgsConfig["options"]>;

export interface CommandInput {
  positionals: string[];
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
}

/** What a command may touch: its output streams, the environment, and a client built from --url/--token. */
export interface CliContext {
  env: Record<string, string | undefined>;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  client(values: CommandInput["values"]): NodeModelgateClient;
}

/** One `modelgate <name>` command, in its own file under commands/, listed once in modelgate.ts. */
export interface Command {
  name: string;
  /** One line for `modelgate --help`. */
  summary: string;
  /** Arguments after the command name, e.g. `<name>[@<ref>] <dir>`. */
  usage: string;
  /** Further lines for `modelgate <name> --help`. */
  details: string;
  options: OptionSpecs;
  /** Resolves to the exit code. Throw UsageError for bad arguments, anything else for a failure. */
  run(input: CommandInput, ctx: CliContext): Promise<number>;
}

/** Wrong arguments: exit code 2 and a pointer to the command's help. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Options every command takes. */
export const GLOBAL_OPTIONS: OptionSpecs = {
  url: { type: "string" },
  token: { type: "string" },
  help: { type: "boolean", short: "h" },
};

export const GLOBAL_HELP = [
  "  --url <url>      registry base URL (default: $MODELGATE_URL, else http://127.0.0.1:8787)",
  "  --token <token>  bearer token (default: $MODELGATE_TOKEN; prefer the variable, argv is visible to other users)",
  "  -h, --help       show this help",
];

export const DEFAULT_URL = "http://127.0.0.1:8787";

export function clientFor(values: CommandInput["values"], env: CliContext["env"]): NodeModelgateClient {
  const baseUrl = (values.url as string | undefined) || env.MODELGATE_URL || DEFAULT_URL;
  try {
    new URL(baseUrl);
  } catch {
    throw new UsageError(`--url '${baseUrl}' is not a URL`);
  }
  return new NodeModelgateClient({ baseUrl, token: (values.token as string | undefined) || env.MODELGATE_TOKEN || undefined });
}
