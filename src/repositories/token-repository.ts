import { and, desc, eq, gte, isNull, lt, lte, or, type SQL } from "drizzle-orm";
import type { Scope } from "../domain/scopes";
import type { Database } from "./database";
import { apiTokens, auditEvents } from "./auth-schema";

export interface TokenRecord {
  id: string;
  name: string;
  scope: Scope;
  models: string[] | null;
  createdAt: number;
  createdBy: string;
  expiresAt: number | null;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

export interface AuditEvent {
  id: number;
  timestamp: number;
  actor: string;
  action: string;
  modelName: string | null;
  version: string | null;
  status: number;
  detail: string | null;
}

export interface AuditQuery {
  model?: string;
  actor?: string;
  since?: number;
  until?: number;
  beforeId?: number;
  limit: number;
}

function toRecord(row: typeof apiTokens.$inferSelect): TokenRecord {
  return {
    id: row.id,
    name: row.name,
    scope: row.scope as Scope,
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
    await this.db.insert(apiTokens).values({ ...token, models: token.models === null ? null : JSON.stringify(token.models), secretHash });
  }

  async findByHash(secretHash: string): Promise<TokenRecord | null> {
    const row = await this.db.select().from(apiTokens).where(eq(apiTokens.secretHash, secretHash)).get();
    return row ? toRecord(row) : null;
  }

  async list(): Promise<TokenRecord[]> {
    return (await this.db.select().from(apiTokens).orderBy(desc(apiTokens.createdAt))).map(toRecord);
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

  async auditEvents(query: AuditQuery): Promise<AuditEvent[]> {
    const where: SQL[] = [];
    if (query.model !== undefined) where.push(eq(auditEvents.modelName, query.model));
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
