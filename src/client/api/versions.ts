import type * as Registry from "../../http/schemas/model-registry";
import { ModelgateError } from "../errors";
import { compact, delay, MLFLOW, MODELGATE, quote, tagList, type Transport } from "../transport";
import type { ModelVersionJson, PromotionJson, RequestOf, TransitionJson } from "../wire-types";

/** Versions per search request when listing a model's versions: pages of a thousand, each a keyset seek. */
const VERSIONS_PER_REQUEST = 1000;

/** Model versions: listing, registering, stage transitions (and their history), tags. */
export class VersionsApi {
  constructor(private readonly http: Transport) {}

  /** Every version of `name`, newest number first (the server's order), following page tokens. */
  async listVersions(name: string): Promise<ModelVersionJson[]> {
    return (await this.versionsFrom(name)).versions;
  }

  /**
   * `name`'s versions, newest number first, from `pageToken` (a token an earlier call answered) on:
   * at most `limit` of them, fetched a page at a time, and the token to go on from when more remain.
   * The server pages by key, so starting deep in a long list costs what starting at the top does.
   */
  async versionsFrom(
    name: string,
    options: { limit?: number; pageToken?: string } = {},
  ): Promise<{ versions: ModelVersionJson[]; nextPageToken: string | null }> {
    const limit = options.limit ?? Infinity;
    const versions: ModelVersionJson[] = [];
    let pageToken = options.pageToken || undefined;
    while (versions.length < limit) {
      const query: RequestOf<typeof Registry.SearchModelVersions> = {
        filter: `name = ${quote(name)}`,
        order_by: ["version_number DESC"],
        max_results: Math.min(VERSIONS_PER_REQUEST, limit - versions.length),
        page_token: pageToken,
      };
      const page = await this.http.api<{ model_versions?: ModelVersionJson[]; next_page_token?: string }>(
        "GET",
        `${MLFLOW}/model-versions/search`,
        query,
      );
      versions.push(...(page.model_versions ?? []));
      pageToken = page.next_page_token || undefined;
      if (!pageToken) break;
    }
    return { versions, nextPageToken: pageToken ?? null };
  }

  async getVersion(name: string, version: string | number): Promise<ModelVersionJson> {
    const query: RequestOf<typeof Registry.GetModelVersion> = { name, version: String(version) };
    return (await this.http.api<{ model_version: ModelVersionJson }>("GET", `${MLFLOW}/model-versions/get`, query))
      .model_version;
  }

  async createVersion(input: {
    name: string;
    source: string;
    runId?: string;
    description?: string;
    tags?: Record<string, string>;
  }): Promise<ModelVersionJson> {
    const body: RequestOf<typeof Registry.CreateModelVersion> = compact({
      name: input.name,
      source: input.source,
      run_id: input.runId,
      description: input.description,
      tags: tagList(input.tags),
    });
    return (await this.http.api<{ model_version: ModelVersionJson }>("POST", `${MLFLOW}/model-versions/create`, body))
      .model_version;
  }

  /**
   * Polls until the version is READY (resolves to it) or FAILED_REGISTRATION (throws with the
   * server's status message); MLflow's client does the same after model-versions/create.
   */
  async waitUntilReady(
    name: string,
    version: string | number,
    options: { timeoutMs?: number; intervalMs?: number; signal?: AbortSignal } = {},
  ): Promise<ModelVersionJson> {
    const deadline = Date.now() + (options.timeoutMs ?? 300_000);
    for (;;) {
      const current = await this.getVersion(name, version);
      if (current.status === "READY" || current.status === undefined) return current;
      if (current.status === "FAILED_REGISTRATION") {
        throw new ModelgateError(
          `version ${current.version} of '${name}' failed registration: ${current.status_message ?? "no reason given"}`,
        );
      }
      if (Date.now() > deadline)
        throw new ModelgateError(
          `version ${current.version} of '${name}' is still ${current.status} after ${Math.round((options.timeoutMs ?? 300_000) / 1000)} s`,
        );
      await delay(options.intervalMs ?? 500, options.signal);
    }
  }

  async transitionStage(input: {
    name: string;
    version: string | number;
    stage: string;
    archiveExisting?: boolean;
    comment?: string;
  }): Promise<ModelVersionJson> {
    const body: RequestOf<typeof Registry.TransitionModelVersionStage> = compact({
      name: input.name,
      version: String(input.version),
      stage: input.stage,
      archive_existing_versions: input.archiveExisting ?? false,
      comment: input.comment,
    });
    return (
      await this.http.api<{ model_version: ModelVersionJson }>(
        "POST",
        `${MLFLOW}/model-versions/transition-stage`,
        body,
      )
    ).model_version;
  }

  /**
   * `transitionStage`, then the versions that transition archived (the previous Production
   * version; with `archiveExisting` the others in the target stage too), read from the history.
   * The server records them in the transition's own batch: rows to Archived with the same instant
   * as the promoted version's update and the comment naming it (ModelWriter.transition), so a
   * change made meanwhile by someone else is not mistaken for them.
   */
  async promote(input: {
    name: string;
    version: string | number;
    stage: string;
    archiveExisting?: boolean;
    comment?: string;
  }): Promise<PromotionJson> {
    const promoted = await this.transitionStage(input);
    const stage = promoted.current_stage ?? input.stage;
    // Only a move to Production, or with archive_existing_versions to Staging, archives anything.
    if (stage !== "Production" && !(input.archiveExisting && stage === "Staging"))
      return { model_version: promoted, archived_versions: [] };
    let rows: TransitionJson[];
    try {
      rows = await this.listTransitions(input.name, { limit: 100 });
    } catch {
      return { model_version: promoted, archived_versions: null };
    }
    const comment = `Archived by the transition of version ${promoted.version} to ${stage}`;
    const archived = rows
      .filter(
        (t) =>
          t.to_stage === "Archived" &&
          t.comment === comment &&
          (promoted.last_updated_timestamp === undefined || t.timestamp === promoted.last_updated_timestamp),
      )
      .map((t) => t.version);
    return { model_version: promoted, archived_versions: [...new Set(archived)].sort((a, b) => Number(a) - Number(b)) };
  }

  async setVersionTag(name: string, version: string | number, key: string, value: string): Promise<void> {
    const body: RequestOf<typeof Registry.SetModelVersionTag> = { name, version: String(version), key, value };
    await this.http.api("POST", `${MLFLOW}/model-versions/set-tag`, body);
  }

  /** Stage transitions of a model (or one version), newest first, up to `limit`. */
  async listTransitions(
    name: string,
    options: { version?: string | number; limit?: number } = {},
  ): Promise<TransitionJson[]> {
    const limit = options.limit ?? Infinity;
    return this.http.allPages<TransitionJson>(
      "transitions",
      (page_token) => {
        const query: RequestOf<typeof Registry.ListTransitions> = {
          name,
          version: options.version === undefined ? undefined : String(options.version),
          max_results: Math.min(limit, 1000),
          page_token,
        };
        return this.http.api("GET", `${MODELGATE}/model-versions/transitions`, query);
      },
      limit,
    );
  }
}
