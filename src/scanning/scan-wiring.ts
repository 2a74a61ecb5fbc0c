import { R2ArtifactStore } from "../artifacts/r2-artifact-store";
import { ArtifactRepository } from "../repositories/artifact-repository";
import { openDatabase } from "../repositories/database";
import type { RegistryService } from "../services/registry-service";
import { ScanRepository } from "./scan-repository";
import { ScanService } from "./scan-service";

/**
 * Builds the scan service from the bindings and the registry service. Meant to be called once from
 * the composition root (src/services.ts: `scans: scanService(env, registry)`).
 */
export function scanService(env: Env, registry: Pick<RegistryService, "getVersion">): ScanService {
  const db = openDatabase(env.DB);
  const artifacts = new ArtifactRepository(db);
  return new ScanService(
    { getVersion: (name, version) => registry.getVersion(name, version), manifest: (modelId, version) => artifacts.manifest(modelId, version) },
    new R2ArtifactStore(env.ARTIFACTS),
    new ScanRepository(db),
  );
}

const cache = new WeakMap<Env, ScanService>();

/** Until src/services.ts builds `scans`, the scan route builds it once per isolate and bindings. */
export function scanServiceFor(env: Env, registry: Pick<RegistryService, "getVersion">): ScanService {
  let service = cache.get(env);
  if (!service) cache.set(env, (service = scanService(env, registry)));
  return service;
}
