import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import type { z } from "zod";
import { RegistryError } from "../errors";
import { authorize, type ModelAccess, type Principal } from "../domain/principal";
import type { Scope } from "../domain/scopes";
import type { AppEnv } from "./context";
import { readInput } from "./input";

// Every route declares what it needs with `requires(...)` or `guard(...)`.
// test/auth/route-scopes.test.ts walks the app's route list and fails for any route without such a
// guard, so a new route cannot ship unguarded by accident.
//
// Authorize what the handler acts on (style habit 13): a route whose model comes from its
// parameters uses `guard(scope, Schema, touches)`, which parses the request once with the route's
// own schema, checks every model `touches` names in that parsed value, and hands the same value to
// the handler as `c.var.input`. Nothing reads the request a second way, so no encoding (JSON in a
// string, query, /ajax-api/, percent-encoding) can show the check one model and the handler another.

const guards = new WeakMap<object, Scope | "public">();
/** The scope a route guard demands, or undefined when `handler` is not a guard. */
export const guardScope = (handler: unknown): Scope | "public" | undefined =>
  typeof handler === "function" ? guards.get(handler) : undefined;

/** A model named by the route's path (the router decodes it once; the handler reads the same value). */
export type ModelOf = (c: Context<AppEnv>) => string | undefined;
export const modelFromParam: ModelOf = (c) => c.req.param("name");

// Failed authentications per client address, per isolate: enough to slow down guessing. Counted
// only after a credential failed: a valid token is never refused because others guessed badly.
const FAILURE_WINDOW_MS = 60_000;
const MAX_FAILURES = 20;
const failures = new Map<string, { count: number; since: number }>();

/**
 * The client's address for the failure budget. Deployed, Cloudflare's edge sets
 * `CF-Connecting-IP` and a client cannot forge it. Locally a client can send that header itself,
 * so it is ignored: every local client is on this machine's loopback socket.
 */
function clientAddress(c: Context<AppEnv>): string {
  if (!c.var.services.config.platformClientAddress) return "local";
  return c.req.header("cf-connecting-ip") ?? "unknown";
}

function overBudget(address: string, now: number): boolean {
  const entry = failures.get(address);
  return entry !== undefined && now - entry.since < FAILURE_WINDOW_MS && entry.count >= MAX_FAILURES;
}

function recordFailure(address: string, now: number) {
  const entry = failures.get(address);
  if (!entry || now - entry.since >= FAILURE_WINDOW_MS) {
    if (failures.size > 10_000) failures.clear();
    failures.set(address, { count: 1, since: now });
  } else {
    entry.count += 1;
  }
}

/**
 * The web UI's sign-in cookie (its value is the token). `__Host-` pins it to this host and path
 * `/` where browsers allow that prefix (HTTPS). Only guards created with `sessionCookie: true`
 * (the UI's pages and forms) read it: the JSON API never accepts it, so a cross-site request
 * cannot ride on a browser's session.
 */
export const sessionCookieName = (c: Context): string =>
  new URL(c.req.url).protocol === "https:" ? "__Host-mg_session" : "mg_session";

/**
 * Authenticates `authorization` for this request. A failure counts toward the client address's
 * budget; once that is used up, further failures answer 429 instead of 401 (valid tokens pass).
 */
export async function authenticateRequest(c: Context<AppEnv>, authorization: string | undefined): Promise<Principal> {
  try {
    return await c.var.services.auth.authenticate(authorization);
  } catch (error) {
    if (!(error instanceof RegistryError && error.code === "UNAUTHENTICATED")) throw error;
    const address = clientAddress(c);
    const now = Date.now();
    if (overBudget(address, now)) {
      throw new RegistryError(
        "REQUEST_LIMIT_EXCEEDED",
        "Too many failed authentications from this address; try again in a minute.",
      );
    }
    recordFailure(address, now);
    throw error;
  }
}

/** The request's credentials: its Authorization header, or (UI routes only) the session cookie's token. */
function credentials(c: Context<AppEnv>, options: GuardOptions): string | undefined {
  const authorization = c.req.header("authorization");
  if (authorization || !options.sessionCookie) return authorization;
  const session = getCookie(c, sessionCookieName(c));
  return session ? `Bearer ${session}` : undefined;
}

export interface GuardOptions {
  /** A signed download URL (`?sig=`) stands in for credentials. */
  signedUrlAllowed?: boolean;
  /** Without an Authorization header, the UI's session cookie may carry the token (UI routes only). */
  sessionCookie?: boolean;
  /**
   * A read MLflow sends as POST (get-latest-versions, searches): it changes nothing, so the audit
   * trail skips it. Only with scope `read`; every other POST is audited.
   */
  readSentAsPost?: boolean;
}

async function admit(c: Context<AppEnv>, scope: Scope, options: GuardOptions): Promise<Principal> {
  const auth = c.var.services.auth;
  const principal = auth.enabled
    ? await authenticateRequest(c, credentials(c, options))
    : await auth.authenticate(undefined);
  authorize(principal, scope);
  c.set("principal", principal);
  if (options.readSentAsPost) {
    if (scope !== "read") throw new Error("readSentAsPost is for routes that only read");
    c.set("unaudited", true);
  }
  c.set("actor", principal.actor);
  c.set("userId", auth.enabled ? principal.actor : undefined);
  return principal;
}

/** Checks every model the request touches, and names the first in the audit trail. */
function checkModels(c: Context<AppEnv>, principal: Principal, touched: readonly ModelAccess[]): void {
  for (const access of touched) authorize(principal, access.scope, access.model);
  const [first] = touched;
  if (first) c.set("auditModel", first.model);
}

/**
 * The guard for a route without parsed parameters: authenticates the caller and checks the scope
 * (and, with `model`, the model the path names). `public` routes carry their own credential (a
 * signed URL) or need none.
 */
export function requires(
  scope: Scope | "public",
  model?: ModelOf,
  options: GuardOptions = {},
): MiddlewareHandler<AppEnv> {
  const handler: MiddlewareHandler<AppEnv> = async (c, next) => {
    const signed = options.signedUrlAllowed && new URL(c.req.url).searchParams.has("sig");
    if (scope === "public" || signed) return next();
    const principal = await admit(c, scope, options);
    const name = model?.(c);
    if (name !== undefined) checkModels(c, principal, [{ model: name, scope }]);
    await next();
  };
  guards.set(handler, scope);
  return handler;
}

/** What a route's parsed input touches: model names (at the route's scope) or explicit accesses. */
export type Touches<T> = (input: T, scope: Scope) => readonly (ModelAccess | string | null | undefined)[];

/** The environment of a handler behind `guard`: the parsed input rides in `c.var.input`. */
export type GuardedEnv<T> = { Bindings: AppEnv["Bindings"]; Variables: AppEnv["Variables"] & { input: T } };

/**
 * The guard for a route with parameters: authenticates, checks the scope, parses the request once
 * with `schema`, checks every model `touches` finds in the parsed value, and passes that value on
 * as `c.var.input`: the handler acts on exactly what was checked.
 */
export function guard<S extends z.ZodType>(
  scope: Scope,
  schema: S,
  touches?: Touches<z.output<S>>,
  options: GuardOptions = {},
): MiddlewareHandler<GuardedEnv<z.output<S>>> {
  const handler: MiddlewareHandler<GuardedEnv<z.output<S>>> = async (c, next) => {
    const principal = await admit(c as unknown as Context<AppEnv>, scope, options);
    const input = await readInput(c, schema);
    const touched = (touches?.(input, scope) ?? [])
      .filter((t): t is ModelAccess | string => t !== null && t !== undefined)
      .map((t) => (typeof t === "string" ? { model: t, scope } : t));
    checkModels(c as unknown as Context<AppEnv>, principal, touched);
    c.set("input", input);
    await next();
  };
  guards.set(handler, scope);
  return handler;
}

/** The common case: the request acts on the model its `name` parameter names. */
export const byName = <T extends { name: string }>(input: T) => [input.name];
