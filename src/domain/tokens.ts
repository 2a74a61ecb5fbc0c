import type { Scope } from "./scopes";

/** An API token as the registry keeps it (its secret is never kept: only a hash, in the repository). */
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

/** One row of the audit trail: who changed what, and how it answered. */
export interface AuditEvent {
  id: number;
  timestamp: number;
  actor: string;
  /** The acting token's id (null for the bootstrap admin and the local user). */
  tokenId: string | null;
  action: string;
  modelName: string | null;
  version: string | null;
  status: number;
  detail: string | null;
}

/** A page of the audit trail, newest first, narrowed by model, actor and time. */
export interface AuditQuery {
  model?: string;
  /** Only rows of these models (a narrowed reader); undefined means every row. */
  models?: string[];
  actor?: string;
  since?: number;
  until?: number;
  beforeId?: number;
  limit: number;
}
