// `npm start` (scripts/start.ts) as the reliability suites drive it: started in its own process
// group so that a crash can SIGKILL the node process and its workerd child together, restarted on
// the same STATE_DIR and port, and always stopped at the end (every process we start, we stop).
import { type ChildProcess, spawn } from "node:child_process";
import { type AddressInfo, createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

const running = new Set<ChildProcess>();

type Exit = { code: number | null; signal: NodeJS.Signals | null };

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

function groupAlive(pgid: number) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether the group is gone, checked at most `polls` times 50 ms apart (the kernel reaps it after SIGKILL). */
async function waitGroupGone(pgid: number, polls = 100) {
  for (let poll = 0; poll < polls && groupAlive(pgid); poll++) await new Promise((r) => setTimeout(r, 50));
  return !groupAlive(pgid);
}

/**
 * One `npm start` on 127.0.0.1:`port` with its state in `stateDir`. `cwd` is the run's scratch
 * directory (start.ts keeps its builds in the repository's .modelgate/builds/, so a restart on the
 * same sources reuses the build and only checks the migrations).
 */
export class Server {
  readonly port: number;
  readonly stateDir: string;
  readonly cwd: string;
  readonly base: string;
  readonly log: (message: string) => void;
  child: ChildProcess | null;
  /** Resolves when the current child exits. */
  private exited: Promise<Exit> | null = null;
  /** The last lines npm start printed. */
  tail: string[];
  /** Lines from npm start that mean trouble inside the Worker (counted, reported). */
  trouble: string[];
  /** Milliseconds from spawn to a healthy /health, per start. */
  starts: number[];

  constructor({
    port,
    stateDir,
    cwd,
    log = () => {},
  }: {
    port: number;
    stateDir: string;
    cwd: string;
    log?: (message: string) => void;
  }) {
    this.port = port;
    this.stateDir = stateDir;
    this.cwd = cwd;
    this.base = `http://127.0.0.1:${port}`;
    this.log = log;
    this.child = null;
    this.tail = [];
    this.trouble = [];
    this.starts = [];
  }

  /** Starts npm start and resolves with the milliseconds it took to answer /health (polled at most `polls` times, 100 ms apart). */
  async start(polls = 1_200) {
    const started = Date.now();
    const child = spawn(
      process.execPath,
      ["--import", import.meta.resolve("tsx"), path.join(root, "scripts", "start.ts")],
      {
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
      },
    );
    this.child = child;
    running.add(child);
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString().split("\n")) {
        if (!line.trim()) continue;
        this.tail.push(line);
        if (this.tail.length > 60) this.tail.shift();
        if (/unhandled error|coordinator failure|uncaught|internal error/i.test(line)) this.trouble.push(line);
      }
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    this.exited = new Promise<Exit>((resolve) =>
      child.on("exit", (code, signal) => {
        running.delete(child);
        resolve({ code, signal });
      }),
    );
    for (let poll = 1; ; poll++) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`npm start exited early:\n${this.tail.join("\n")}`);
      try {
        const res = await fetch(`${this.base}/health`, { signal: AbortSignal.timeout(2_000) });
        await res.arrayBuffer();
        if (res.ok) break;
      } catch {
        // not listening yet
      }
      if (poll === polls) {
        await this.kill();
        throw new Error(`npm start did not answer /health after ${poll} polls:\n${this.tail.join("\n")}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const ms = Date.now() - started;
    this.starts.push(ms);
    this.log(`npm start healthy on ${this.base} after ${(ms / 1000).toFixed(1)}s`);
    return ms;
  }

  /** SIGKILL to the whole process group: start.ts and workerd die at once, no cleanup runs. */
  async kill() {
    const child = this.child;
    if (!child?.pid) return;
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      /* already gone */
    }
    await this.exited;
    if (!(await waitGroupGone(child.pid))) throw new Error(`process group ${child.pid} survived SIGKILL`);
    this.child = null;
  }

  /** A clean stop (SIGTERM, Miniflare disposes), then SIGKILL to whatever is left of the group. */
  async stop(graceMs = 15_000) {
    const child = this.child;
    if (!child?.pid) return;
    try {
      process.kill(child.pid, "SIGTERM");
    } catch {
      /* gone */
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.exited, new Promise((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    if (groupAlive(child.pid)) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        /* gone */
      }
      await waitGroupGone(child.pid);
    }
    this.child = null;
  }
}

/** Last resort on exit or interrupt: SIGKILL every process group this module started. */
export function killAllServers() {
  for (const child of running) {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      /* gone */
    }
  }
  running.clear();
}
