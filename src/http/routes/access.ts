import { Hono } from "hono";
import { z } from "zod";
import { impliedScopes } from "../../domain/scopes";
import type { TokenRecord } from "../../domain/tokens";
import { guard, requires } from "../auth";
import type { AppEnv } from "../context";
import { int } from "../input";
import type { Principal } from "../../domain/principal";

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

r.post("/tokens", guard("admin", CreateToken), async (c) => {
  const input = c.var.input;
  const { token, secret } = await c.var.services.auth.createToken(caller(c.var.principal), {
    name: input.name,
    scopes: input.scopes,
    models: input.models,
    expiresIn: input.expires_in,
  });
  // The secret is shown here and never again: only its hash is stored.
  return c.json({ token: tokenJson(token), secret });
});

r.get("/tokens", requires("admin"), async (c) => {
  return c.json({ tokens: (await c.var.services.auth.listTokens(caller(c.var.principal))).map(tokenJson) });
});

r.delete("/tokens/:id", requires("admin"), async (c) => {
  await c.var.services.auth.revokeToken(caller(c.var.principal), c.req.param("id"));
  return c.json({});
});

// A narrowed admin reads only its models' rows: the model filter is checked by the service, which
// also restricts the query (not the page) to those models.
r.get("/audit", guard("admin", ListAudit), async (c) => {
  const input = c.var.input;
  const limit = Math.min(Math.max(input.max_results ?? 100, 1), 1000);
  const beforeId = input.page_token && /^\d+$/.test(input.page_token) ? Number(input.page_token) : undefined;
  const events = await c.var.services.auth.auditEvents(caller(c.var.principal), {
    model: input.model,
    actor: input.actor,
    since: input.since,
    until: input.until,
    beforeId,
    limit,
  });
  const last = events.length === limit ? events.at(-1) : undefined; // a full page may have more after it
  return c.json({
    events: events.map((e) => ({
      id: e.id,
      timestamp: e.timestamp,
      actor: e.actor,
      ...(e.tokenId !== null ? { token_id: e.tokenId } : {}),
      action: e.action,
      ...(e.modelName !== null ? { model: e.modelName } : {}),
      ...(e.version !== null ? { version: e.version } : {}),
      status: e.status,
      ...(e.detail !== null ? { detail: e.detail } : {}),
    })),
    ...(last ? { next_page_token: String(last.id) } : {}),
  });
});

/** The guard has set the principal by the time a handler runs. */
function caller(principal: Principal | undefined): Principal {
  if (!principal) throw new Error("access route reached without a principal");
  return principal;
}
