// The storm's driver: runs N clients of the scenario for a bounded active time against `npm start`,
// optionally SIGKILLing the server (process group) at random moments and restarting it on the same
// state and port, and sees every request through one HTTP layer that tells a request the server
// dropped on its own (a violation) from one lost in a crash (an unknown outcome).
//
// Every acknowledged write goes into the ledger (ledger.ts); the checker (checker.ts) later checks
// each one against a snapshot of the final state. A violation is anything the registry promised and
// broke: a 5xx, a dropped connection while no crash was happening, two Production versions seen by a
// reader, a lost acknowledged write, a phantom write, bytes that differ from what was uploaded.
import type { Server } from "../server";
import { type CutRecord, NetError, rng, type StormLedger } from "./ledger";
import { Scenario } from "./scenario";

const REQUEST_TIMEOUT_MS = 30_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Server lifecycle as the clients see it: `up()` resolves while the server is serving; `epoch` moves
 * on every crash, so a request that fails across an epoch change has an unknown outcome, and one
 * that fails within an epoch is a violation (the server dropped it on its own).
 */
export class Lifecycle {
  epoch = 0;
  down = false;
  upSince = Date.now();
  private readonly waiters: (() => void)[] = [];

  async up() {
    while (this.down) await new Promise<void>((r) => this.waiters.push(r));
  }
  goDown() {
    this.down = true;
    this.epoch++;
  }
  goUp() {
    this.down = false;
    this.upSince = Date.now();
    for (const w of this.waiters.splice(0)) w();
  }
}

/** An answer: its status, the JSON body when it is JSON (else null), and the raw bytes. */
export interface Answer {
  status: number;
  body: any;
  bytes: Uint8Array;
}

/** A request that got no answer while no crash was under way. */
export interface Drop {
  method: string;
  path: string;
  code: string;
  sinceRestartMs: number;
  activeMs: number;
}

export interface RequestOptions {
  json?: unknown;
  query?: Record<string, string>;
  body?: BodyInit;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  duplex?: "half";
}

/** The clients' one way to the server, with the run's counters, violations and active-time clock. */
export class Driver {
  readonly base: string;
  readonly life = new Lifecycle();
  readonly violations: string[] = [];
  readonly counts: Record<string, Record<string, number>> = {};
  readonly drops: Drop[] = [];
  /** Milliseconds per request, by method and route. */
  readonly latency: Record<string, number[]> = {};
  /** Milliseconds the server has been up since the storm began. */
  active = 0;
  private lastTick = Date.now();

  constructor(base: string) {
    this.base = base;
  }

  violation(text: string) {
    if (this.violations.length < 500) this.violations.push(text);
  }

  count(op: string, outcome: string) {
    this.counts[op] ??= {};
    this.counts[op][outcome] = (this.counts[op][outcome] ?? 0) + 1;
  }

  /** Adds the time since the last tick to the active time, unless the server is down. */
  tick() {
    const now = Date.now();
    if (!this.life.down) this.active += now - this.lastTick;
    this.lastTick = now;
  }

  /** Restarts the active-time clock after a restart (the down time does not count). */
  resumeClock() {
    this.lastTick = Date.now();
  }

  async http(
    method: string,
    path: string,
    { json, query, body, headers = {}, signal, duplex }: RequestOptions = {},
  ): Promise<Answer> {
    await this.life.up();
    const epoch = this.life.epoch;
    let url = `${this.base}${path}`;
    if (query) url += `?${new URLSearchParams(query)}`;
    const init: RequestInit & { headers: Record<string, string>; duplex?: "half" } = {
      method,
      headers: { ...headers },
      signal: signal ?? AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    };
    if (json !== undefined) {
      init.headers["content-type"] = "application/json";
      init.body = JSON.stringify(json);
    } else if (body !== undefined) {
      init.body = body;
      if (duplex) init.duplex = duplex;
    }
    const t0 = Date.now();
    const route = path.split("?")[0] ?? path;
    try {
      const res = await fetch(url, init);
      const buffer = new Uint8Array(await res.arrayBuffer());
      const group = `${method} ${
        route.startsWith("/v1/")
          ? route.includes("/files/")
            ? "/v1/models/{name}/versions/{v}/files/{path}"
            : "/v1/models/{name}/{ref}"
          : route.replace(/\/artifacts\/.*$/, "/artifacts/{path}")
      }`;
      (this.latency[group] ??= []).push(Date.now() - t0);
      let parsed = null;
      if ((res.headers.get("content-type") ?? "").includes("json")) {
        try {
          parsed = JSON.parse(new TextDecoder().decode(buffer));
        } catch {
          parsed = null;
        }
      }
      if (res.status >= 500)
        this.violation(`${method} ${path} answered ${res.status} ${new TextDecoder().decode(buffer).slice(0, 300)}`);
      return { status: res.status, body: parsed, bytes: buffer };
    } catch (error) {
      const crashed = this.life.epoch !== epoch || this.life.down;
      const failure = error as Error & { cause?: { code?: string } };
      if (!crashed) {
        // The request never got an answer though the server was not killed: its outcome is unknown
        // all the same (the ledger treats it like one in flight at a crash); counted and reported.
        this.drops.push({
          method,
          path: route.slice(0, 120),
          code: failure.cause?.code ?? failure.name,
          sinceRestartMs: Date.now() - this.life.upSince,
          activeMs: Math.round(this.active),
        });
      }
      throw new NetError(failure.message, true);
    }
  }

  /** An MLflow API call: GET with query parameters, anything else with a JSON body. */
  api(method: string, route: string, params: Record<string, unknown>) {
    return this.http(
      method,
      `/api/2.0/${route}`,
      method === "GET" ? { query: params as Record<string, string> } : { json: params },
    );
  }

  /** Checks an answer that must be an MLflow error with one of `codes`. */
  expectCodes(what: string, res: Answer, codes: string[]): string {
    const code = res.body?.error_code;
    if (res.status >= 200 && res.status < 300) return "ok";
    if (res.status >= 500) return "5xx";
    if (!codes.includes(code))
      this.violation(`${what}: unexpected answer ${res.status} ${JSON.stringify(res.body)?.slice(0, 300)}`);
    return code ?? `http${res.status}`;
  }
}

/**
 * Runs the storm. `server` is a Server (test/reliability/server.ts); `crashes` SIGKILLs happen at
 * random moments of the active time, each followed by a restart on the same state and port.
 */
export async function runStorm({
  server,
  clients = 16,
  models = 5,
  activeMs = 30_000,
  crashes = 0,
  seed = Date.now() >>> 0,
  log = () => {},
}: {
  server: Server;
  clients?: number;
  models?: number;
  activeMs?: number;
  crashes?: number;
  seed?: number;
  log?: (message: string) => void;
}) {
  const driver = new Driver(server.base);
  const { life } = driver;
  const random = rng(seed);
  const runTag = `s${seed.toString(36)}`;
  const scenario = new Scenario(driver, random, runTag, seed, models);
  const crashLog: { atActiveMs: number; downMs: number; restartMs: number; duringUpload: boolean }[] = [];

  await scenario.setupRuns(4);
  await scenario.createModels();
  const readers = Math.max(2, Math.round(clients / 4));
  log(
    `storm: ${clients} clients (${readers} readers) on ${models} models for ${activeMs / 1000}s active, ${crashes} crash(es), seed ${seed}`,
  );
  const started = Date.now();
  let finished = false;
  const workers = Array.from({ length: clients }, (_, i) => scenario.client(i, i < readers, () => finished));

  // Crash moments: spread over the active time, each jittered.
  const crashAt = Array.from(
    { length: crashes },
    (_, k) => ((k + 0.5 + (random.next() - 0.5) * 0.8) / crashes) * activeMs * 0.9 + activeMs * 0.05,
  );
  crashAt.sort((a, b) => a - b);
  try {
    // The active time is the workload's length (the clients run until it is used up), not a wait.
    while (driver.active < activeMs) {
      await sleep(50);
      driver.tick();
      const next = crashAt[0];
      if (next !== undefined && driver.active >= next) {
        crashAt.shift();
        // Every other crash lands while a large upload is streaming in.
        const midUpload = crashLog.length % 2 === 0;
        const upload = midUpload ? await scenario.startCutUpload(crashLog.length % 4 === 0) : null;
        driver.tick();
        const at = driver.active;
        life.goDown();
        const killedAt = Date.now();
        await server.kill();
        if (upload) await upload.cutByCrash();
        const restartMs = await server.start();
        crashLog.push({
          atActiveMs: Math.round(at),
          downMs: Date.now() - killedAt,
          restartMs,
          duringUpload: Boolean(upload),
        });
        log(
          `crash ${crashLog.length}: SIGKILL at ${(at / 1000).toFixed(1)}s of active time${upload ? " during a 64 MiB upload" : ""}; back after ${((Date.now() - killedAt) / 1000).toFixed(1)}s`,
        );
        driver.resumeClock();
        life.goUp();
        if (upload) {
          await scenario.checkCut(upload.record);
          driver.count("cut-upload", "checked");
        }
      }
    }
  } finally {
    finished = true;
    life.goUp();
    await Promise.all(workers);
  }
  const elapsedMs = Date.now() - started;
  // Cut paths once more, at the end, after everything settled.
  for (const c of scenario.cuts) await scenario.checkCut(c);
  const operations = Object.values(driver.counts).reduce((s, o) => s + Object.values(o).reduce((a, b) => a + b, 0), 0);
  const ledger: StormLedger = { slots: scenario.slots, retired: scenario.retired, runTag };
  const cuts: CutRecord[] = scenario.cuts;
  return {
    seed,
    clients,
    readers,
    models,
    activeMs,
    elapsedMs,
    operations,
    counts: driver.counts,
    reads: scenario.reads,
    cuts,
    crashes: crashLog,
    drops: driver.drops,
    latency: Object.fromEntries(
      Object.entries(driver.latency).map(([k, list]) => {
        const sorted = [...list].sort((a, b) => a - b);
        const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
        return [k, { n: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted.at(-1) }];
      }),
    ),
    violations: driver.violations,
    ledger,
  };
}

export type StormResult = Awaited<ReturnType<typeof runStorm>>;
