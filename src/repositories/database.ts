import { drizzle } from "drizzle-orm/d1";
import { getTableName } from "drizzle-orm";
import { answerGeneration } from "./answer-generation-schema";

export type Database = ReturnType<typeof openDatabase>;

/**
 * A drizzle handle on D1, or on one D1 session. Built without drizzle's relational schema: nothing
 * here uses `db.query`, and building its metadata costs ~50 µs, which a handle made per request
 * (a session's) cannot afford; the query builder needs only the tables it is given.
 */
export function openDatabase(d1: D1Database | D1DatabaseSession) {
  // A session has the two methods drizzle's D1 driver calls: prepare and batch.
  return drizzle(d1 as D1Database);
}

/** The header that carries a D1 bookmark, on requests and on answers (docs/storage.md, "Read replication"). */
export const BOOKMARK_HEADER = "x-d1-bookmark";

const GENERATION_SQL = `SELECT n FROM ${getTableName(answerGeneration)} WHERE id = 1`;

/** Where a session without a bookmark reads first (MODELGATE_D1_SESSION_START). */
export type SessionStart = "first-primary" | "first-unconstrained";

/** A bookmark as D1 writes them (four hex groups, 8-8-8-32). Anything else is ignored, never handed to D1. */
const BOOKMARK = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/i;

export function parseSessionStart(value: string | undefined): SessionStart {
  return value?.trim() === "first-unconstrained" ? "first-unconstrained" : "first-primary";
}

/**
 * One request's D1 session (the Sessions API). Search, lists and lineage read through it, so with
 * read replication on they are answered by a nearby replica at least as new as the bookmark the
 * client sent: every write the client saw acknowledged is in it. Writes and the reads that check
 * them stay on the database handle the services hold (the primary).
 *
 * A client takes part by sending `x-d1-bookmark`: a bookmark it received, or `first-primary` /
 * `first-unconstrained` to start. Without it, the session starts at `fallback`.
 */
export class ReadSession {
  readonly database: Database;
  private readonly session: D1DatabaseSession;
  /** The client sent the header: it keeps what we answer, so a write's answer must cover the write. */
  private readonly clientTracks: boolean;

  constructor(
    private readonly d1: D1Database,
    sent: string | null,
    fallback: SessionStart,
  ) {
    const value = sent?.trim() ?? "";
    this.clientTracks = sent !== null;
    const start =
      value === "first-primary" || value === "first-unconstrained" || BOOKMARK.test(value) ? value : fallback;
    this.session = d1.withSession(start);
    this.database = openDatabase(this.session);
  }

  /**
   * The generation of search data this session reads now: answer_generation's `n`, which triggers
   * move inside every write to a table a search answers from (migration 0014). Equal generations
   * saw the same search data. D1's own bookmark cannot say this: locally it moves with every query.
   */
  async searchGeneration(): Promise<number | null> {
    // A prepared statement, not the query builder: this runs before every held answer is served,
    // and building the query cost more than the answer (~0.2 ms of CPU).
    const row = await this.session.prepare(GENERATION_SQL).first<{ n: number }>();
    return row?.n ?? null;
  }

  /**
   * The bookmark to hand back, or null when there is none to give. After a write (`wrote`) to a
   * client that keeps bookmarks: one taken at the primary after the request's work, which covers
   * writes made outside this session (the model's coordinator writes with its own handle).
   * Otherwise this session's latest (null if it read nothing).
   */
  async bookmarkAfter(wrote: boolean): Promise<string | null> {
    const own = this.session.getBookmark();
    if (!wrote || !this.clientTracks) return own;
    const primary = this.d1.withSession("first-primary");
    await primary.prepare("SELECT 1").first();
    const latest = primary.getBookmark();
    // Bookmarks sort as strings, oldest first.
    return own !== null && (latest === null || own > latest) ? own : latest;
  }
}

/** A request's bindings with its read session attached (index.ts → servicesFor). */
const sessions = new WeakMap<object, { session: ReadSession; env: Env }>();

/**
 * The bindings one request's handlers see: `env` itself (every binding and var read through the
 * prototype), carrying the request's read session for servicesFor to find.
 */
export function withReadSession(env: Env, session: ReadSession): Env {
  const scoped = Object.create(env) as Env;
  sessions.set(scoped, { session, env });
  return scoped;
}

/** The read session a request's bindings carry, and the bindings underneath; undefined outside a request. */
export function readSessionOf(env: Env): { session: ReadSession; env: Env } | undefined {
  return sessions.get(env);
}
