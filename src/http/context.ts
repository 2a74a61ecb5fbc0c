import type { Services } from "../services";
import type { Principal } from "../domain/principal";

/** What every request carries: its bindings, the services built from them, and who is acting. */
export type AppEnv = {
  Bindings: Env;
  Variables: {
    services: Services;
    /** Who the history records as acting. */
    actor: string;
    /** The MLflow `user_id` stored on what this request creates; unset for anonymous callers. */
    userId: string | undefined;
    /** Set by the route's guard once the caller is authenticated. */
    principal: Principal | undefined;
    /** The model a mutation acted on, for the audit trail. */
    auditModel: string | undefined;
    /** Set by a guard with `readSentAsPost`: a read MLflow sends as POST, which the audit trail skips. */
    unaudited: boolean;
    /** What the audit row records beyond the request line (a route sets it: an override's reason). */
    auditDetail: { version?: number; detail?: string } | undefined;
    /** The request's parameters, decoded on first read (http/input.ts requestParameters): the one reading of the request. */
    parameters: Promise<Record<string, unknown>> | undefined;
  };
};
