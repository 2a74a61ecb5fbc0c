import { RegistryError } from "../errors";

// Webhook secrets at rest: AES-256-GCM (Web Crypto) under keys from the MODELGATE_WEBHOOK_KEYS
// secret, `id:hex[,id:hex...]` (64 hex digits = 32 bytes each). The first key seals; every key
// opens, so a key is rotated by putting a new one first and dropping the old one once nothing is
// sealed with it (docs/webhooks.md). A stored secret reads `v1:<key id>:<iv base64>:<ciphertext
// base64>`; the webhook's id is the AES-GCM additional data, so a sealed value copied onto another
// webhook's row does not open. Rows written before encryption hold the secret in plain text: they
// still open (as themselves) and are sealed again when touched.
//
// A separate secret rather than one derived from MODELGATE_SIGNING_KEYS: dropping a signing key is
// how signed URLs are revoked at once, and that must never make webhook secrets unreadable.

const VERSION = "v1";
const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;
const SEALED = /^v1:([A-Za-z0-9_-]{1,64}):([A-Za-z0-9+/]+={0,2}):([A-Za-z0-9+/]+={0,2})$/;
const IV_BYTES = 12;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function unbase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0));
}

/** The additional authenticated data: the sealed value belongs to this webhook only. */
const additionalData = (webhookId: string) => encoder.encode(`modelgate/webhook-secret/${webhookId}`);

/** A sealed secret that cannot be opened (unknown key, altered, or sealed for another webhook). */
export class UnreadableSecretError extends RegistryError {
  constructor(message: string) {
    super("INVALID_STATE", message);
  }
}

export interface WebhookKey {
  id: string;
  key: Uint8Array;
}

/** Parses MODELGATE_WEBHOOK_KEYS; throws (naming the problem, never a key) when it is malformed. */
export function parseWebhookKeys(value: string | undefined): WebhookKey[] {
  const keys = (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry, i) => {
      const at = entry.indexOf(":");
      const id = entry.slice(0, Math.max(at, 0));
      const hex = entry.slice(at + 1);
      if (at <= 0 || !KEY_ID.test(id))
        throw new Error(`entry ${i + 1} needs the form <id>:<64 hex digits>, the id of letters, digits, '-' or '_'`);
      if (!/^[0-9a-fA-F]{64}$/.test(hex))
        throw new Error(`key '${id}' must be 64 hex digits (32 bytes: openssl rand -hex 32)`);
      return { id, key: Uint8Array.from(hex.match(/../g)!, (h) => parseInt(h, 16)) };
    });
  const ids = keys.map((k) => k.id);
  const repeated = ids.find((id, i) => ids.indexOf(id) !== i);
  if (repeated) throw new Error(`key id '${repeated}' appears twice`);
  return keys;
}

/** Whether `stored` is a sealed value (otherwise: a secret stored in plain text before encryption). */
export const isSealed = (stored: string) => SEALED.test(stored);

/** Seals and opens webhook secrets; built once per isolate from MODELGATE_WEBHOOK_KEYS. */
export class WebhookSecretBox {
  private readonly raw = new Map<string, Uint8Array>();
  private readonly imported = new Map<string, CryptoKey>();
  private readonly primary: string | null;
  private readonly problem: string | null;

  constructor(config: string | undefined) {
    let parsed: WebhookKey[] = [];
    let problem: string | null = null;
    try {
      parsed = parseWebhookKeys(config);
      if (parsed.length === 0) problem = "the MODELGATE_WEBHOOK_KEYS secret is missing";
    } catch (error) {
      problem = `MODELGATE_WEBHOOK_KEYS is malformed: ${(error as Error).message}`;
    }
    this.problem = problem;
    this.primary = problem ? null : (parsed[0]?.id ?? null);
    if (!problem) for (const { id, key } of parsed) this.raw.set(id, key);
  }

  /** The key with this id, imported once (the CryptoKey, not a pending promise, is shared by requests). */
  private async key(id: string): Promise<CryptoKey | null> {
    const cached = this.imported.get(id);
    if (cached) return cached;
    const raw = this.raw.get(id);
    if (!raw) return null;
    const key = await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
    this.imported.set(id, key);
    return key;
  }

  /** How values sealed with the first key begin (null: no key configured). */
  get sealPrefix(): string | null {
    return this.primary === null ? null : `${VERSION}:${this.primary}:`;
  }

  /** Why secrets cannot be sealed here, or null when they can. */
  get unavailable(): string | null {
    return this.problem;
  }

  /** The stored form of `secret` for webhook `webhookId`, sealed with the first key. */
  async seal(webhookId: string, secret: string): Promise<string> {
    if (this.primary === null) {
      throw new RegistryError(
        "TEMPORARILY_UNAVAILABLE",
        `Modelgate is not configured: ${this.problem}; webhook secrets cannot be stored.`,
      );
    }
    const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
    const key = (await this.key(this.primary))!;
    const sealed = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: additionalData(webhookId) },
      key,
      encoder.encode(secret),
    );
    return `${VERSION}:${this.primary}:${base64(iv)}:${base64(new Uint8Array(sealed))}`;
  }

  /** The secret a stored value holds: opened when sealed, as it is when stored in plain text. */
  async open(webhookId: string, stored: string): Promise<string> {
    const match = SEALED.exec(stored);
    if (!match) return stored;
    // SEALED's three groups are not optional: a match has all of them.
    const [keyId, iv, ciphertext] = [match[1]!, match[2]!, match[3]!];
    const key = await this.key(keyId);
    if (!key) {
      throw new UnreadableSecretError(
        `The webhook's secret is sealed with key '${keyId}', which is not in MODELGATE_WEBHOOK_KEYS${this.problem ? ` (${this.problem})` : ""}.`,
      );
    }
    try {
      const plain = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: unbase64(iv), additionalData: additionalData(webhookId) },
        key,
        unbase64(ciphertext),
      );
      return decoder.decode(plain);
    } catch {
      throw new UnreadableSecretError(
        `The webhook's secret does not open with key '${keyId}': it was altered or belongs to another webhook.`,
      );
    }
  }

  /** Whether `stored` is sealed with the first key (otherwise it is sealed again when touched). */
  isCurrent(stored: string): boolean {
    return this.primary !== null && stored.startsWith(`${VERSION}:${this.primary}:`) && isSealed(stored);
  }

  /**
   * `stored` sealed with the first key, or null when it already is, or when it cannot be (no key
   * configured, or sealed with a key that is gone: left as it is, to be reported, not lost).
   */
  async resealed(webhookId: string, stored: string): Promise<string | null> {
    if (this.primary === null || this.isCurrent(stored)) return null;
    try {
      return await this.seal(webhookId, await this.open(webhookId, stored));
    } catch (error) {
      if (error instanceof UnreadableSecretError) return null;
      throw error;
    }
  }
}
