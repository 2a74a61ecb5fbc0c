import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, MODELGATE_API } from "../helpers";
import { parseWebhookKeys, WebhookSecretBox } from "../../src/webhooks/webhook-secret-box";
import {
  createWebhook,
  emit,
  eventually,
  fakeModelId,
  receiver,
  uniqueKey,
  verifyMlflowSignature,
  webhookFor,
} from "./helpers";

// Webhook secrets are sealed at rest (AES-256-GCM, MODELGATE_WEBHOOK_KEYS: the first key seals,
// all open). vitest.config.ts gives the test Worker two keys, so rotation can be exercised.

const MV_CREATED = [{ entity: "model_version", action: "created" }];
const keys = parseWebhookKeys(env.MODELGATE_WEBHOOK_KEYS);
const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
/** A box holding only one of the Worker's keys, or a key the Worker does not have. */
const boxWith = (key: { id: string; key: Uint8Array }) => new WebhookSecretBox(`${key.id}:${hex(key.key)}`);
const goneKey = { id: "gone", key: crypto.getRandomValues(new Uint8Array(32)) };

const storedSecret = async (id: string) =>
  (await env.DB.prepare("SELECT secret FROM webhooks WHERE id = ?").bind(id).first<{ secret: string | null }>())!
    .secret;
const setStoredSecret = (id: string, value: string) =>
  env.DB.prepare("UPDATE webhooks SET secret = ? WHERE id = ?").bind(value, id).run();

async function testSend(webhookId: string) {
  const { status, body } = await call("POST", `/webhooks/${webhookId}/test`, {});
  expect(status).toBe(200);
  return body;
}

async function receivedOne(key: string) {
  return eventually(async () => (await receiver.log(key))[0], 20_000, `a request at ${key}`);
}

describe("webhook secrets at rest", () => {
  it("the test Worker has two keys (vitest.config.ts), so rotation is exercised", () => {
    expect(keys.length).toBeGreaterThanOrEqual(2);
  });

  it("stores a secret sealed with the first key, never in plain text, and deliveries still verify", async () => {
    const key = uniqueKey("sealed");
    const secret = `whsec-${crypto.randomUUID()}`;
    const model = fakeModelId();
    const w = await webhookFor(model, { url: receiver.hook(key), events: MV_CREATED, secret });

    const raw = await storedSecret(w.webhook_id);
    expect(raw).toMatch(new RegExp(`^v1:${keys[0]!.id}:[A-Za-z0-9+/]+={0,2}:[A-Za-z0-9+/]+={0,2}$`));
    expect(raw).not.toContain(secret);
    expect(raw).not.toContain(btoa(secret));
    const row = JSON.stringify(await env.DB.prepare("SELECT * FROM webhooks WHERE id = ?").bind(w.webhook_id).first());
    expect(row).not.toContain(secret);

    // A registry event through the queues, signed with the secret opened from its sealed form.
    await emit(model, "model_version.created");
    const received = await receivedOne(key);
    expect(await verifyMlflowSignature(secret, received.headers, received.body)).toBe(true);
    expect(await verifyMlflowSignature(raw!, received.headers, received.body)).toBe(false);
    expect(await storedSecret(w.webhook_id)).toBe(raw); // already current: not rewritten
  });

  it("seals with a fresh IV each time, so equal secrets do not look equal", async () => {
    const [a, b] = [
      await createWebhook({ url: receiver.hook(uniqueKey()), events: MV_CREATED, secret: "same", status: "DISABLED" }),
      await createWebhook({ url: receiver.hook(uniqueKey()), events: MV_CREATED, secret: "same", status: "DISABLED" }),
    ];
    const [sa, sb] = [await storedSecret(a.webhook_id), await storedSecret(b.webhook_id)];
    expect(sa!.split(":")[2]).not.toBe(sb!.split(":")[2]);
    expect(sa!.split(":")[3]).not.toBe(sb!.split(":")[3]);
  });

  it('PATCH seals a new secret and removes one with ""', async () => {
    const key = uniqueKey("patched");
    const w = await createWebhook({
      url: receiver.hook(key),
      events: MV_CREATED,
      secret: "before",
      status: "DISABLED",
    });
    const before = await storedSecret(w.webhook_id);
    expect((await call("PATCH", `/webhooks/${w.webhook_id}`, { secret: "after" })).status).toBe(200);
    const after = await storedSecret(w.webhook_id);
    expect(after).toMatch(new RegExp(`^v1:${keys[0]!.id}:`));
    expect(after).not.toBe(before);
    await testSend(w.webhook_id);
    const received = (await receiver.log(key))[0]!;
    expect(await verifyMlflowSignature("after", received.headers, received.body)).toBe(true);
    expect((await call("PATCH", `/webhooks/${w.webhook_id}`, { secret: "" })).status).toBe(200);
    expect(await storedSecret(w.webhook_id)).toBeNull();
  });

  it("a secret stored in plain text before encryption still signs, and is sealed when a delivery touches it", async () => {
    const key = uniqueKey("legacy");
    const model = fakeModelId();
    const w = await webhookFor(model, { url: receiver.hook(key), events: MV_CREATED });
    await setStoredSecret(w.webhook_id, "legacy-plain-secret");
    await emit(model, "model_version.created");
    const received = await receivedOne(key);
    expect(await verifyMlflowSignature("legacy-plain-secret", received.headers, received.body)).toBe(true);
    const sealed = await storedSecret(w.webhook_id);
    expect(sealed).toMatch(new RegExp(`^v1:${keys[0]!.id}:`));
    expect(await new WebhookSecretBox(env.MODELGATE_WEBHOOK_KEYS).open(w.webhook_id, sealed!)).toBe(
      "legacy-plain-secret",
    );
  });

  it("a secret sealed with an older key still opens, and is sealed with the first key when touched (test, PATCH)", async () => {
    const key = uniqueKey("older");
    const old = boxWith(keys[1]!);
    const w = await createWebhook({ url: receiver.hook(key), events: MV_CREATED, status: "DISABLED" });
    await setStoredSecret(w.webhook_id, await old.seal(w.webhook_id, "sealed-long-ago"));
    expect((await testSend(w.webhook_id)).result.success).toBe(true);
    const received = (await receiver.log(key))[0]!;
    expect(await verifyMlflowSignature("sealed-long-ago", received.headers, received.body)).toBe(true);
    expect(await storedSecret(w.webhook_id)).toMatch(new RegExp(`^v1:${keys[0]!.id}:`));

    const w2 = await createWebhook({ url: receiver.hook(uniqueKey()), events: MV_CREATED, status: "DISABLED" });
    await setStoredSecret(w2.webhook_id, await old.seal(w2.webhook_id, "patched-elsewhere"));
    expect((await call("PATCH", `/webhooks/${w2.webhook_id}`, { description: "touched" })).status).toBe(200);
    const resealed = await storedSecret(w2.webhook_id);
    expect(resealed).toMatch(new RegExp(`^v1:${keys[0]!.id}:`));
    expect(await new WebhookSecretBox(env.MODELGATE_WEBHOOK_KEYS).open(w2.webhook_id, resealed!)).toBe(
      "patched-elsewhere",
    );
  });

  it("reseal-secrets seals every stale secret and reports those sealed with a key that is gone", async () => {
    const make = async (stored: (id: string) => Promise<string | null>) => {
      const w = await createWebhook({ url: receiver.hook(uniqueKey()), events: MV_CREATED, status: "DISABLED" });
      const value = await stored(w.webhook_id);
      if (value !== null) await setStoredSecret(w.webhook_id, value);
      return w.webhook_id as string;
    };
    const legacy = await make(async () => "plain-one");
    const older = await make((id) => boxWith(keys[1]!).seal(id, "older-one"));
    const gone = await make((id) => boxWith(goneKey).seal(id, "lost-one"));
    const current = await make(async () => null);
    expect((await call("PATCH", `/webhooks/${current}`, { secret: "current-one" })).status).toBe(200);
    const currentBefore = await storedSecret(current);
    const goneBefore = await storedSecret(gone);

    const first = await call("POST", "/webhooks/reseal-secrets", {}, MODELGATE_API);
    expect(first.status).toBe(200);
    expect(first.body.resealed).toBeGreaterThanOrEqual(2);
    expect(first.body.unreadable_webhook_ids).toContain(gone);
    const box = new WebhookSecretBox(env.MODELGATE_WEBHOOK_KEYS);
    for (const [id, secret] of [
      [legacy, "plain-one"],
      [older, "older-one"],
    ] as const) {
      const stored = await storedSecret(id);
      expect(box.isCurrent(stored!)).toBe(true);
      expect(await box.open(id, stored!)).toBe(secret);
    }
    expect(await storedSecret(current)).toBe(currentBefore);
    expect(await storedSecret(gone)).toBe(goneBefore); // kept, so the key can be put back

    const again = await call("POST", "/webhooks/reseal-secrets", {}, MODELGATE_API);
    expect(again.body).toEqual({ resealed: 0, unreadable_webhook_ids: first.body.unreadable_webhook_ids });
  });

  it("never sends unsigned when a secret does not open: a key that is gone, or a sealed value copied from another webhook", async () => {
    const goneKeyHook = uniqueKey("gone");
    const a = await createWebhook({ url: receiver.hook(goneKeyHook), events: MV_CREATED, status: "DISABLED" });
    await setStoredSecret(a.webhook_id, await boxWith(goneKey).seal(a.webhook_id, "lost"));
    const refused = await testSend(a.webhook_id);
    expect(refused.result.success).toBe(false);
    expect(refused.result.error_message).toMatch(/sealed with key 'gone', which is not in MODELGATE_WEBHOOK_KEYS/);
    expect(await receiver.log(goneKeyHook)).toEqual([]);

    const copiedHook = uniqueKey("copied");
    const source = await createWebhook({
      url: receiver.hook(uniqueKey()),
      events: MV_CREATED,
      secret: "belongs-to-source",
      status: "DISABLED",
    });
    const target = await createWebhook({ url: receiver.hook(copiedHook), events: MV_CREATED, status: "DISABLED" });
    await setStoredSecret(target.webhook_id, (await storedSecret(source.webhook_id))!);
    const copied = await testSend(target.webhook_id);
    expect(copied.result.success).toBe(false);
    expect(copied.result.error_message).toMatch(/altered or belongs to another webhook/);
    expect(await receiver.log(copiedHook)).toEqual([]);

    // A real delivery of such a webhook fails without a request, and can be replayed once fixed.
    const model = fakeModelId();
    const key = uniqueKey("gone-delivery");
    const w = await webhookFor(model, { url: receiver.hook(key), events: MV_CREATED });
    await setStoredSecret(w.webhook_id, await boxWith(goneKey).seal(w.webhook_id, "lost"));
    await emit(model, "model_version.created");
    const failed = await eventually(async () => {
      const log = await call("GET", `/webhooks/${w.webhook_id}/deliveries`, {}, MODELGATE_API);
      return log.body.deliveries?.find((d: { status: string }) => d.status === "FAILED");
    });
    expect(failed.last_error).toMatch(/not in MODELGATE_WEBHOOK_KEYS/);
    expect(failed.attempts).toMatchObject([{ attempt: 1, outcome: "FAILED" }]);
    expect(await receiver.log(key)).toEqual([]);
  });
});

describe("WebhookSecretBox", () => {
  it("round-trips any text, and opens a secret stored in plain text as itself", async () => {
    const box = new WebhookSecretBox(env.MODELGATE_WEBHOOK_KEYS);
    for (const secret of ["x", "ünïcødé ✓ 🔑", "a:b:c", "v1:", "s".repeat(5000)]) {
      expect(await box.open("w1", await box.seal("w1", secret))).toBe(secret);
    }
    expect(await box.open("w1", "plain text from before")).toBe("plain text from before");
  });

  it("refuses an altered ciphertext or IV", async () => {
    const box = new WebhookSecretBox(env.MODELGATE_WEBHOOK_KEYS);
    const sealed = await box.seal("w1", "secret");
    const [v, id, iv, ct] = sealed.split(":");
    const flip = (b64: string) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      bytes[0]! ^= 1;
      return btoa(String.fromCharCode(...bytes));
    };
    await expect(box.open("w1", [v, id, iv, flip(ct!)].join(":"))).rejects.toThrow(/altered/);
    await expect(box.open("w1", [v, id, flip(iv!), ct].join(":"))).rejects.toThrow(/altered/);
    await expect(box.open("w2", sealed)).rejects.toThrow(/belongs to another webhook/);
  });

  it("without keys refuses to seal (503) but still opens plain text; a malformed value is named, its keys never", async () => {
    const none = new WebhookSecretBox(undefined);
    await expect(none.seal("w", "s")).rejects.toMatchObject({
      code: "TEMPORARILY_UNAVAILABLE",
      message: expect.stringContaining("MODELGATE_WEBHOOK_KEYS secret is missing"),
    });
    expect(await none.open("w", "plain")).toBe("plain");
    expect(none.sealPrefix).toBeNull();
    const secretHex = "ab".repeat(31);
    for (const value of [
      `k1:${secretHex}`,
      `${secretHex}abab`,
      `k1:${"ab".repeat(32)},k1:${"cd".repeat(32)}`,
      `bad id:${"ab".repeat(32)}`,
    ]) {
      const box = new WebhookSecretBox(value);
      expect(box.unavailable).toMatch(/^MODELGATE_WEBHOOK_KEYS is malformed/);
      expect(box.unavailable).not.toContain(secretHex);
      await expect(box.seal("w", "s")).rejects.toMatchObject({ code: "TEMPORARILY_UNAVAILABLE" });
    }
  });
});
