import { z } from "zod";
import { int, versionText } from "../input";

// Modelgate's own messages (no MLflow counterpart): the events feed and rollback.

export const ListEvents = z.object({
  name: z.string(),
  after_sequence: int.optional(),
  max_results: int.optional(),
  page_token: z.string().optional(),
});

// `version`: restore exactly this earlier Production version (without it, the previous one).
export const RollbackRegisteredModel = z.object({
  name: z.string(),
  version: versionText.optional(),
  comment: z.string().optional(),
});
