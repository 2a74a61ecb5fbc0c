import { InvalidParameterError } from "../errors";
import type { Page } from "../domain/model";
import { decodePageToken, encodePageToken, validateMaxResults } from "../domain/paging";
import type { RegistryEvent } from "../domain/events";
import type { EventRepository } from "../repositories/event-repository";
import type { RegistryService } from "./registry-service";

const EVENTS_PAGE = { fallback: 100, max: 1000 };

/** Reads a model's events (the outbox) in sequence order, for pipelines that poll instead of receiving webhooks. */
export class EventService {
  constructor(
    private readonly registry: RegistryService,
    private readonly events: EventRepository,
  ) {}

  /**
   * The events of the model named `name` (its current incarnation: a deleted model's events stay
   * in the outbox but its name no longer leads to them) after `afterSequence`, or after where
   * `pageToken` left off.
   */
  async list(input: {
    name: string;
    afterSequence?: number;
    maxResults?: number;
    pageToken?: string;
  }): Promise<Page<RegistryEvent>> {
    if (input.afterSequence !== undefined && (!Number.isSafeInteger(input.afterSequence) || input.afterSequence < 0)) {
      throw new InvalidParameterError(
        `Invalid value ${input.afterSequence} for parameter 'after_sequence' supplied. It must be a non-negative integer.`,
      );
    }
    const limit = validateMaxResults(input.maxResults, EVENTS_PAGE.fallback, EVENTS_PAGE.max);
    // The token carries the last sequence of the page before (paging by key, not offset: new events only append).
    const after = input.pageToken ? decodePageToken(input.pageToken) : (input.afterSequence ?? 0);
    const model = await this.registry.getModel(input.name);
    const rows = await this.events.page(model.id, after, limit + 1);
    return rows.length > limit
      ? { items: rows.slice(0, limit), nextPageToken: encodePageToken(rows[limit - 1]!.sequence) } // limit ≥ 1
      : { items: rows, nextPageToken: null };
  }
}
