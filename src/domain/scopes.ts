import { InvalidParameterError } from "../errors";

/** What a token may do, each scope including the ones before it. */
export const SCOPES = ["read", "write", "promote", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

// MLflow's model permissions, accepted as synonyms when tokens are created.
const MLFLOW_PERMISSIONS: Record<string, Scope> = { READ: "read", EDIT: "promote", MANAGE: "admin" };

export function allows(granted: Scope, needed: Scope): boolean {
  return SCOPES.indexOf(granted) >= SCOPES.indexOf(needed);
}

/** The highest of the scopes asked for; `READ`/`EDIT`/`MANAGE` map onto read/promote/admin. */
export function parseScopes(input: string[]): Scope {
  if (input.length === 0) throw new InvalidParameterError(`A token needs at least one scope: ${SCOPES.join(", ")}.`);
  let best: Scope = "read";
  for (const raw of input) {
    const scope = (SCOPES as readonly string[]).includes(raw.toLowerCase())
      ? (raw.toLowerCase() as Scope)
      : MLFLOW_PERMISSIONS[raw.toUpperCase()];
    if (!scope)
      throw new InvalidParameterError(
        `Unknown scope '${raw}': use ${SCOPES.join(", ")} (or MLflow's READ, EDIT, MANAGE).`,
      );
    if (allows(scope, best)) best = scope;
  }
  return best;
}

/** The scopes a token with `scope` holds, for display. */
export function impliedScopes(scope: Scope): Scope[] {
  return SCOPES.slice(0, SCOPES.indexOf(scope) + 1);
}
