// Search answers held in this isolate, each stamped with the generation of search data it was read at (issue 14).
// A search of 100 versions costs the Worker ~7 ms of CPU, most of it taking D1's rows apart and
// rendering them; the same search asked again while nothing was written costs one trivial query.
//
// Why this is never stale: every write to a table a search reads moves one counter in D1, inside the
// writing transaction (answer_generation, moved by triggers: migration 0014). An answer is served only
// to a request whose D1 session reads that counter at exactly the generation the answer was computed
// at (or a newer state: the generation is read before the search runs). Nothing expires by time and
// nothing needs purging: a write makes every held answer unreachable, in every isolate, and the least
// recently served are dropped to stay under MAX_ANSWER_BYTES. With read replication, a replica at an
// older generation misses, then holds its own answer. A request with `Cache-Control: no-cache` is
// answered from D1 (and its answer held).
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./context";

/** Answers larger than this are never held (a page of 1,000 versions is ~400 KB). */
export const MAX_HELD_ANSWER_BYTES = 1024 * 1024;
export const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/** A bounded map from request key to the answer's JSON, valid at one generation of search data. */
export class AnswerMemory {
  // A Map iterates in insertion order; a served entry is re-inserted, so the first is the least recent.
  private readonly answers = new Map<string, { generation: number; body: string }>();
  private held = 0;

  constructor(
    readonly maxAnswerBytes = MAX_HELD_ANSWER_BYTES,
    readonly maxBytes = MAX_ANSWER_BYTES,
  ) {}

  /** Bytes held now (JSON characters; never more than maxBytes). */
  get bytes(): number {
    return this.held;
  }

  /** The answer held for `key` if it was read at `generation`. */
  get(key: string, generation: number): string | undefined {
    const entry = this.answers.get(key);
    if (!entry || entry.generation !== generation) return undefined;
    this.answers.delete(key);
    this.answers.set(key, entry);
    return entry.body;
  }

  keep(key: string, generation: number, body: string): void {
    this.drop(key);
    if (body.length > this.maxAnswerBytes || body.length > this.maxBytes) return;
    for (const [oldest] of this.answers) {
      if (this.held + body.length <= this.maxBytes) break;
      this.drop(oldest);
    }
    this.answers.set(key, { generation, body });
    this.held += body.length;
  }

  private drop(key: string): void {
    const entry = this.answers.get(key);
    if (!entry) return;
    this.answers.delete(key);
    this.held -= entry.body.length;
  }
}

const memory = new AnswerMemory();

/**
 * For a read route, after its guard: answers a request from memory when the same request (path,
 * query, and the caller's visible models) was answered at the generation of search data the
 * request's D1 session reads now. Marks answers `x-modelgate-cache: hit` or `miss`.
 */
export function heldAnswers(answers: AnswerMemory = memory): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const generation = await c.var.services.searchGeneration();
    if (generation === null) return next();
    const url = new URL(c.req.url);
    const key = `${c.req.method} ${url.pathname}${url.search}\n${JSON.stringify(c.var.principal?.models ?? null)}`;
    const held = /no-cache/i.test(c.req.header("cache-control") ?? "") ? undefined : answers.get(key, generation);
    if (held !== undefined) {
      return c.body(held, 200, { "content-type": "application/json", "x-modelgate-cache": "hit" });
    }
    await next();
    if (c.res.status !== 200) return;
    answers.keep(key, generation, await c.res.clone().text());
    c.res.headers.set("x-modelgate-cache", "miss");
  };
}
