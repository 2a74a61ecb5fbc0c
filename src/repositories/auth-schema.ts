import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { Scope } from "../domain/scopes";

/** API tokens: only a SHA-256 of the secret is kept; the secret is shown once, at creation. */
export const apiTokens = sqliteTable(
  "api_tokens",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    secretHash: text("secret_hash").notNull(),
    scope: text("scope").$type<Scope>().notNull(),
    /** JSON list of model names the token is narrowed to; null means every model. */
    models: text("models"),
    createdAt: integer("created_at").notNull(),
    createdBy: text("created_by").notNull(),
    expiresAt: integer("expires_at"),
    lastUsedAt: integer("last_used_at"),
    revokedAt: integer("revoked_at"),
  },
  (t) => [uniqueIndex("api_tokens_secret_hash_uq").on(t.secretHash)],
);

/** Who changed what: one row per successful mutation. */
export const auditEvents = sqliteTable(
  "audit_events",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    timestamp: integer("timestamp").notNull(),
    actor: text("actor").notNull(),
    /** The token's id (null for the bootstrap admin and the local user): names are free text. */
    tokenId: text("token_id"),
    action: text("action").notNull(),
    modelName: text("model_name"),
    version: text("version"),
    status: integer("status").notNull(),
    detail: text("detail"),
  },
  (t) => [
    index("audit_events_model_idx").on(t.modelName, t.timestamp),
    index("audit_events_actor_idx").on(t.actor, t.timestamp),
    index("audit_events_time_idx").on(t.timestamp),
  ],
);
