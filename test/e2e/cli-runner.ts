// The CLI as users run it (bin/modelgate.mjs), with a clean environment: only what a test passes
// decides the registry URL, the token and the pinned key.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const cli = path.join(root, "bin/modelgate.mjs");
const MiB = 1024 * 1024;

/** Runs `modelgate args` against `base`; resolves with the exit code, output and parsed --json. */
/** One CLI run: exit code, output, and stdout parsed when it is JSON. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  json: any;
}

export function runCli(base: string, args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const clean = {
    ...process.env,
    MODELGATE_URL: base,
    MODELGATE_TOKEN: "",
    MODELGATE_PUBLIC_KEY: "",
    MLFLOW_TRACKING_URI: "",
    MLFLOW_TRACKING_TOKEN: "",
  };
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cli, ...args],
      { cwd: root, timeout: 120_000, maxBuffer: 16 * MiB, env: { ...clean, ...env } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        let json;
        try {
          json = JSON.parse(stdout);
        } catch {
          // not JSON
        }
        resolve({ code, stdout, stderr, json });
      },
    );
  });
}

/** runCli, and exit 0 asserted with stderr in the message. */
export async function runCliOk(base: string, args: string[], env?: Record<string, string>): Promise<CliRun> {
  const run = await runCli(base, args, env);
  assert.equal(run.code, 0, `modelgate ${args.join(" ")}: exit ${run.code}\n${run.stderr}`);
  return run;
}
