import { z } from "zod";
import { int } from "../input";

// Modelgate's own messages (no MLflow counterpart): the events feed and rollback.

export const ListEvents = z.object({
  name: z.string(),
  after_sequence: int.optional(),
  max_results: int.optional(),
  page_token: z.string().optional(),
});

export const RollbackRegisteredModel = z.object({ name: z.string(), comment: z.string().optional() });
