import type { Context, MiddlewareHandler } from "hono";
import type { Scope } from "../domain/scopes";
import { modelFromParam, requires } from "../http/auth";
import type { AppEnv } from "../http/context";

// The one place that decides what the person in front of the UI may see and do. Pages and forms
// use the same guard as the API (`requires`), so the UI grants nothing the API would refuse, and
// pages offer only the actions `allowedActions` returns.
//
// Who the person is comes from the guard: with auth off, the local user; with auth on, the token
// the browser sends: the session cookie set by the sign-in page (see session.tsx), or an
// Authorization header. Only these guards accept the cookie; the JSON API's never do.

/** Each UI action and the scope it needs: the same as the API route doing the same thing. */
export const ACTION_SCOPES = {
  /** Any stage change: promote, demote, archive (model-versions/transition-stage). */
  stage: "promote",
  rollback: "promote",
  setAlias: "promote",
  deleteAlias: "promote",
  /** registered-models/update */
  description: "write",
  setTag: "write",
  deleteTag: "write",
  /** Pinning key metrics sets a model tag (registered-models/set-tag). */
  pinMetrics: "write",
} as const satisfies Record<string, Scope>;

export type UiAction = keyof typeof ACTION_SCOPES;

/** The guard of a page: reading, of one model when the path names it. */
export function mayView(perModel: boolean): MiddlewareHandler<AppEnv> {
  return requires("read", perModel ? modelFromParam : undefined, { sessionCookie: true });
}

/** The guard of a form's target. */
export function mayPerform(action: UiAction): MiddlewareHandler<AppEnv> {
  return requires(ACTION_SCOPES[action], modelFromParam, { sessionCookie: true });
}

/** The actions the current principal may take on `model`; a page offers only these. */
export function allowedActions(c: Context<AppEnv>, model: string): Set<UiAction> {
  const allowed = new Set<UiAction>();
  const principal = c.var.principal;
  if (!principal) return allowed;
  for (const [action, scope] of Object.entries(ACTION_SCOPES) as [UiAction, Scope][]) {
    try {
      c.var.services.auth.authorize(principal, scope, model);
      allowed.add(action);
    } catch {
      // not offered
    }
  }
  return allowed;
}
