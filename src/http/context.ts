import type { Services } from "../services";

/** What every request carries: its bindings, the services built from them, and who is acting. */
export type AppEnv = {
  Bindings: Env;
  Variables: { services: Services; actor: string };
};
