// Load from wrk (Debian's package): installed when missing, run with fixed durations, and read back
// from its --latency report plus the JSON line summary.lua prints.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const SUMMARY_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), "summary.lua");

function wrkVersion() {
  const probe = spawnSync("wrk", ["-v"], { encoding: "utf8" });
  if (probe.error) return null;
  return (probe.stdout + probe.stderr).match(/wrk\s+(\S+)/)?.[1] ?? "unknown";
}

/** Returns wrk's version, installing the Debian package first if wrk is missing. */
export function ensureWrk(log: (message: string) => void): string {
  const present = wrkVersion();
  if (present) return present;
  log("wrk is missing: apt-get install -y wrk");
  const apt = (args: string[]) =>
    execFileSync("apt-get", args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
      timeout: 180_000,
    });
  try {
    apt(["install", "-y", "--no-install-recommends", "wrk"]);
  } catch {
    log("  not installable from the current package lists: apt-get update, then again");
    apt(["update"]);
    apt(["install", "-y", "--no-install-recommends", "wrk"]);
  }
  const installed = wrkVersion();
  if (!installed) throw new Error("wrk is still missing after apt-get install -y wrk");
  return installed;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function parseDurationMs(text: string) {
  const m = text.match(/^([\d.]+)(us|ms|s|m|h)$/);
  if (!m) throw new Error(`unreadable wrk duration "${text}"`);
  return Number(m[1]) * (UNIT_MS[m[2] ?? ""] ?? Number.NaN);
}

/** Reads wrk's text report (run with --latency) and the BENCH_JSON line. */
/** What wrk's errors line and summary.lua count. */
export interface WrkErrors {
  connect: number;
  read: number;
  write: number;
  timeout: number;
  status: number;
}

/** One wrk run, read back. */
export interface WrkResult {
  command: string;
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  durationSec: number;
  bytesPerResponse: number;
  errors: WrkErrors;
  latencyUs: Record<string, number>;
  cache?: Record<string, number>;
  raw: string;
}

/** wrk's settings for a run (bench/run.ts's SETTINGS and the like). */
export interface WrkSettings {
  threads: number;
  connections: number;
  durationSec: number;
  timeoutSec: number;
}

/** A measured run (bench/run.ts's measure()): wrk's result, the CPU it cost, and the runs discarded before it. */
export type Measured = WrkResult & {
  cpu: { seconds: number; ownCores: number; otherCores: number };
  requestsPerCpuSecond: number;
  discarded: { attempt: number; errors: WrkErrors; requestsPerSec: number; raw: string }[];
};

/** bench/run.ts's measure(): a warm-up, then a measured wrk run of `url`. */
export type Measure = (label: string, url: string, options?: { headers?: Record<string, string> }) => Promise<Measured>;

export function parseWrkOutput(text: string): Omit<WrkResult, "command" | "raw"> {
  const json = text.match(/^BENCH_JSON (.*)$/m);
  const rps = text.match(/^Requests\/sec:\s+([\d.]+)/m);
  const p50 = text.match(/^\s+50%\s+(\S+)/m);
  const p99 = text.match(/^\s+99%\s+(\S+)/m);
  if (!json || !rps || !p50 || !p99) throw new Error(`unreadable wrk output:\n${text}`);
  const summary = JSON.parse(json[1] ?? "");
  return {
    requestsPerSec: Number(rps[1]),
    p50Ms: parseDurationMs(p50[1] ?? ""),
    p99Ms: parseDurationMs(p99[1] ?? ""),
    requests: summary.requests,
    durationSec: summary.duration_us / 1e6,
    bytesPerResponse: summary.requests > 0 ? Math.round(summary.bytes / summary.requests) : 0,
    errors: summary.errors,
    latencyUs: summary.latency_us,
    ...(summary.cache ? { cache: summary.cache } : {}),
  };
}

/**
 * One wrk run against 127.0.0.1; killed if it overruns its fixed duration by 20 s. `headers` are
 * sent with every request; `script` replaces summary.lua (it must print the same BENCH_JSON line)
 * and gets `scriptArgs` after `--`.
 */
export function runWrk(
  url: string,
  {
    threads,
    connections,
    durationSec,
    timeoutSec,
    headers = {},
    script = SUMMARY_SCRIPT,
    scriptArgs = [],
  }: {
    threads: number;
    connections: number;
    durationSec: number;
    timeoutSec: number;
    headers?: Record<string, string>;
    script?: string;
    scriptArgs?: (string | number)[];
  },
): Promise<WrkResult> {
  if (new URL(url).hostname !== "127.0.0.1") throw new Error(`refusing to load anything but 127.0.0.1: ${url}`);
  const headerArgs = Object.entries(headers).flatMap(([k, v]) => ["-H", `${k}: ${v}`]);
  const args = [
    `-t${threads}`,
    `-c${connections}`,
    `-d${durationSec}s`,
    `--timeout`,
    `${timeoutSec}s`,
    "--latency",
    ...headerArgs,
    "-s",
    script,
    url,
  ];
  if (scriptArgs.length > 0) args.push("--", ...scriptArgs.map(String));
  return new Promise((resolve, reject) => {
    const child = spawn("wrk", args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const killer = setTimeout(() => child.kill("SIGKILL"), (durationSec + 20) * 1000);
    child.on("error", (error) => {
      clearTimeout(killer);
      reject(error);
    });
    child.on("exit", (code, signal) => {
      clearTimeout(killer);
      if (code !== 0) return reject(new Error(`wrk ${args.join(" ")} failed (${code ?? signal}):\n${out}`));
      try {
        resolve({ command: `wrk ${args.join(" ")}`, ...parseWrkOutput(out), raw: out });
      } catch (error) {
        reject(error);
      }
    });
  });
}

export function socketErrors(result: WrkResult) {
  const e = result.errors;
  return e.connect + e.read + e.write + e.timeout;
}

/** Fails loudly on any answer wrk counts as an error status (>= 400), or on a run that got no answers. */
export function assertNoErrorStatus(label: string, result: WrkResult) {
  if (result.requests === 0 || result.errors.status > 0) {
    throw new Error(
      `${label}: wrk saw ${result.errors.status} error answers (status >= 400) in ${result.requests} requests\n${result.raw}`,
    );
  }
}
