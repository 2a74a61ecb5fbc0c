import { Hono } from "hono";
import { byName, guard } from "../auth";
import type { AppEnv } from "../context";
import { ListEvents } from "../schemas/modelgate";
import { eventJson } from "../serializers";

/** A model's registry events in sequence order, under /api/2.0/modelgate. */
export const eventRoutes = new Hono<AppEnv>();

eventRoutes.get("/events", guard("read", ListEvents, byName), async (c) => {
  const input = c.var.input;
  const page = await c.var.services.events.list({
    name: input.name,
    afterSequence: input.after_sequence,
    maxResults: input.max_results,
    pageToken: input.page_token,
  });
  return c.json({
    events: page.items.map(eventJson),
    ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
  });
});
