import { integer, sqliteTable } from "drizzle-orm/sqlite-core";

/**
 * One row whose `n` moves with every change to what a registry search answers from: triggers on
 * registered_models, registered_model_tags, registered_model_aliases, model_versions,
 * model_version_tags and version_scans add one to it inside the writing transaction (migration
 * 0014). Two reads of the same `n` saw the same search data, so an answer computed at `n` may be
 * served again while `n` has not moved (src/http/answer-memory.ts). Triggers rather than code in
 * the write path: no writer (the coordinator, a scan verdict, a bulk import) can forget it.
 */
export const answerGeneration = sqliteTable("answer_generation", {
  id: integer("id").primaryKey(),
  n: integer("n").notNull(),
});
