import { Hono } from "hono";
import { requires, modelFromInput } from "../auth";
import type { AppEnv } from "../context";
import { readInput } from "../input";
import { ListTransitions } from "../schemas/model-registry";
import { transitionJson } from "../serializers";

/** Modelgate's own endpoints under /api/2.0/modelgate. */
export const transitionRoutes = new Hono<AppEnv>();

transitionRoutes.get("/model-versions/transitions", requires("read", modelFromInput), async (c) => {
  const input = await readInput(c, ListTransitions);
  const page = await c.var.services.registry.listTransitions({
    name: input.name,
    version: input.version,
    maxResults: input.max_results,
    pageToken: input.page_token,
  });
  return c.json({ transitions: page.items.map(transitionJson), ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}) });
});
