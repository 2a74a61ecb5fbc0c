import { Hono } from "hono";
import { z } from "zod";
import { impliedScopes } from "../../domain/scopes";
import type { TokenRecord } from "../../repositories/token-repository";
import { requires } from "../auth";
import type { AppEnv } from "../context";
import { int, readInput } from "../input";

/** Tokens and the audit trail, under /api/2.0/modelgate. */
export const accessRoutes = new Hono<AppEnv>();
const r = accessRoutes;

const CreateToken = z.object({
  name: z.string(),
  scopes: z.array(z.string()),
  models: z.array(z.string()).optional(),
  expires_in: int.optional(),
});

const ListAudit = z.object({
  model: z.string().optional(),
  actor: z.string().optional(),
  since: int.optional(),
  until: int.optional(),
  max_results: int.optional(),
  page_token: z.string().optional(),
});

function tokenJson(t: TokenRecord) {
  return {
    id: t.id,
    name: t.name,
    scopes: impliedScopes(t.scope),
    ...(t.models ? { models: t.models } : {}),
    created_at: t.createdAt,
    created_by: t.createdBy,
    ...(t.expiresAt !== null ? { expires_at: t.expiresAt } : {}),
    ...(t.lastUsedAt !== null ? { last_used_at: t.lastUsedAt } : {}),
    ...(t.revokedAt !== null ? { revoked_at: t.revokedAt } : {}),
  };
}

r.post("/tokens", requires("admin"), async (c) => {
  const input = await readInput(c, CreateToken);
  const { token, secret } = await c.var.services.auth.createToken(c.var.principal ?? localAdmin(), {
    name: input.name,
    scopes: input.scopes,
    models: input.models,
    expiresIn: input.expires_in,
  });
  // The secret is shown here and never again: only its hash is stored.
  return c.json({ token: tokenJson(token), secret });
});

r.get("/tokens", requires("admin"), async (c) => {
  return c.json({ tokens: (await c.var.services.auth.listTokens()).map(tokenJson) });
});

r.delete("/tokens/:id", requires("admin"), async (c) => {
  await c.var.services.auth.revokeToken(c.req.param("id"));
  return c.json({});
});

r.get("/audit", requires("admin"), async (c) => {
  const input = await readInput(c, ListAudit);
  const limit = Math.min(Math.max(input.max_results ?? 100, 1), 1000);
  const beforeId = input.page_token && /^\d+$/.test(input.page_token) ? Number(input.page_token) : undefined;
  const events = await c.var.services.auth.auditEvents({ model: input.model, actor: input.actor, since: input.since, until: input.until, beforeId, limit });
  return c.json({
    events: events.map((e) => ({
      id: e.id,
      timestamp: e.timestamp,
      actor: e.actor,
      action: e.action,
      ...(e.modelName !== null ? { model: e.modelName } : {}),
      status: e.status,
    })),
    ...(events.length === limit ? { next_page_token: String(events[events.length - 1].id) } : {}),
  });
});

function localAdmin() {
  return { actor: "local", scope: "admin" as const, models: null, tokenId: null };
}
