// Starts the real `npm start` (scripts/start.ts) on a free port with its own state directory.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before } from "node:test";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

// Every registry this file's tests started and did not stop (a test that failed half-way): killed
// once the file's tests are done, so a failure ends the run instead of leaving it waiting on a
// live child process.
const running = new Set<Registry>();
after(async () => {
  await Promise.all([...running].map((server) => server.stop("SIGKILL")));
});

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export function freshStateDir() {
  return mkdtempSync(path.join(tmpdir(), "modelgate-e2e-"));
}

/** The calling file's registry: its scratch directory, and its URL and output once the tests run. */
export interface FileRegistry<Scratch extends string | null> {
  scratch: Scratch;
  readonly base: string;
  output(): string;
}

/**
 * One registry for the calling test file, on a fresh state directory (and, given `scratchPrefix`, a
 * scratch directory beside it): started before the file's tests with `env` added to its environment,
 * stopped and the directories removed after. `base` and `output()` are usable once the tests run.
 */
export function registryForThisFile(options: {
  scratchPrefix: string;
  env?: Record<string, string>;
}): FileRegistry<string>;
export function registryForThisFile(options?: { env?: Record<string, string> }): FileRegistry<null>;
export function registryForThisFile({
  scratchPrefix,
  env = {},
}: {
  scratchPrefix?: string;
  env?: Record<string, string>;
} = {}): FileRegistry<string | null> {
  const stateDir = freshStateDir();
  const scratch = scratchPrefix ? mkdtempSync(path.join(tmpdir(), scratchPrefix)) : null;
  let server: Registry | undefined;
  before(async () => {
    server = await startServer({ port: await freePort(), stateDir, env });
  });
  after(async () => {
    await server?.stop();
    rmSync(stateDir, { recursive: true, force: true });
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });
  return {
    scratch,
    get base() {
      return server!.base;
    },
    output: () => server!.output(),
  };
}

const HEALTH_POLLS = 300;

/** Starts the registry and resolves once /health answers; `stop()` sends SIGTERM and waits for exit. */
/** A running `npm start`. */
export interface Registry {
  base: string;
  child: ChildProcess;
  output(): string;
  /** Sends `signal` (SIGTERM by default) unless the process has already gone; resolves on its exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function startServer({
  port,
  stateDir,
  env = {},
}: {
  port: number;
  stateDir: string;
  env?: Record<string, string>;
}): Promise<Registry> {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "scripts/start.ts")], {
    cwd: root,
    env: { ...process.env, PORT: String(port), STATE_DIR: stateDir, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group: workerd is Miniflare's child, and a SIGKILL of node alone would leave
    // it running (and answering the port). Signals go to the whole group.
    detached: true,
  });
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // the group is gone already
    }
  };
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  const base = `http://127.0.0.1:${port}`;
  // The signal is /health answering; polled at most HEALTH_POLLS times, 200 ms apart (a build takes ~10 s).
  for (let poll = 1; ; poll++) {
    if (child.exitCode !== null) throw new Error(`server exited early:\n${output}`);
    try {
      const res = await fetch(`${base}/health`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (poll === HEALTH_POLLS) {
      signalGroup("SIGKILL");
      throw new Error(`server not healthy after ${poll} polls:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const server: Registry = {
    base,
    child,
    output: () => output,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      // SIGTERM lets npm start stop workerd itself; SIGKILL (a crash) takes the whole group down.
      if (child.exitCode === null && child.signalCode === null) {
        if (signal === "SIGKILL") signalGroup(signal);
        else child.kill(signal);
      }
      const result = await exited;
      if (signal === "SIGKILL") signalGroup("SIGKILL");
      return result;
    },
  };
  running.add(server);
  exited.then(() => running.delete(server));
  return server;
}

/** The JSON answer of a registry call: `body` is whatever the registry sent (tests assert on its shape). */
export interface ApiAnswer {
  status: number;
  body: any;
}

export async function api(
  base: string,
  method: string,
  route: string,
  params: Record<string, unknown> = {},
): Promise<ApiAnswer> {
  let url = `${base}/api/2.0/${route}`;
  const init: RequestInit = { method, headers: { "content-type": "application/json" } };
  if (method === "GET") url += `?${new URLSearchParams(params as Record<string, string>)}`;
  else init.body = JSON.stringify(params);
  const res = await fetch(url, init);
  return { status: res.status, body: await res.json() };
}
