// `npm start` (scripts/start.mjs) as the reliability suites drive it: started in its own process
// group so that a crash can SIGKILL the node process and its workerd child together, restarted on
// the same STATE_DIR and port, and always stopped at the end (every process we start, we stop).
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

const running = new Set();

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

function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitGroupGone(pgid, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (groupAlive(pgid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return !groupAlive(pgid);
}

/**
 * One `npm start` on 127.0.0.1:`port` with its state in `stateDir`. `cwd` is the run's scratch
 * directory (start.mjs keeps its builds in the repository's .modelgate/builds/, so a restart on the
 * same sources reuses the build and only checks the migrations).
 */
export class Server {
  constructor({ port, stateDir, cwd, log = () => {} }) {
    this.port = port;
    this.stateDir = stateDir;
    this.cwd = cwd;
    this.base = `http://127.0.0.1:${port}`;
    this.log = log;
    this.child = null;
    this.tail = [];
    /** Lines from npm start that mean trouble inside the Worker (counted, reported). */
    this.trouble = [];
    this.starts = [];
  }

  async start(timeoutMs = 120_000) {
    const started = Date.now();
    const child = spawn(process.execPath, [path.join(root, "scripts", "start.mjs")], {
      cwd: this.cwd,
      env: {
        ...process.env,
        HOST: "127.0.0.1",
        PORT: String(this.port),
        STATE_DIR: this.stateDir,
        MODELGATE_AUTH: "off",
        LOG_LEVEL: "",
      },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    running.add(child);
    const keep = (chunk) => {
      for (const line of chunk.toString().split("\n")) {
        if (!line.trim()) continue;
        this.tail.push(line);
        if (this.tail.length > 60) this.tail.shift();
        if (/unhandled error|coordinator failure|uncaught|internal error/i.test(line)) this.trouble.push(line);
      }
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.exited = new Promise((resolve) =>
      child.on("exit", (code, signal) => {
        running.delete(child);
        resolve({ code, signal });
      }),
    );
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`npm start exited early:\n${this.tail.join("\n")}`);
      try {
        const res = await fetch(`${this.base}/health`, { signal: AbortSignal.timeout(2_000) });
        await res.arrayBuffer();
        if (res.ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await this.kill();
        throw new Error(`npm start did not answer /health within ${timeoutMs / 1000}s:\n${this.tail.join("\n")}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const ms = Date.now() - started;
    this.starts.push(ms);
    this.log(`npm start healthy on ${this.base} after ${(ms / 1000).toFixed(1)}s`);
    return ms;
  }

  /** SIGKILL to the whole process group: start.mjs and workerd die at once, no cleanup runs. */
  async kill() {
    const child = this.child;
    if (!child) return;
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      /* already gone */
    }
    await child.exited;
    if (!(await waitGroupGone(child.pid, 5_000))) throw new Error(`process group ${child.pid} survived SIGKILL`);
    this.child = null;
  }

  /** A clean stop (SIGTERM, Miniflare disposes), then SIGKILL to whatever is left of the group. */
  async stop(graceMs = 15_000) {
    const child = this.child;
    if (!child) return;
    try {
      process.kill(child.pid, "SIGTERM");
    } catch {
      /* gone */
    }
    let timer;
    await Promise.race([child.exited, new Promise((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    if (groupAlive(child.pid)) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        /* gone */
      }
      await waitGroupGone(child.pid, 5_000);
    }
    this.child = null;
  }
}

/** Last resort on exit or interrupt: SIGKILL every process group this module started. */
export function killAllServers() {
  for (const child of running) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }
  running.clear();
}
