import { Hono } from "hono";
import { byName, guard } from "../auth";
import type { AppEnv } from "../context";
import { ListTransitions } from "../schemas/model-registry";
import { transitionJson } from "../serializers";

/** Modelgate's own endpoints under /api/2.0/modelgate. */
export const transitionRoutes = new Hono<AppEnv>();

transitionRoutes.get("/model-versions/transitions", guard("read", ListTransitions, byName), async (c) => {
  const input = c.var.input;
  const page = await c.var.services.registry.listTransitions({
    name: input.name,
    version: input.version,
    maxResults: input.max_results,
    pageToken: input.page_token,
  });
  return c.json({
    transitions: page.items.map(transitionJson),
    ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
  });
});
