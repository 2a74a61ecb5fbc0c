import { z } from "zod";
import { bool, stringList, tagList } from "../input";

// Request messages of MLflow's service.proto (Tracking) and its MLflow 3 logged-model messages,
// named after them. Unknown fields are dropped, as MLflow's server ignores them. Enum values
// (statuses, view types) are checked by the domain, which names the accepted values.

// Fields that arrive as either a JSON number or text are normalized before validation, so a missing
// one is reported as missing (a union would only say "invalid input").
const numberAsText = (v: unknown) => (typeof v === "number" ? String(v) : v);
/** Experiment ids are strings of digits; tolerate a JSON number. */
const experimentId = z.preprocess(numberAsText, z.string());
/** Proto enums arrive as names or numbers; the domain checks them. */
const enumValue = z.preprocess(numberAsText, z.string());
/** A double; protobuf's JSON carries NaN and the infinities as strings. The domain parses it. */
const double = z.preprocess(numberAsText, z.string());
/** int64: a JSON number, or digits (query strings, protobuf's JSON form of int64). */
const int = z.preprocess((v) => (typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : v), z.number().int());

/** Older clients send `run_uuid`, newer ones `run_id` (MLflow's client sends both). */
function withRunId<T extends z.ZodRawShape>(shape: T) {
  return z.preprocess(
    (raw) =>
      raw && typeof raw === "object" && !Array.isArray(raw) && !("run_id" in raw) && "run_uuid" in raw
        ? { ...raw, run_id: (raw as { run_uuid: unknown }).run_uuid }
        : raw,
    z.object({ run_id: z.string(), ...shape }),
  );
}

export const CreateExperiment = z.object({
  name: z.string(),
  artifact_location: z.string().optional(),
  tags: tagList.optional(),
});
export const GetExperiment = z.object({ experiment_id: experimentId });
export const GetExperimentByName = z.object({ experiment_name: z.string() });
export const SearchExperiments = z.object({
  max_results: int.optional(),
  page_token: z.string().optional(),
  filter: z.string().optional(),
  order_by: stringList.optional(),
  view_type: enumValue.optional(),
});
export const UpdateExperiment = z.object({ experiment_id: experimentId, new_name: z.string().optional() });
export const DeleteExperiment = z.object({ experiment_id: experimentId });
export const RestoreExperiment = z.object({ experiment_id: experimentId });
export const SetExperimentTag = z.object({ experiment_id: experimentId, key: z.string(), value: z.string() });

export const CreateRun = z.object({
  experiment_id: experimentId.optional(),
  user_id: z.string().optional(),
  start_time: int.optional(),
  tags: tagList.optional(),
  run_name: z.string().optional(),
});
export const GetRun = withRunId({});
export const UpdateRun = withRunId({
  status: enumValue.optional(),
  end_time: int.optional(),
  run_name: z.string().optional(),
});
export const DeleteRun = z.object({ run_id: z.string() });
export const RestoreRun = z.object({ run_id: z.string() });
export const SearchRuns = z.object({
  experiment_ids: stringList.optional(),
  filter: z.string().optional(),
  run_view_type: enumValue.optional(),
  max_results: int.optional(),
  order_by: stringList.optional(),
  page_token: z.string().optional(),
});

const metricFields = {
  key: z.string(),
  value: double,
  timestamp: int,
  step: int.optional(),
  model_id: z.string().optional(),
  dataset_name: z.string().optional(),
  dataset_digest: z.string().optional(),
};
export const LogMetric = withRunId(metricFields);
export const LogParam = withRunId({ key: z.string(), value: z.string() });
export const SetTag = withRunId({ key: z.string(), value: z.string() });
export const DeleteTag = z.object({ run_id: z.string(), key: z.string() });
export const LogBatch = z.object({
  run_id: z.string(),
  metrics: z.array(z.object(metricFields)).optional(),
  params: tagList.optional(),
  tags: tagList.optional(),
});
export const LogModel = z.object({ run_id: z.string(), model_json: z.string() });
export const LogInputs = z.object({
  run_id: z.string(),
  datasets: z
    .array(
      z.object({
        tags: tagList.optional(),
        dataset: z
          .object({
            name: z.string().optional(),
            digest: z.string().optional(),
            source_type: z.string().optional(),
            source: z.string().optional(),
            schema: z.string().optional(),
            profile: z.string().optional(),
          })
          .optional(),
      }),
    )
    .optional(),
  models: z.array(z.object({ model_id: z.string() })).optional(),
});
export const LogOutputs = z.object({
  run_id: z.string(),
  models: z.array(z.object({ model_id: z.string(), step: int.optional() })),
});
export const ListArtifacts = withRunId({ path: z.string().optional(), page_token: z.string().optional() });
export const GetMetricHistory = withRunId({
  metric_key: z.string(),
  max_results: int.optional(),
  page_token: z.string().optional(),
});

export const CreateLoggedModel = z.object({
  experiment_id: experimentId,
  name: z.string().optional(),
  model_type: z.string().optional(),
  source_run_id: z.string().optional(),
  params: tagList.optional(),
  tags: tagList.optional(),
});
export const FinalizeLoggedModel = z.object({ status: enumValue });
export const SearchLoggedModels = z.object({
  experiment_ids: stringList.optional(),
  filter: z.string().optional(),
  datasets: z
    .array(z.object({ dataset_name: z.string().optional(), dataset_digest: z.string().optional() }))
    .optional(),
  max_results: int.optional(),
  order_by: z
    .array(
      z.object({
        field_name: z.string(),
        ascending: bool.optional(),
        dataset_name: z.string().optional(),
        dataset_digest: z.string().optional(),
      }),
    )
    .optional(),
  page_token: z.string().optional(),
});
export const SetLoggedModelTags = z.object({ tags: tagList.optional() });
export const LogLoggedModelParams = z.object({ params: tagList.optional() });
