import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { RESEND_POLICY, resendDelayMs } from "../../src/domain/resend-policy";
import { readMaintenanceConfig } from "../../src/maintenance/maintenance-config";
import type { Health } from "../../src/domain/health";
import { MaintenanceService } from "../../src/maintenance/maintenance-service";
import { Retention } from "../../src/maintenance/retention";
import { openDatabase } from "../../src/repositories/database";
import { EventRepository } from "../../src/repositories/event-repository";
import { TokenRepository } from "../../src/repositories/token-repository";
import { WebhookDeliveryRepository } from "../../src/repositories/webhook-delivery-repository";
import { HealthBanner } from "../../src/ui/layout";
import { insertEvent } from "../maintenance/helpers";
import { Browser, textOf } from "./browser";

// The UI says what /health says when it is not ok: a banner on every page, from the same check
// (MaintenanceService.checkHealth, cached per isolate), counts only.

const banner = async (health: Health | null) => textOf(String((await HealthBanner({ health })) ?? "")).trim();

describe("the degraded-health banner", () => {
  it("says nothing when the registry is healthy", async () => {
    expect(await banner({ status: "ok" })).toBe("");
    expect(await banner(null)).toBe("");
  });

  it("names how many events of how many models webhooks missed, the oldest, and the sends made", async () => {
    const text = await banner({
      status: "degraded",
      checkFailed: null,
      undeliveredEvents: {
        count: 3,
        oldestTimestamp: Date.UTC(2026, 0, 2, 3, 4),
        sends: 10,
        models: [
          { modelId: "a", modelName: "secret-a", count: 2, oldestTimestamp: 0 },
          { modelId: "b", modelName: "secret-b", count: 1, oldestTimestamp: 0 },
        ],
      },
    });
    expect(text).toMatch(
      /^Registry degraded\. 3 registry events of 2 models \(the oldest from .*2026.*\) could not be handed to webhooks after 10 sends/,
    );
    expect(text).not.toContain("secret-a");
  });

  it("says when the check itself failed", async () => {
    const text = await banner({ status: "degraded", undeliveredEvents: null, checkFailed: "D1 unreachable" });
    expect(text).toContain("The health check could not run: D1 unreachable");
  });

  it("shows the real check's answer: given-up events in D1 turn the banner on (1930: no other suite's era)", async () => {
    const db = openDatabase(env.DB);
    const events = new EventRepository(db);
    const era = Date.UTC(1930, 0, 1);
    let now = era;
    const maintenance = new MaintenanceService(
      events,
      new Retention(events, new WebhookDeliveryRepository(db), new TokenRepository(db), readMaintenanceConfig({})),
      env.EVENTS,
      [],
      RESEND_POLICY,
      () => now,
    );
    const model = `health-banner-${crypto.randomUUID()}`;
    await insertEvent(model, era, { fannedOutAt: null, sentAt: era, sendCount: RESEND_POLICY.maxSends });
    try {
      now = era + resendDelayMs(RESEND_POLICY.maxSends);
      const text = await banner(await maintenance.checkHealth());
      expect(text).toMatch(/^Registry degraded\. 1 registry event of 1 model/);
    } finally {
      await env.DB.prepare("DELETE FROM events WHERE model_id = ?").bind(model).run();
    }
  });

  it("is on every page while /health is degraded", async () => {
    const model = `health-banner-${crypto.randomUUID()}`;
    const lastSend = Date.now() - resendDelayMs(RESEND_POLICY.maxSends) - 1000;
    await insertEvent(model, lastSend, { fannedOutAt: null, sentAt: lastSend, sendCount: RESEND_POLICY.maxSends });
    try {
      const health = await (await fetchHealth()).json<{ status: string }>();
      expect(health.status).toBe("degraded");
      for (const path of ["/", "/models/no-such-model"]) {
        const page = await new Browser().get(path);
        expect(page.html).toContain('id="health-banner"');
        expect(textOf(page.html)).toMatch(/Registry degraded\. \d+ registry events? of \d+ models?/);
      }
    } finally {
      await env.DB.prepare("DELETE FROM events WHERE model_id = ?").bind(model).run();
    }
  });
});

async function fetchHealth(): Promise<Response> {
  const { exports } = await import("cloudflare:workers");
  return exports.default.fetch(new Request("http://modelgate.test/health"));
}
