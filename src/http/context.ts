import type { Services } from "../services";

/** What every request carries: its bindings, the services built from them, and who is acting. */
export type AppEnv = {
  Bindings: Env;
  Variables: {
    services: Services;
    /** Who the history records as acting. */
    actor: string;
    /** The MLflow `user_id` stored on what this request creates; unset for anonymous callers. */
    userId: string | undefined;
  };
};
