import type { Context } from "hono";
import type { ModelVersion, RegisteredModel, StageTransition, Tag } from "../domain/model";
import { renderedOnce } from "./rendered-json";
import type { RegistryEvent } from "../domain/events";
import { type VersionScanStatus, versionKey } from "../domain/scans";

// The only code that knows MLflow's wire shapes: snake_case, versions as strings, tags as arrays,
// unset fields and empty lists omitted.

type Json = Record<string, unknown>;

function compact(obj: Json): Json {
  const out: Json = {};
  for (const k in obj) {
    const v = obj[k];
    if (v === null || v === undefined || (Array.isArray(v) && v.length === 0)) continue;
    out[k] = v;
  }
  return out;
}

const tags = (list: Tag[]) => list.map((t) => ({ key: t.key, value: t.value }));

/** MLflow's ModelVersion. One parameter on purpose: it is passed to `map` as is (see scannedVersionJson). */
export function modelVersionJson(v: ModelVersion): Json {
  return versionJson(v, undefined);
}

/**
 * MLflow's ModelVersion with `scan`, the version's pickle-scan status (pending, clean, unknown,
 * unsafe): Modelgate's own field. MLflow's clients parse answers with unknown fields ignored
 * (protobuf's json_format with ignore_unknown_fields), so it is invisible to them
 * (docs/supply-chain.md). A function of its own, not an optional second parameter of
 * modelVersionJson, so `items.map(modelVersionJson)` can never pass an index as a status.
 */
export function scannedVersionJson(v: ModelVersion, scan: VersionScanStatus | undefined): Json {
  return versionJson(v, scan);
}

function versionJson(v: ModelVersion, scan: VersionScanStatus | undefined): Json {
  return compact({
    name: v.name,
    version: String(v.version),
    creation_timestamp: v.creationTime,
    last_updated_timestamp: v.lastUpdatedTime,
    user_id: v.userId,
    current_stage: v.currentStage,
    description: v.description,
    source: v.source,
    run_id: v.runId,
    status: v.status,
    status_message: v.statusMessage,
    tags: tags(v.tags),
    run_link: v.runLink,
    aliases: v.aliases,
    model_id: v.loggedModelId,
    scan,
  });
}

/** A page of versions with each one's scan status (ScanService.statusOf's answer for the page). */
export function versionPageJson(
  items: ModelVersion[],
  nextPageToken: string | null,
  scans: ReadonlyMap<string, VersionScanStatus>,
): Json {
  return pageJson("model_versions", items, nextPageToken, (v) => scannedVersionJson(v, scans.get(versionKey(v))));
}

export function registeredModelJson(m: RegisteredModel): Json {
  return compact({
    name: m.name,
    creation_timestamp: m.creationTime,
    last_updated_timestamp: m.lastUpdatedTime,
    user_id: m.userId,
    description: m.description,
    // MLflow lists aliases on the model, not on its latest_versions entries.
    latest_versions: m.latestVersions.map((v) => modelVersionJson({ ...v, aliases: [] })),
    tags: tags(m.tags),
    aliases: m.aliases.map((a) => ({ alias: a.alias, version: String(a.version) })),
  });
}

export function transitionJson(t: StageTransition): Json {
  return compact({
    version: String(t.version),
    from_stage: t.fromStage,
    to_stage: t.toStage,
    actor: t.actor,
    comment: t.comment,
    timestamp: t.timestamp,
  });
}

/** A registry event as the events endpoint answers it; `data` is always there, possibly empty. */
export function eventJson(e: RegistryEvent): Json {
  return compact({
    id: e.id,
    type: e.type,
    model_name: e.modelName,
    version: e.version === null ? null : String(e.version),
    from: e.from,
    to: e.to,
    actor: e.actor,
    timestamp: e.timestamp,
    sequence: e.sequence,
    data: e.data,
  });
}

export function pageJson<T>(key: string, items: T[], nextPageToken: string | null, toJson: (item: T) => Json): Json {
  return compact({ [key]: items.map(toJson), next_page_token: nextPageToken });
}

// The point reads' answers, each rendered once per value the coordinator client holds.
export const registeredModelAnswer = renderedOnce((m: RegisteredModel) => ({
  registered_model: registeredModelJson(m),
}));
const plainVersionAnswer = renderedOnce((v: ModelVersion) => ({ model_version: modelVersionJson(v) }));
/** The frozen version's answer rendered once per scan status it is served with. */
const scannedVersionAnswers = new Map<VersionScanStatus, (c: Context, v: ModelVersion) => Response>();

/** get-model-version's answer; with `scan`, the version's scan status is in it. */
export function versionAnswer(c: Context, v: ModelVersion, scan?: VersionScanStatus): Response {
  if (scan === undefined) return plainVersionAnswer(c, v);
  let answer = scannedVersionAnswers.get(scan);
  if (!answer)
    scannedVersionAnswers.set(
      scan,
      (answer = renderedOnce((version: ModelVersion) => ({ model_version: scannedVersionJson(version, scan) }))),
    );
  return answer(c, v);
}
export const latestVersionsAnswer = renderedOnce((versions: ModelVersion[]) =>
  pageJson("model_versions", versions, null, modelVersionJson),
);
