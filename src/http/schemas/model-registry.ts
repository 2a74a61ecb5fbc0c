import { z } from "zod";
import { bool, int, stringList, tagList, versionText } from "../input";

// Request messages of MLflow's model_registry.proto, named after them. Unknown fields are dropped,
// as MLflow's server ignores them (newer clients send more).

export const CreateRegisteredModel = z.object({
  name: z.string(),
  tags: tagList.optional(),
  description: z.string().optional(),
});
export const GetRegisteredModel = z.object({ name: z.string() });
export const RenameRegisteredModel = z.object({ name: z.string(), new_name: z.string() });
export const UpdateRegisteredModel = z.object({ name: z.string(), description: z.string().optional() });
export const DeleteRegisteredModel = z.object({ name: z.string() });
export const SearchRegisteredModels = z.object({
  filter: z.string().optional(),
  max_results: int.optional(),
  order_by: stringList.optional(),
  page_token: z.string().optional(),
});
export const GetLatestVersions = z.object({ name: z.string(), stages: stringList.optional() });
export const SetRegisteredModelTag = z.object({ name: z.string(), key: z.string(), value: z.string() });
export const DeleteRegisteredModelTag = z.object({ name: z.string(), key: z.string() });
export const SetRegisteredModelAlias = z.object({ name: z.string(), alias: z.string(), version: versionText });
export const DeleteRegisteredModelAlias = z.object({ name: z.string(), alias: z.string() });
export const GetModelVersionByAlias = z.object({ name: z.string(), alias: z.string() });

export const CreateModelVersion = z.object({
  name: z.string(),
  source: z.string(),
  run_id: z.string().optional(),
  tags: tagList.optional(),
  run_link: z.string().optional(),
  description: z.string().optional(),
  model_id: z.string().optional(),
});
export const GetModelVersion = z.object({ name: z.string(), version: versionText });
export const UpdateModelVersion = z.object({
  name: z.string(),
  version: versionText,
  description: z.string().optional(),
});
export const DeleteModelVersion = z.object({ name: z.string(), version: versionText });
export const SearchModelVersions = SearchRegisteredModels;
export const TransitionModelVersionStage = z.object({
  name: z.string(),
  version: versionText,
  stage: z.string(),
  archive_existing_versions: bool.optional(),
  // Modelgate extension: a note recorded in the transition history.
  comment: z.string().optional(),
});
export const GetModelVersionDownloadUri = z.object({ name: z.string(), version: versionText });
export const SetModelVersionTag = z.object({
  name: z.string(),
  version: versionText,
  key: z.string(),
  value: z.string(),
});
export const DeleteModelVersionTag = z.object({ name: z.string(), version: versionText, key: z.string() });

export const ListTransitions = z.object({
  name: z.string(),
  version: versionText.optional(),
  max_results: int.optional(),
  page_token: z.string().optional(),
});
