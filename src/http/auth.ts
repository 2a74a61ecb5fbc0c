import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { RegistryError } from "../errors";
import type { Scope } from "../domain/scopes";
import type { AppEnv } from "./context";
import type { Principal } from "../services/auth-service";

// Every route declares what it needs with `requires(...)`. test/http/route-scopes.test.ts walks
// the app's route list and fails for any route without such a guard, so a new route cannot ship
// unguarded by accident.

const guards = new WeakMap<object, Scope | "public">();
/** The scope a route guard demands, or undefined when `handler` is not a guard. */
export const guardScope = (handler: unknown): Scope | "public" | undefined =>
  typeof handler === "function" ? guards.get(handler) : undefined;

/** Which model a request acts on, for per-model grants. */
export type ModelOf = (c: Context<AppEnv>) => Promise<string | undefined>;

export const modelFromParam: ModelOf = async (c) => c.req.param("name");

/** The `name` parameter as the MLflow client sends it: query string for GET, JSON body otherwise. */
export const modelFromInput: ModelOf = async (c) => {
  if (c.req.method === "GET" || c.req.method === "HEAD") return c.req.query("name");
  try {
    const body: unknown = JSON.parse(await c.req.text());
    const name = body && typeof body === "object" ? (body as Record<string, unknown>).name : undefined;
    return typeof name === "string" ? name : undefined;
  } catch {
    return undefined; // the route's own validation reports the malformed body
  }
};

// Failed authentications per client address, per isolate: enough to slow down guessing.
const FAILURE_WINDOW_MS = 60_000;
const MAX_FAILURES = 20;
const failures = new Map<string, { count: number; since: number }>();

function clientAddress(c: Context): string {
  return c.req.header("cf-connecting-ip") ?? "local";
}

function checkFailureBudget(address: string, now: number) {
  const entry = failures.get(address);
  if (entry && now - entry.since < FAILURE_WINDOW_MS && entry.count >= MAX_FAILURES) {
    throw new RegistryError("REQUEST_LIMIT_EXCEEDED", "Too many failed authentications from this address; try again in a minute.");
  }
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
export const sessionCookieName = (c: Context): string => (new URL(c.req.url).protocol === "https:" ? "__Host-mg_session" : "mg_session");

/**
 * Authenticates `authorization` for this request, counting a failure toward the client address's
 * failed-authentication budget (and refusing once it is used up).
 */
export async function authenticateRequest(c: Context<AppEnv>, authorization: string | undefined): Promise<Principal> {
  const address = clientAddress(c);
  const now = Date.now();
  checkFailureBudget(address, now);
  try {
    return await c.var.services.auth.authenticate(authorization);
  } catch (error) {
    if (error instanceof RegistryError && error.code === "UNAUTHENTICATED") recordFailure(address, now);
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
}

/**
 * The guard for one route: authenticates the caller and checks the scope (and, for per-model
 * tokens, the model). `public` routes carry their own credential (a signed URL) or need none.
 */
export function requires(scope: Scope | "public", model?: ModelOf, options: GuardOptions = {}): MiddlewareHandler<AppEnv> {
  const guard: MiddlewareHandler<AppEnv> = async (c, next) => {
    const signed = options.signedUrlAllowed && new URL(c.req.url).searchParams.has("sig");
    if (scope === "public" || signed) return next();
    const auth = c.get("services").auth;
    const principal = auth.enabled ? await authenticateRequest(c, credentials(c, options)) : await auth.authenticate(undefined);
    // The model serves per-model grants and the audit trail of mutations: a read by a principal
    // without per-model grants does not need it (and skips parsing the request for it).
    const mutation = c.req.method !== "GET" && c.req.method !== "HEAD";
    const modelName = model && (mutation || principal.models !== null) ? await model(c) : undefined;
    auth.authorize(principal, scope, modelName);
    c.set("auditModel", modelName);
    c.set("principal", principal);
    c.set("actor", principal.actor);
    c.set("userId", auth.enabled ? principal.actor : undefined);
    await next();
  };
  guards.set(guard, scope);
  return guard;
}
