// Child processes the benchmark starts, and how it stops every one of them. Each child leads its own
// process group, so stopping it also reaches the workerd processes it started.
import { type ChildProcess, type SpawnOptions, spawn } from "node:child_process";
import net from "node:net";

/** A started child: its output's last lines and flagged lines, and whether (how) it exited. */
export interface ChildHandle {
  label: string;
  child: ChildProcess;
  lines: number;
  tail: string[];
  flagged: string[];
  exited: boolean;
  exitCode: number | string | null;
  /** Resolves when the child exits. */
  done: Promise<void>;
}

const running = new Set<ChildHandle>();

/** A free TCP port on 127.0.0.1, as the kernel hands one out. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts a long-running child. Its output is drained continuously (a full pipe would stall it and
 * skew the measurement); the last lines are kept for error messages, `lines` counts them, and
 * lines matching `flag` are collected in `flagged`.
 */
export function startChild(
  label: string,
  command: string,
  args: string[],
  options: SpawnOptions = {},
  flag: RegExp | null = null,
): ChildHandle {
  const child = spawn(command, args, { ...options, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let exited!: () => void;
  const handle: ChildHandle = {
    label,
    child,
    lines: 0,
    tail: [],
    flagged: [],
    exited: false,
    exitCode: null,
    done: new Promise((resolve) => (exited = resolve)),
  };
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n")) {
      if (line === "") continue;
      handle.lines++;
      if (flag?.test(line)) handle.flagged.push(line);
      handle.tail.push(line);
      if (handle.tail.length > 40) handle.tail.shift();
    }
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  child.on("exit", (code, signal) => {
    handle.exited = true;
    handle.exitCode = code ?? signal;
    running.delete(handle);
    exited();
  });
  child.on("error", (error) => {
    handle.tail.push(String(error));
    handle.exited = true;
    running.delete(handle);
  });
  running.add(handle);
  return handle;
}

/** The process groups of every running child (each leads its own). */
export function childGroups() {
  return new Set([...running].map((h) => h.child.pid).filter((pid): pid is number => pid !== undefined));
}

export function describeTail(handle: ChildHandle) {
  return `--- last output of ${handle.label} ---\n${handle.tail.join("\n")}`;
}

function groupAlive(pid: number) {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM (a clean shutdown), then SIGKILL to the whole group if anything is left after the grace period. */
export async function stopChild(handle: ChildHandle, graceMs = 10_000) {
  const pid = handle.child.pid;
  if (pid === undefined) return;
  if (!handle.exited) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      /* already gone */
    }
    await Promise.race([handle.done, new Promise((r) => setTimeout(r, graceMs))]);
  }
  if (groupAlive(pid)) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      /* already gone */
    }
    await Promise.race([handle.done, new Promise((r) => setTimeout(r, 2_000))]);
  }
  running.delete(handle);
}

export async function stopAllChildren() {
  await Promise.all([...running].map((h) => stopChild(h, 5_000)));
}

/** Polls `url` until it answers 200, the child dies, or `timeoutMs` passes. */
export async function waitForHttp(url: string, handle: ChildHandle, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer yet";
  while (Date.now() < deadline) {
    if (handle.exited)
      throw new Error(`${handle.label} exited (${handle.exitCode}) before ${url} answered\n${describeTail(handle)}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
      last = `HTTP ${response.status}`;
    } catch (error) {
      const failure = error as Error & { cause?: { code?: string } };
      last = failure.cause?.code ?? failure.message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs / 1000}s (${last})\n${describeTail(handle)}`);
}
