import { exports } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import mlflow212 from "../fixtures/mlflow-2.12-client-seed-workflow.jsonl?raw";
import mlflow35 from "../fixtures/mlflow-3.5-client-seed-workflow.jsonl?raw";
import { uniqueName, type Json } from "../helpers";
import {
  contractProblems,
  exchanges,
  REGISTRY_CLOCK_FIELDS,
  Substitutions,
  TRACKING_CLOCK_FIELDS,
  type Exchange,
} from "./replay-support";

// Contract test: replays, in order, EVERY request the real MLflow clients (2.12.2 and 3.5.1) sent
// in the recorded seed workflow (tracking, proxied artifact uploads, listings and downloads, and
// every registry call) and checks each answer against the one MLflow's own server gave:
// - the same HTTP status; on errors the same error_code and a string message (wording may differ);
// - on success a JSON object (never an empty body) holding every field of the recorded answer with
//   the same value and type, after mapping the server-made ids (experiment, run, logged model) and
//   the randomly suffixed model names onto this run's own; server clock readings (creation and
//   update timestamps) by type only; lists in the recorded order and of the recorded length; and a
//   list MLflow left out (it omits empty lists) must not come back with items, nor a page token;
// - uploads: a body of exactly the recorded byte count (deterministic bytes), the recorded
//   content type; listings: exactly the recorded `files` (path, is_dir, file_size); downloads:
//   exactly the bytes uploaded, so also the recorded byte count.
// Every mismatch of a fixture is collected, then reported together with its request index.

vi.setConfig({ testTimeout: 180_000 });

const ORIGIN = "http://modelgate.test";
const MLFLOW_API = "/api/2.0/mlflow";
const ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts";
const CLOCK_FIELDS = new Set([...TRACKING_CLOCK_FIELDS, ...REGISTRY_CLOCK_FIELDS]);
const TRACKING = /^\/api\/2\.0\/mlflow\/(experiments|runs|metrics|logged-models)(\/|$)/;
/** Model names in the recordings carry a random suffix (HousePricePredictor_b09dd7a4, DoesNotExist_ec27c6dd). */
const SUFFIXED_NAME = /^([A-Za-z]+)_[0-9a-f]{8}$/;

type Kind = "tracking" | "registry" | "upload" | "listing" | "download";

function kindOf(x: Exchange): Kind {
  if (x.path === ARTIFACTS) return "listing";
  if (x.path.startsWith(`${ARTIFACTS}/`)) return x.method === "PUT" ? "upload" : "download";
  return TRACKING.test(x.path) ? "tracking" : "registry";
}

/** `n` bytes that depend on the artifact path, so no two files of the workflow look alike. */
function deterministicBytes(path: string, n: number): Uint8Array {
  let seed = 2166136261;
  for (let i = 0; i < path.length; i++) seed = Math.imul(seed ^ path.charCodeAt(i), 16777619) >>> 0;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (seed + i * 31 + (i >> 8) * 7) & 0xff;
  return out;
}

const equalBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((v, i) => v === b[i]);

interface Answer {
  status: number;
  /** The parsed JSON object, or null when the body was empty or not a JSON object. */
  body: Json | null;
  text: string;
}

/** Sends one request as the MLflow client does and reads the answer without forgiving an empty body. */
async function send(
  method: string,
  url: string,
  clientHeaders: Record<string, string>,
  body?: BodyInit,
  contentType?: string,
): Promise<Answer> {
  const headers: Record<string, string> = { ...clientHeaders };
  if (contentType) headers["content-type"] = contentType;
  const response = await exports.default.fetch(new Request(`${ORIGIN}${url}`, { method, headers, body }));
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = null;
  }
  const isObject = parsed !== null && typeof parsed === "object" && !Array.isArray(parsed);
  return { status: response.status, body: isObject ? (parsed as Json) : null, text };
}

/** The query string the client sends: repeated keys for lists. */
function queryString(params: Record<string, string[]>): string {
  const query = new URLSearchParams();
  for (const [k, values] of Object.entries(params)) for (const v of values) query.append(k, v);
  const text = query.toString();
  return text ? `?${text}` : "";
}

interface ReplayReport {
  counts: Record<Kind, number>;
  problems: string[];
  /** 3.x: model-versions/create from `models:/m-<id>` whose run_id came from the logged model. */
  versionsFromLoggedModels: number;
  /** 3.x: get-download-uri answers checked against `mlflow-artifacts:/<exp>/models/<model_id>/artifacts`. */
  loggedModelDownloadUris: number;
  /** Promotions to Production; see `checkOneProductionDifference`. */
  productionPromotions: number;
}

/**
 * Modelgate deliberately differs from stock MLflow (README.md, "One Production version, always"):
 * promoting a version to Production ALWAYS archives the previous Production version, while MLflow
 * does so only with `archive_existing_versions=true`. The two agree unless a promotion with
 * `archive_existing_versions=false` finds another version in Production. Both recorded workflows
 * promote v2 (nothing else in Production) and later v1 with `archive_existing_versions=true`, so
 * MLflow's recorded answers ARE Modelgate's documented ones. Should a recording ever promote over a
 * Production version without archiving, the replay says so here instead of comparing against
 * MLflow's two-Production answers.
 */
function checkOneProductionDifference(
  x: Exchange,
  recordedStages: Map<string, string>,
  where: string,
  problems: string[],
): boolean {
  const req = x.req ?? {};
  if (!x.path.endsWith("/model-versions/transition-stage") || x.status !== 200) return false;
  const stage = String(req.stage).toLowerCase();
  if (stage !== "production") return false;
  const others = [...recordedStages]
    .filter(([v, s]) => v !== String(req.version) && s === "Production")
    .map(([v]) => v);
  if (others.length > 0 && req.archive_existing_versions !== true) {
    problems.push(
      `${where}: the recording promotes v${req.version} to Production without archiving v${others.join(", v")}; Modelgate ` +
        `deliberately archives it ("One Production version, always"): encode that difference for the answers that follow`,
    );
  }
  return true;
}

/** Follows the stages MLflow's recorded answers show, to tell whether the Production difference is exercised. */
function noteRecordedStages(x: Exchange, recordedStages: Map<string, string>): void {
  const versions: Json[] = [];
  if (x.resp?.model_version) versions.push(x.resp.model_version);
  if (Array.isArray(x.resp?.model_versions)) versions.push(...x.resp.model_versions);
  if (Array.isArray(x.resp?.registered_model?.latest_versions))
    versions.push(...x.resp.registered_model.latest_versions);
  if (
    x.path.endsWith("/model-versions/transition-stage") &&
    x.status === 200 &&
    x.req?.archive_existing_versions === true
  ) {
    // MLflow's own rule: the versions in the target stage go to Archived.
    const target = x.resp.model_version.current_stage;
    for (const [v, s] of recordedStages)
      if (v !== x.resp.model_version.version && s === target) recordedStages.set(v, "Archived");
  }
  for (const v of versions) recordedStages.set(String(v.version), v.current_stage);
}

async function replay(jsonl: string, clientVersion: string): Promise<ReplayReport> {
  const clientHeaders: Record<string, string> = { "user-agent": `mlflow-python-client/${clientVersion}` };
  if (clientVersion.startsWith("3.")) clientHeaders["x-mlflow-client-version"] = clientVersion;
  const recorded = exchanges(jsonl);
  const subs = new Substitutions();
  // Our test database may already hold the recorded names: give this replay its own.
  subs.text("house-price-registry", uniqueName("house-price-registry"));
  for (const x of recorded) {
    if (kindOf(x) !== "registry") continue;
    for (const name of [x.req?.name, ...(x.query.name ?? [])]) {
      const match = typeof name === "string" ? SUFFIXED_NAME.exec(name) : null;
      if (match) subs.text(name, uniqueName(match[1]).replace(/-/g, "_"));
    }
  }

  const report: ReplayReport = {
    counts: { tracking: 0, registry: 0, upload: 0, listing: 0, download: 0 },
    problems: [],
    versionsFromLoggedModels: 0,
    loggedModelDownloadUris: 0,
    productionPromotions: 0,
  };
  const problems = report.problems;
  const uploaded = new Map<string, Uint8Array>();
  /** Ours: logged model id → its experiment id and source run id (from the client's request). */
  const loggedModels = new Map<string, { experimentId: string; sourceRunId: string }>();
  /** Ours: registered version → the logged model it was made from. */
  const versionModels = new Map<string, string>();
  const recordedStages = new Map<string, string>();

  for (const [index, x] of recorded.entries()) {
    const kind = kindOf(x);
    const where = `#${index} ${x.method} ${x.path}`;
    report.counts[kind]++;
    let answer: Answer;
    if (kind === "upload") {
      const path = subs.artifactPath(x.path.slice(ARTIFACTS.length + 1));
      const bytes = deterministicBytes(path, x.req!._bytes);
      uploaded.set(path, bytes);
      answer = await send("PUT", `${ARTIFACTS}/${path}`, clientHeaders, bytes, x.req!._content_type);
    } else if (kind === "download") {
      const path = subs.artifactPath(x.path.slice(ARTIFACTS.length + 1));
      const response = await exports.default.fetch(
        new Request(`${ORIGIN}${ARTIFACTS}/${path}`, { headers: clientHeaders }),
      );
      const got = new Uint8Array(await response.arrayBuffer());
      if (response.status !== x.status) {
        problems.push(
          `${where}: status ${response.status}, expected ${x.status}: ${new TextDecoder().decode(got).slice(0, 300)}`,
        );
        continue;
      }
      // The client streams the body into a file and reads nothing else (not the content type).
      if (got.length !== x.resp._bytes) problems.push(`${where}: expected ${x.resp._bytes} bytes, got ${got.length}`);
      else if (!uploaded.has(path)) problems.push(`${where}: the workflow uploaded nothing at ${path}`);
      else if (!equalBytes(got, uploaded.get(path)!))
        problems.push(`${where}: the bytes differ from those uploaded at ${path}`);
      continue;
    } else if (kind === "listing") {
      const query = { ...x.query, path: x.query.path!.map((p) => subs.artifactPath(p)) };
      answer = await send("GET", `${ARTIFACTS}${queryString(query)}`, clientHeaders);
    } else {
      const path = subs.apply(x.path) as string;
      if (x.method === "GET")
        answer = await send(
          "GET",
          `${path}${queryString(subs.apply(x.query) as Record<string, string[]>)}`,
          clientHeaders,
        );
      else
        answer = await send(x.method, path, clientHeaders, JSON.stringify(subs.apply(x.req ?? {})), "application/json");
    }

    if (answer.status !== x.status) {
      problems.push(
        `${where}: status ${answer.status}, expected ${x.status} (${x.resp?.error_code ?? "success"}): ${answer.text.slice(0, 300)}`,
      );
      continue;
    }
    if (answer.body === null) {
      problems.push(`${where}: expected a JSON object, got ${JSON.stringify(answer.text.slice(0, 300))}`);
      continue;
    }
    const body = answer.body;
    if (x.status !== 200) {
      // Error messages may be worded differently: clients branch on error_code.
      if (body.error_code !== x.resp.error_code)
        problems.push(`${where}: error_code ${JSON.stringify(body.error_code)}, expected ${x.resp.error_code}`);
      if (typeof body.message !== "string")
        problems.push(`${where}: message ${JSON.stringify(body.message)}, expected a string`);
      noteRecordedStages(x, recordedStages);
      continue;
    }

    // Learn the ids this server made up before comparing the answers that carry them.
    if (x.path === `${MLFLOW_API}/experiments/create`) subs.experiment(x.resp.experiment_id, body.experiment_id);
    if (x.path === `${MLFLOW_API}/runs/create`) subs.text(x.resp.run.info.run_id, body.run?.info?.run_id);
    if (x.method === "POST" && x.path === `${MLFLOW_API}/logged-models`) {
      const ours = body.model?.info?.model_id;
      subs.text(x.resp.model.info.model_id, ours);
      const req = subs.apply(x.req) as Json;
      loggedModels.set(ours, { experimentId: req.experiment_id, sourceRunId: req.source_run_id });
    }

    if (kind === "listing") {
      // Same files as uploaded, so the listing must match exactly: path, is_dir and file_size.
      if (JSON.stringify(body) !== JSON.stringify(x.resp))
        problems.push(`${where}: expected ${JSON.stringify(x.resp)}, got ${JSON.stringify(body)}`);
      continue;
    }

    if (checkOneProductionDifference(x, recordedStages, where, problems)) report.productionPromotions++;
    if (kind === "registry") checkLoggedModelRegistration(x, body, subs, loggedModels, versionModels, where, report);
    noteRecordedStages(x, recordedStages);

    const found: string[] = [];
    contractProblems(subs.apply(x.resp), body, "response", found, {
      clockFields: CLOCK_FIELDS,
      omittedMeansEmpty: true,
    });
    problems.push(...found.map((p) => `${where}: ${p}`));
  }
  return report;
}

/**
 * MLflow 3 registers `{name, source: "models:/<model_id>", model_id}` with no run_id: the server
 * fills run_id from the logged model's source run, and get-download-uri answers the logged model's
 * artifact location, `mlflow-artifacts:/<experiment_id>/models/<model_id>/artifacts`.
 */
function checkLoggedModelRegistration(
  x: Exchange,
  body: Json,
  subs: Substitutions,
  loggedModels: Map<string, { experimentId: string; sourceRunId: string }>,
  versionModels: Map<string, string>,
  where: string,
  report: ReplayReport,
): void {
  if (x.path.endsWith("/model-versions/create") && /^models:\/m-/.test(x.req?.source)) {
    const modelId = (subs.apply(x.req!.source) as string).slice("models:/".length);
    const model = loggedModels.get(modelId);
    if ("run_id" in x.req!)
      report.problems.push(
        `${where}: the recorded request carries a run_id; this check expects the MLflow 3 one without`,
      );
    if (!model) return void report.problems.push(`${where}: no logged model ${modelId} was created in this replay`);
    const version = body.model_version ?? {};
    if (version.run_id !== model.sourceRunId) {
      report.problems.push(
        `${where}: run_id ${JSON.stringify(version.run_id)}, expected the logged model's source run ${model.sourceRunId}`,
      );
    }
    if (version.source !== `models:/${modelId}`)
      report.problems.push(`${where}: source ${JSON.stringify(version.source)}, expected models:/${modelId}`);
    versionModels.set(String(version.version), modelId);
    report.versionsFromLoggedModels++;
  }
  if (x.path.endsWith("/model-versions/get-download-uri")) {
    const modelId = versionModels.get(x.query.version![0]!);
    if (!modelId) return;
    const expected = `mlflow-artifacts:/${loggedModels.get(modelId)!.experimentId}/models/${modelId}/artifacts`;
    if (body.artifact_uri !== expected)
      report.problems.push(`${where}: artifact_uri ${JSON.stringify(body.artifact_uri)}, expected ${expected}`);
    report.loggedModelDownloadUris++;
  }
}

describe("replay of the recorded MLflow client workflow (tracking, artifacts, registry)", () => {
  it("answers every request of the MLflow 2.12 client's workflow as MLflow's server did", async () => {
    const report = await replay(mlflow212, "2.12.2");
    expect(report.problems).toEqual([]);
    expect(report.counts).toEqual({ tracking: 24, registry: 46, upload: 18, listing: 8, download: 18 });
    expect(report.productionPromotions).toBe(2);
  });

  it("answers every request of the MLflow 3.5 client's workflow as MLflow's server did", async () => {
    const report = await replay(mlflow35, "3.5.1");
    expect(report.problems).toEqual([]);
    expect(report.counts).toEqual({ tracking: 44, registry: 63, upload: 10, listing: 6, download: 10 });
    expect(report.productionPromotions).toBe(2);
    // Both versions were registered from logged models (run_id filled in by the server) and the
    // model was loaded through get-download-uri twice: each answer checked explicitly above.
    expect(report.versionsFromLoggedModels).toBe(2);
    expect(report.loggedModelDownloadUris).toBe(2);
  });
});
