// A small client for Modelgate: the /v1 read path and the registry's REST API. It uses only fetch,
// Web Streams and Web Crypto, so the same code runs in Node 20+ and inside a Worker; writing to
// disk lives in ./pull (Node only). One part per resource in ./api/, the wire types in ./wire-types.
import { ArtifactsApi } from "./api/artifacts";
import { FilesApi } from "./api/files";
import { ModelsApi } from "./api/models";
import { PoliciesApi } from "./api/policies";
import { TokensApi } from "./api/tokens";
import { TrackingApi } from "./api/tracking";
import { VersionsApi } from "./api/versions";
import { WebhooksApi } from "./api/webhooks";
import { Transport } from "./transport";
import type { ModelgateClientOptions } from "./wire-types";

export {
  ModelgateError,
  ModelgateHttpError,
  ModelgateNetworkError,
  UnsafePathError,
  VerificationError,
} from "./errors";
export { encodePath, isAbort } from "./transport";
export type * from "./wire-types";

/**
 * Every part of the client behind one object, as the CLI and scripts use it: each method is its
 * resource's (`client.versions.promote` and `client.promote` are the same call).
 */
export class ModelgateClient {
  readonly baseUrl: string;
  readonly files: FilesApi;
  readonly models: ModelsApi;
  readonly versions: VersionsApi;
  readonly policies: PoliciesApi;
  readonly tracking: TrackingApi;
  readonly artifacts: ArtifactsApi;
  readonly webhooks: WebhooksApi;
  readonly tokens: TokensApi;
  private readonly http: Transport;

  constructor(options: ModelgateClientOptions) {
    this.http = new Transport(options);
    this.baseUrl = this.http.baseUrl;
    this.files = new FilesApi(this.http);
    this.models = new ModelsApi(this.http);
    this.versions = new VersionsApi(this.http);
    this.policies = new PoliciesApi(this.http);
    this.tracking = new TrackingApi(this.http);
    this.artifacts = new ArtifactsApi(this.http);
    this.webhooks = new WebhooksApi(this.http);
    this.tokens = new TokensApi(this.http);
  }

  /**
   * A JSON call to the registry's REST API, e.g. `api("POST", "/api/2.0/modelgate/tokens", {...})`.
   * A GET sends `body` as the query string (repeated keys for arrays), as MLflow's client does.
   */
  api<T>(method: string, route: string, body?: unknown): Promise<T> {
    return this.http.api<T>(method, route, body);
  }

  // The /v1 read path
  resolve: FilesApi["resolve"] = (...a) => this.files.resolve(...a);
  resolveIfChanged: FilesApi["resolveIfChanged"] = (...a) => this.files.resolveIfChanged(...a);
  download: FilesApi["download"] = (...a) => this.files.download(...a);
  fetchFile: FilesApi["fetchFile"] = (...a) => this.files.fetchFile(...a);
  downloadVerified: FilesApi["downloadVerified"] = (...a) => this.files.downloadVerified(...a);
  archive: FilesApi["archive"] = (...a) => this.files.archive(...a);
  signedUrls: FilesApi["signedUrls"] = (...a) => this.files.signedUrls(...a);
  fileUrl: FilesApi["fileUrl"] = (...a) => this.files.fileUrl(...a);

  // Registered models
  listModels: ModelsApi["listModels"] = (...a) => this.models.listModels(...a);
  getModel: ModelsApi["getModel"] = (...a) => this.models.getModel(...a);
  createModel: ModelsApi["createModel"] = (...a) => this.models.createModel(...a);
  setAlias: ModelsApi["setAlias"] = (...a) => this.models.setAlias(...a);
  deleteAlias: ModelsApi["deleteAlias"] = (...a) => this.models.deleteAlias(...a);
  getVersionByAlias: ModelsApi["getVersionByAlias"] = (...a) => this.models.getVersionByAlias(...a);
  rollback: ModelsApi["rollback"] = (...a) => this.models.rollback(...a);

  // Model versions
  listVersions: VersionsApi["listVersions"] = (...a) => this.versions.listVersions(...a);
  versionsFrom: VersionsApi["versionsFrom"] = (...a) => this.versions.versionsFrom(...a);
  getVersion: VersionsApi["getVersion"] = (...a) => this.versions.getVersion(...a);
  createVersion: VersionsApi["createVersion"] = (...a) => this.versions.createVersion(...a);
  waitUntilReady: VersionsApi["waitUntilReady"] = (...a) => this.versions.waitUntilReady(...a);
  transitionStage: VersionsApi["transitionStage"] = (...a) => this.versions.transitionStage(...a);
  promote: VersionsApi["promote"] = (...a) => this.versions.promote(...a);
  setVersionTag: VersionsApi["setVersionTag"] = (...a) => this.versions.setVersionTag(...a);
  listTransitions: VersionsApi["listTransitions"] = (...a) => this.versions.listTransitions(...a);

  // Promotion policies
  getPolicy: PoliciesApi["getPolicy"] = (...a) => this.policies.getPolicy(...a);
  setPolicy: PoliciesApi["setPolicy"] = (...a) => this.policies.setPolicy(...a);
  deletePolicy: PoliciesApi["deletePolicy"] = (...a) => this.policies.deletePolicy(...a);

  // Tracking
  createRun: TrackingApi["createRun"] = (...a) => this.tracking.createRun(...a);
  getRun: TrackingApi["getRun"] = (...a) => this.tracking.getRun(...a);
  finishRun: TrackingApi["finishRun"] = (...a) => this.tracking.finishRun(...a);
  logMetric: TrackingApi["logMetric"] = (...a) => this.tracking.logMetric(...a);
  experimentId: TrackingApi["experimentId"] = (...a) => this.tracking.experimentId(...a);

  // Proxied artifacts
  uploadArtifact: ArtifactsApi["uploadArtifact"] = (...a) => this.artifacts.uploadArtifact(...a);
  createMultipartUpload: ArtifactsApi["createMultipartUpload"] = (...a) => this.artifacts.createMultipartUpload(...a);
  uploadPart: ArtifactsApi["uploadPart"] = (...a) => this.artifacts.uploadPart(...a);
  completeMultipartUpload: ArtifactsApi["completeMultipartUpload"] = (...a) =>
    this.artifacts.completeMultipartUpload(...a);
  abortMultipartUpload: ArtifactsApi["abortMultipartUpload"] = (...a) => this.artifacts.abortMultipartUpload(...a);

  // Webhooks and their deliveries
  listWebhooks: WebhooksApi["listWebhooks"] = (...a) => this.webhooks.listWebhooks(...a);
  createWebhook: WebhooksApi["createWebhook"] = (...a) => this.webhooks.createWebhook(...a);
  deleteWebhook: WebhooksApi["deleteWebhook"] = (...a) => this.webhooks.deleteWebhook(...a);
  testWebhook: WebhooksApi["testWebhook"] = (...a) => this.webhooks.testWebhook(...a);
  listDeliveries: WebhooksApi["listDeliveries"] = (...a) => this.webhooks.listDeliveries(...a);
  replayDelivery: WebhooksApi["replayDelivery"] = (...a) => this.webhooks.replayDelivery(...a);

  // Tokens
  createToken: TokensApi["createToken"] = (...a) => this.tokens.createToken(...a);
  listTokens: TokensApi["listTokens"] = (...a) => this.tokens.listTokens(...a);
  revokeToken: TokensApi["revokeToken"] = (...a) => this.tokens.revokeToken(...a);
}
