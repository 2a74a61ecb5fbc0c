// Starts the real `npm start` (scripts/start.mjs) on a free port with its own state directory.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before } from "node:test";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

// Every registry this file's tests started and did not stop (a test that failed half-way): killed
// once the file's tests are done, so a failure ends the run instead of leaving it waiting on a
// live child process.
const running = new Set();
after(async () => {
  await Promise.all([...running].map((server) => server.stop("SIGKILL")));
});

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export function freshStateDir() {
  return mkdtempSync(path.join(tmpdir(), "modelgate-e2e-"));
}

/**
 * One registry for the calling test file, on a fresh state directory (and, given `scratchPrefix`, a
 * scratch directory beside it): started before the file's tests with `env` added to its environment,
 * stopped and the directories removed after. `base` and `output()` are usable once the tests run.
 */
export function registryForThisFile({ scratchPrefix, env = {} } = {}) {
  const stateDir = freshStateDir();
  const scratch = scratchPrefix ? mkdtempSync(path.join(tmpdir(), scratchPrefix)) : null;
  let server;
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
      return server.base;
    },
    output: () => server.output(),
  };
}

/** Starts the registry and resolves once /health answers; `stop()` sends SIGTERM and waits for exit. */
export async function startServer({ port, stateDir, env = {} }) {
  const child = spawn(process.execPath, [path.join(root, "scripts/start.mjs")], {
    cwd: root,
    env: { ...process.env, PORT: String(port), STATE_DIR: stateDir, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited early:\n${output}`);
    try {
      const res = await fetch(`${base}/health`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`server did not become healthy within 60 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const server = {
    base,
    child,
    output: () => output,
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  running.add(server);
  exited.then(() => running.delete(server));
  return server;
}

export async function api(base, method, route, params = {}) {
  let url = `${base}/api/2.0/${route}`;
  const init = { method, headers: { "content-type": "application/json" } };
  if (method === "GET") url += `?${new URLSearchParams(params)}`;
  else init.body = JSON.stringify(params);
  const res = await fetch(url, init);
  return { status: res.status, body: await res.json() };
}
