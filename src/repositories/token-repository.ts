import { and, desc, eq, gte, inArray, isNotNull, isNull, lt, lte, or, sql, type SQL } from "drizzle-orm";
import type { AuditEvent, AuditQuery, TokenRecord } from "../domain/tokens";
import type { Database } from "./database";
import { apiTokens, auditEvents } from "./auth-schema";

function toRecord(row: typeof apiTokens.$inferSelect): TokenRecord {
  return {
    id: row.id,
    name: row.name,
    scope: row.scope,
    models: row.models === null ? null : (JSON.parse(row.models) as string[]),
    createdAt: row.createdAt,
    createdBy: row.createdBy,
    expiresAt: row.expiresAt,
    lastUsedAt: row.lastUsedAt,
    revokedAt: row.revokedAt,
  };
}

export class TokenRepository {
  constructor(private readonly db: Database) {}

  async insert(token: TokenRecord, secretHash: string): Promise<void> {
    await this.db
      .insert(apiTokens)
      .values({ ...token, models: token.models === null ? null : JSON.stringify(token.models), secretHash });
  }

  async findByHash(secretHash: string): Promise<TokenRecord | null> {
    const row = await this.db.select().from(apiTokens).where(eq(apiTokens.secretHash, secretHash)).get();
    return row ? toRecord(row) : null;
  }

  async findById(id: string): Promise<TokenRecord | null> {
    const row = await this.db.select().from(apiTokens).where(eq(apiTokens.id, id)).get();
    return row ? toRecord(row) : null;
  }

  /**
   * Tokens, newest first. With `within`, only tokens narrowed to a non-empty subset of those
   * models (what a narrowed admin governs), filtered in the query.
   */
  async list(within: string[] | null = null): Promise<TokenRecord[]> {
    const governed =
      within === null
        ? undefined
        : and(
            isNotNull(apiTokens.models),
            sql`json_array_length(${apiTokens.models}) > 0`,
            sql`NOT EXISTS (SELECT 1 FROM json_each(${apiTokens.models}) WHERE json_each.value NOT IN (SELECT value FROM json_each(${JSON.stringify(within)})))`,
          );
    return (await this.db.select().from(apiTokens).where(governed).orderBy(desc(apiTokens.createdAt))).map(toRecord);
  }

  /** Marks the token revoked; false when there is no such live token. */
  async revoke(id: string, now: number): Promise<boolean> {
    const result = await this.db
      .update(apiTokens)
      .set({ revokedAt: now })
      .where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt)))
      .returning({ id: apiTokens.id });
    return result.length > 0;
  }

  /** Records use at most once a minute per token: a write per request would cost more than the request. */
  async touch(id: string, now: number): Promise<void> {
    await this.db
      .update(apiTokens)
      .set({ lastUsedAt: now })
      .where(and(eq(apiTokens.id, id), or(isNull(apiTokens.lastUsedAt), lt(apiTokens.lastUsedAt, now - 60_000))));
  }

  async audit(event: Omit<AuditEvent, "id">): Promise<void> {
    await this.db.insert(auditEvents).values(event);
  }

  /**
   * Audit retention (only when MODELGATE_AUDIT_RETENTION_DAYS is set): deletes up to `limit` audit
   * rows written before `before`, oldest first, in one statement along the time index. Answers
   * how many went.
   */
  async deleteAuditBefore(before: number, limit: number): Promise<number> {
    const expired = this.db
      .select({ id: auditEvents.id })
      .from(auditEvents)
      .where(lt(auditEvents.timestamp, before))
      .orderBy(auditEvents.timestamp)
      .limit(limit);
    const result = await this.db.delete(auditEvents).where(inArray(auditEvents.id, expired)).run();
    return result.meta.changes ?? 0;
  }

  async auditEvents(query: AuditQuery): Promise<AuditEvent[]> {
    const where: SQL[] = [];
    if (query.model !== undefined) where.push(eq(auditEvents.modelName, query.model));
    if (query.models !== undefined)
      where.push(query.models.length > 0 ? inArray(auditEvents.modelName, query.models) : sql`0`);
    if (query.actor !== undefined) where.push(eq(auditEvents.actor, query.actor));
    if (query.since !== undefined) where.push(gte(auditEvents.timestamp, query.since));
    if (query.until !== undefined) where.push(lte(auditEvents.timestamp, query.until));
    if (query.beforeId !== undefined) where.push(lt(auditEvents.id, query.beforeId));
    return this.db
      .select()
      .from(auditEvents)
      .where(and(...where))
      .orderBy(desc(auditEvents.id))
      .limit(query.limit);
  }
}
