import type { Tag } from "../domain/model";
import type { DatasetInput, Experiment, LoggedModel, Metric, Run, RunArtifacts, RunInfo } from "../domain/tracking";

// Tracking's wire shapes (mlflow/protos/service.proto): snake_case, ids as strings, int64 times as
// numbers, unset fields and empty lists omitted. A run always carries `inputs` and `outputs`
// objects, even empty, as MLflow's server answers.

type Json = Record<string, unknown>;

function compact(obj: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(obj)) {
    if (v === null || v === undefined) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    out[k] = v;
  }
  return out;
}

const tags = (list: Tag[]) => list.map((t) => ({ key: t.key, value: t.value }));

/** Protobuf's JSON form of a double: NaN and the infinities travel as strings. */
function double(value: number): number | string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "Infinity";
  if (value === Number.NEGATIVE_INFINITY) return "-Infinity";
  return value;
}

export function experimentJson(e: Experiment): Json {
  return compact({
    experiment_id: e.experimentId,
    name: e.name,
    artifact_location: e.artifactLocation,
    lifecycle_stage: e.lifecycleStage,
    last_update_time: e.lastUpdateTime,
    creation_time: e.creationTime,
    tags: tags(e.tags),
  });
}

export function runInfoJson(i: RunInfo): Json {
  return compact({
    run_uuid: i.runId,
    experiment_id: i.experimentId,
    run_name: i.runName,
    user_id: i.userId,
    status: i.status,
    start_time: i.startTime,
    end_time: i.endTime,
    artifact_uri: i.artifactUri,
    lifecycle_stage: i.lifecycleStage,
    run_id: i.runId,
  });
}

export function metricJson(m: Metric): Json {
  return compact({
    key: m.key,
    value: double(m.value),
    timestamp: m.timestamp,
    step: m.step,
    dataset_name: m.datasetName,
    dataset_digest: m.datasetDigest,
    model_id: m.modelId,
    run_id: m.runId,
  });
}

function datasetInputJson(d: DatasetInput): Json {
  return compact({
    tags: tags(d.tags),
    dataset: compact({
      name: d.dataset.name,
      digest: d.dataset.digest,
      source_type: d.dataset.sourceType,
      source: d.dataset.source,
      schema: d.dataset.schema,
      profile: d.dataset.profile,
    }),
  });
}

export function runJson(run: Run): Json {
  return {
    info: runInfoJson(run.info),
    data: compact({
      metrics: run.data.metrics.map(metricJson),
      params: tags(run.data.params),
      tags: tags(run.data.tags),
    }),
    inputs: compact({
      dataset_inputs: run.inputs.datasetInputs.map(datasetInputJson),
      model_inputs: run.inputs.modelInputs.map((m) => ({ model_id: m.modelId })),
    }),
    outputs: compact({ model_outputs: run.outputs.modelOutputs.map((m) => ({ model_id: m.modelId, step: m.step })) }),
  };
}

export function loggedModelJson(m: LoggedModel): Json {
  return {
    info: compact({
      model_id: m.modelId,
      experiment_id: m.experimentId,
      name: m.name,
      creation_timestamp_ms: m.creationTime,
      last_updated_timestamp_ms: m.lastUpdatedTime,
      artifact_uri: m.artifactUri,
      status: m.status,
      // MLflow answers model_type even when empty.
      model_type: m.modelType,
      source_run_id: m.sourceRunId,
      status_message: m.statusMessage,
      tags: tags(m.tags),
    }),
    data: compact({ params: tags(m.params), metrics: m.metrics.map(metricJson) }),
  };
}

/** MLflow's ListArtifacts response: folders carry no size; an empty folder has no `files`. */
export function runArtifactsJson(a: RunArtifacts): Json {
  return compact({
    root_uri: a.rootUri,
    files: a.files.map((f) =>
      f.isDir ? { path: f.path, is_dir: true } : { path: f.path, is_dir: false, file_size: f.fileSize },
    ),
  });
}
