import { RegistryError } from "../errors";
import { allows, type Scope } from "./scopes";

/** Who is calling: a token's holder, the bootstrap admin, or (with auth off) the local user. */
export interface Principal {
  /** The token's name (free text: shown, never trusted to identify). */
  actor: string;
  scope: Scope;
  /** Models the principal is narrowed to; null means all. */
  models: string[] | null;
  /** The token's id; null for the bootstrap admin and the local user. */
  tokenId: string | null;
}

/** A model a request touches, and the scope it needs there. */
export interface ModelAccess {
  model: string;
  scope: Scope;
}

const denied = (message: string) => new RegistryError("PERMISSION_DENIED", message);

/** Whether the principal's grants reach `model` (any scope). */
export function reachesModel(principal: Principal, model: string): boolean {
  return principal.models === null || principal.models.includes(model);
}

/** Refuses (403) what the principal may not do; `model` narrows the check to one model. */
export function authorize(principal: Principal, needed: Scope, model?: string): void {
  if (!allows(principal.scope, needed)) {
    throw denied(`Token '${principal.actor}' has scope '${principal.scope}'; this needs '${needed}'.`);
  }
  if (model !== undefined && !reachesModel(principal, model)) {
    throw denied(`Token '${principal.actor}' has no rights on model '${model}'.`);
  }
}

/**
 * Whether the principal may manage what is bound to `models` (tokens, webhooks): an unrestricted
 * principal manages everything; a narrowed one only what is bound to models it holds, never what
 * is unrestricted (null).
 */
export function governs(principal: Principal, models: readonly string[] | null): boolean {
  if (principal.models === null) return true;
  return models !== null && models.length > 0 && models.every((m) => principal.models!.includes(m));
}
