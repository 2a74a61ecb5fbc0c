import { CoordinatorClient } from "./coordinator/coordinator-client";
import { openDatabase } from "./repositories/database";
import { ModelRepository } from "./repositories/model-repository";
import { SearchRepository } from "./repositories/search-repository";
import { RegistryService } from "./services/registry-service";
import { VersionSources } from "./services/version-sources";

/** The one composition root: repositories, stores and the coordinator client, wired into services. */
export function createServices(env: Env) {
  const db = openDatabase(env.DB);
  const models = new ModelRepository(db);
  const coordinators = new CoordinatorClient(env.MODEL_COORDINATOR, models);
  const sources = new VersionSources(coordinators);
  return {
    registry: new RegistryService(coordinators, models, new SearchRepository(db), sources),
  };
}

export type Services = ReturnType<typeof createServices>;

// Built once per isolate and bindings object: the services hold no per-request state.
const cache = new WeakMap<Env, Services>();
export function servicesFor(env: Env): Services {
  let services = cache.get(env);
  if (!services) cache.set(env, (services = createServices(env)));
  return services;
}
