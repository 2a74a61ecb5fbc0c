import { R2ArtifactStore } from "./artifacts/r2-artifact-store";
import { parseSigningKeys, UrlSigner } from "./artifacts/url-signer";
import { CoordinatorClient } from "./coordinator/coordinator-client";
import { NotFoundError, RegistryError } from "./errors";
import { ArtifactRepository } from "./repositories/artifact-repository";
import { openDatabase } from "./repositories/database";
import { ModelRepository } from "./repositories/model-repository";
import { SearchRepository } from "./repositories/search-repository";
import { ArtifactService } from "./services/artifact-service";
import { RegistryService } from "./services/registry-service";
import { VersionSources, type RunLocator } from "./services/version-sources";

// Until the tracking service lands, no run or logged model exists to register from.
const runLocator: RunLocator = {
  runArtifactUri: (runId) => Promise.reject(new NotFoundError(`Run with id=${runId} not found`)),
  loggedModel: (modelId) => Promise.reject(new NotFoundError(`Logged model with id=${modelId} not found`)),
};

/** The one composition root: repositories, stores and the coordinator client, wired into services. */
export function createServices(env: Env) {
  const db = openDatabase(env.DB);
  const models = new ModelRepository(db);
  const coordinators = new CoordinatorClient(env.MODEL_COORDINATOR, models);
  const artifactIndex = new ArtifactRepository(db);
  const sources = new VersionSources(coordinators, artifactIndex, runLocator);
  return {
    registry: new RegistryService(coordinators, models, new SearchRepository(db), sources),
    artifacts: new ArtifactService(artifactIndex, new R2ArtifactStore(env.ARTIFACTS), signer(env)),
  };
}

function signer(env: Env): UrlSigner {
  const keys = parseSigningKeys(env.MODELGATE_SIGNING_KEYS);
  if (keys.length === 0) {
    throw new RegistryError("TEMPORARILY_UNAVAILABLE", "Modelgate is not configured: the MODELGATE_SIGNING_KEYS secret is missing.");
  }
  return new UrlSigner(keys);
}

export type Services = ReturnType<typeof createServices>;

// Built once per isolate and bindings object: the services hold no per-request state.
const cache = new WeakMap<Env, Services>();
export function servicesFor(env: Env): Services {
  let services = cache.get(env);
  if (!services) cache.set(env, (services = createServices(env)));
  return services;
}
