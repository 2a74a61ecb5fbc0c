import { R2ArtifactStore } from "./artifacts/r2-artifact-store";
import { UrlSigner } from "./artifacts/url-signer";
import { parseSigningKeys } from "./domain/signing-keys";
import { webhookServices } from "./composition/webhooks";
import { CoordinatorClient } from "./coordinator/coordinator-client";
import { purgeChanged } from "./delivery/edge-memory";
import { RegistryError } from "./errors";
import { ArtifactRepository } from "./repositories/artifact-repository";
import { openDatabase, readSessionOf, type Database } from "./repositories/database";
import { ExperimentRepository } from "./repositories/experiment-repository";
import { LoggedModelRepository } from "./repositories/logged-model-repository";
import { ModelRepository } from "./repositories/model-repository";
import { RunRepository } from "./repositories/run-repository";
import { SearchRepository } from "./repositories/search-repository";
import { ArtifactService } from "./services/artifact-service";
import { DeliveryService, type DeliveryConfig } from "./services/delivery-service";
import { LineageService } from "./services/lineage-service";
import { AuthService } from "./services/auth-service";
import { TokenRepository } from "./repositories/token-repository";
import { RegistryService } from "./services/registry-service";
import { EventRepository } from "./repositories/event-repository";
import { EventService } from "./services/event-service";
import { PolicyService } from "./services/policy-service";
import { createTrackingServices } from "./services/tracking";
import { VersionSources, type RunLocator } from "./services/version-sources";
import { WebhookDeliveryRepository } from "./repositories/webhook-delivery-repository";
import { readMaintenanceConfig } from "./maintenance/maintenance-config";
import { MaintenanceService } from "./maintenance/maintenance-service";
import { Retention } from "./maintenance/retention";
import { ScanRepository } from "./scanning/scan-repository";
import { ScanService } from "./scanning/scan-service";
import { ModelSigner, parseModelSigningKeys } from "./signing/model-signer";
import { SignatureService } from "./signing/signature-service";
import { R2SignatureStore } from "./signing/signature-store";
import { RunDataRepository } from "./repositories/run-data-repository";

// The one composition root: the only place that constructs repositories, stores, queue adapters,
// the coordinator client and the services over them. Everything below receives what it uses.
// Two tiers, each built once per isolate and bindings object (they hold no per-request state):
// - backgroundServicesFor: what needs no secret. The queue consumers, the webhook sweep and the
//   scheduled maintenance run on it alone, so a deployment missing a signing key or the admin
//   token still relays events, delivers webhooks, scans and cleans up.
// - servicesFor: what requests use, the background tier plus what needs the secrets (signed URLs,
//   the admin token); it refuses (503) without them.
// The model coordinators get their parts from composition/coordinator-parts.ts (src/index.ts).

function createBackground(env: Env) {
  const db = openDatabase(env.DB);
  const events = new EventRepository(db);
  const models = new ModelRepository(db, events);
  const coordinators = new CoordinatorClient(env.MODEL_COORDINATOR, models);
  const artifactIndex = new ArtifactRepository(db);
  const store = new R2ArtifactStore(env.ARTIFACTS);
  // Loaded on first use: a deployment without MODELGATE_MODEL_SIGNING_KEYS fails only where a signature is needed.
  const signatures = new SignatureService(
    async () => ModelSigner.load(parseModelSigningKeys(env.MODELGATE_MODEL_SIGNING_KEYS)),
    new R2SignatureStore(env.ARTIFACTS),
  );
  const tracking = createTrackingServices(
    new ExperimentRepository(db),
    new RunRepository(db),
    new LoggedModelRepository(db),
    artifactIndex,
  );
  const runs: RunLocator = {
    runArtifactUri: async (runId) => (await tracking.runs.getRun(runId)).info.artifactUri,
    loggedModel: (modelId) => tracking.loggedModels.getLoggedModel(modelId),
    recordModelVersion: (modelId, name, version) => tracking.loggedModels.recordModelVersion(modelId, name, version),
  };
  const sources = new VersionSources(coordinators, artifactIndex, runs);
  const reads = readServices(db, coordinators, sources);
  const registry = reads.registry;
  const services = {
    registry,
    events: reads.events,
    policies: new PolicyService(coordinators),
    tracking,
    signatures,
    lineage: reads.lineage,
    scans: new ScanService(
      {
        getVersion: (name, version) => registry.getVersion(name, version),
        manifest: (modelId, version) => artifactIndex.manifest(modelId, version),
      },
      store,
      new ScanRepository(db),
    ),
    ...webhookServices(db, env, (name) => models.findIdByName(name)),
    maintenance: maintenanceService(db, events, env, signatures),
    /** The same read services over a request's D1 session (servicesFor). */
    readingFrom: (session: Database) => readServices(session, coordinators, sources),
  };
  return { services, db, artifactIndex, store };
}

/** The request tier: the background services and those that need the deployment's secrets. */
export function createServices(env: Env) {
  const { services, db, artifactIndex, store } = backgroundOf(env);
  const urlSigner = signer(env);
  const config = readConfig(env);
  if (config.authEnabled && !env.MODELGATE_ADMIN_TOKEN) {
    throw new RegistryError(
      "TEMPORARILY_UNAVAILABLE",
      "Modelgate is not configured: auth is on and the MODELGATE_ADMIN_TOKEN secret is missing.",
    );
  }
  return {
    ...services,
    config,
    artifacts: new ArtifactService(artifactIndex, store, urlSigner),
    delivery: new DeliveryService(services.registry, artifactIndex, store, urlSigner, services.signatures, config),
    auth: new AuthService(new TokenRepository(db), {
      enabled: config.authEnabled,
      adminToken: env.MODELGATE_ADMIN_TOKEN ?? null,
    }),
    /** The web UI's batched run reads (several runs per page), on the primary database as before. */
    runData: new RunDataRepository(db),
    /**
     * The generation of search data the request's D1 session reads (held search answers,
     * http/answer-memory.ts); null outside a request, where nothing is held.
     */
    searchGeneration: (): Promise<number | null> => Promise.resolve(null),
  };
}

/**
 * The services whose reads a request's D1 session serves when one is open (read replication):
 * search, lists (transition history, events) and lineage. A few µs to build: repositories and
 * services only hold their dependencies.
 */
function readServices(db: Database, coordinators: CoordinatorClient, sources: VersionSources) {
  const events = new EventRepository(db);
  // A mutation drops the resolutions and files it changed from this location's edge cache at once.
  const registry = new RegistryService(
    coordinators,
    new ModelRepository(db, events),
    new SearchRepository(db),
    sources,
    purgeChanged,
  );
  const artifactIndex = new ArtifactRepository(db);
  const tracking = createTrackingServices(
    new ExperimentRepository(db),
    new RunRepository(db),
    new LoggedModelRepository(db),
    artifactIndex,
  );
  return {
    registry,
    events: new EventService(registry, events),
    lineage: new LineageService(registry, tracking.runs, artifactIndex),
  };
}

/** Retention, the outbox watchdog and /health's outbox check (src/maintenance/). */
function maintenanceService(
  db: Database,
  events: EventRepository,
  env: Env,
  signing: SignatureService,
): MaintenanceService {
  const config = readMaintenanceConfig(env);
  const retention = new Retention(events, new WebhookDeliveryRepository(db), new TokenRepository(db), config);
  // /health is degraded while model.sig cannot be issued (no MODELGATE_MODEL_SIGNING_KEYS).
  return new MaintenanceService(events, retention, env.EVENTS, config.invalid, undefined, undefined, signing);
}

export interface Config extends DeliveryConfig {
  /** Tokens required (deployed, or MODELGATE_AUTH=on locally); off only for a local single-user run. */
  authEnabled: boolean;
  /** Origins allowed to call the API from a browser; none by default. */
  corsOrigins: string[];
  /**
   * Whether the client's address comes from the platform's `CF-Connecting-IP` (deployed: the edge
   * sets it) or not (`MODELGATE_RUNTIME=local`: a local client could send the header itself).
   */
  platformClientAddress: boolean;
}

function readConfig(env: Env): Config {
  const seconds = (value: string | undefined, fallback: number) => {
    const n = Number(value);
    return value !== undefined && Number.isInteger(n) && n > 0 ? n : fallback;
  };
  const r2 =
    env.R2_ACCOUNT_ID && env.R2_ACCESS_KEY_ID && env.R2_SECRET_ACCESS_KEY
      ? {
          accountId: env.R2_ACCOUNT_ID,
          bucket: env.R2_BUCKET_NAME,
          accessKeyId: env.R2_ACCESS_KEY_ID,
          secretAccessKey: env.R2_SECRET_ACCESS_KEY,
        }
      : null;
  return {
    authEnabled: env.MODELGATE_AUTH !== "off",
    corsOrigins: (env.MODELGATE_CORS_ORIGINS ?? "")
      .split(",")
      .map((o) => o.trim())
      .filter(Boolean),
    platformClientAddress: env.MODELGATE_RUNTIME !== "local",
    resolveTtlSeconds: seconds(env.MODELGATE_RESOLVE_TTL_SECONDS, 10),
    maxSignedUrlSeconds: seconds(env.MODELGATE_SIGNED_URL_MAX_SECONDS, 7 * 24 * 3600),
    defaultSignedUrlSeconds: 3600,
    r2,
  };
}

function signer(env: Env): UrlSigner {
  const keys = parseSigningKeys(env.MODELGATE_SIGNING_KEYS);
  if (keys.length === 0) {
    throw new RegistryError(
      "TEMPORARILY_UNAVAILABLE",
      "Modelgate is not configured: the MODELGATE_SIGNING_KEYS secret is missing.",
    );
  }
  return new UrlSigner(keys);
}

export type Services = ReturnType<typeof createServices>;
export type BackgroundServices = ReturnType<typeof createBackground>["services"];

const backgrounds = new WeakMap<Env, ReturnType<typeof createBackground>>();
function backgroundOf(env: Env): ReturnType<typeof createBackground> {
  let background = backgrounds.get(env);
  if (!background) backgrounds.set(env, (background = createBackground(env)));
  return background;
}

/** The services that need no secret, for the queue consumers, the webhook sweep and the Cron Trigger. */
export function backgroundServicesFor(env: Env): BackgroundServices {
  return backgroundOf(env).services;
}

const cache = new WeakMap<Env, Services>();
export function servicesFor(env: Env): Services {
  // A request's bindings may carry its D1 session (index.ts): the isolate's services, with the
  // read services rebuilt over that session.
  const request = readSessionOf(env);
  const bindings = request?.env ?? env;
  let services = cache.get(bindings);
  if (!services) cache.set(bindings, (services = createServices(bindings)));
  if (!request) return services;
  const { session } = request;
  return { ...services, ...services.readingFrom(session.database), searchGeneration: () => session.searchGeneration() };
}
