import { InvalidParameterError, NotFoundError, RegistryError } from "../errors";
import { parseScopes, type Scope } from "../domain/scopes";
import { authorize, governs, type Principal } from "../domain/principal";
import { validateModelName } from "../domain/limits";
import type { AuditEvent, AuditQuery, TokenRecord } from "../domain/tokens";
import type { TokenRepository } from "../repositories/token-repository";
import { toHex } from "../domain/hex";
import { systemClock, type Clock } from "../domain/clock";

export interface AuthConfig {
  enabled: boolean;
  /** The bootstrap admin secret (MODELGATE_ADMIN_TOKEN). */
  adminToken: string | null;
}

const LOCAL_USER: Principal = { actor: "local", scope: "admin", models: null, tokenId: null };
const TOKEN_PREFIX = "mg_";
const MAX_TOKEN_NAME = 100;

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

const unauthenticated = (message: string) => new RegistryError("UNAUTHENTICATED", message);

/**
 * Tokens and their rights. Secrets are random (256 bits), shown once, and stored only as a
 * SHA-256 hash; the bootstrap admin secret is compared in constant time.
 */
export class AuthService {
  private readonly recent = new Map<string, { token: TokenRecord; until: number }>();

  constructor(
    private readonly tokens: TokenRepository,
    private readonly config: AuthConfig,
    private readonly clock: Clock = systemClock,
  ) {}

  get enabled(): boolean {
    return this.config.enabled;
  }

  /** Maps credentials (a bearer token, or basic auth whose password is a token) to a principal. */
  async authenticate(authorization: string | undefined): Promise<Principal> {
    if (!this.config.enabled) return LOCAL_USER;
    const secret = parseCredentials(authorization);
    if (!secret)
      throw unauthenticated(
        "Missing credentials: send 'Authorization: Bearer <token>' (MLFLOW_TRACKING_TOKEN) or basic auth with the token as password.",
      );
    if (
      this.config.adminToken &&
      crypto.subtle.timingSafeEqual(await sha256(secret), await sha256(this.config.adminToken))
    ) {
      return { actor: "admin", scope: "admin", models: null, tokenId: null };
    }
    const token = await this.lookup(secret);
    const now = this.clock();
    if (!token || token.revokedAt !== null) throw unauthenticated("Invalid or revoked token.");
    if (token.expiresAt !== null && token.expiresAt <= now) throw unauthenticated(`Token '${token.name}' expired.`);
    void this.tokens.touch(token.id, now).catch(() => undefined);
    return { actor: token.name, scope: token.scope, models: token.models, tokenId: token.id };
  }

  /** Refuses (403) what the principal may not do; `model` narrows the check to one model. */
  authorize(principal: Principal, needed: Scope, model?: string): void {
    authorize(principal, needed, model);
  }

  /** Creates a token; its secret is returned here and never again. */
  async createToken(
    creator: Principal,
    input: { name: string; scopes: string[]; models?: string[]; expiresIn?: number },
  ): Promise<{ token: TokenRecord; secret: string }> {
    const name = input.name.trim();
    if (name === "" || name.length > MAX_TOKEN_NAME)
      throw new InvalidParameterError(`A token name must be 1 to ${MAX_TOKEN_NAME} characters.`);
    const scope = parseScopes(input.scopes);
    // Nobody hands out more than they hold.
    this.authorize(creator, scope);
    const models = input.models === undefined ? null : [...new Set(input.models.map(validateModelName))];
    if (models !== null && models.length === 0)
      throw new InvalidParameterError("'models', when given, must name at least one model.");
    if (!governs(creator, models)) {
      throw new RegistryError(
        "PERMISSION_DENIED",
        "A token narrowed to models can only create tokens for those models.",
      );
    }
    if (input.expiresIn !== undefined && (!Number.isInteger(input.expiresIn) || input.expiresIn < 1)) {
      throw new InvalidParameterError("expires_in must be a positive number of seconds.");
    }
    const now = this.clock();
    const secret = `${TOKEN_PREFIX}${toHex(crypto.getRandomValues(new Uint8Array(32)).buffer)}`;
    const token: TokenRecord = {
      id: crypto.randomUUID().replaceAll("-", ""),
      name,
      scope,
      models,
      createdAt: now,
      createdBy: creator.actor,
      expiresAt: input.expiresIn === undefined ? null : now + input.expiresIn * 1000,
      lastUsedAt: null,
      revokedAt: null,
    };
    await this.tokens.insert(token, toHex((await sha256(secret)).buffer as ArrayBuffer));
    return { token, secret };
  }

  /** The tokens `viewer` governs: all for an unrestricted admin, else those bound to its own models. */
  listTokens(viewer: Principal): Promise<TokenRecord[]> {
    return this.tokens.list(viewer.models);
  }

  /** Revokes a token `revoker` governs; any other id answers as unknown (its existence is not confirmed). */
  async revokeToken(revoker: Principal, id: string): Promise<void> {
    const token = await this.tokens.findById(id);
    if (!token || token.revokedAt !== null || !governs(revoker, token.models))
      throw new NotFoundError(`No live token with id ${id}.`);
    if (!(await this.tokens.revoke(id, this.clock()))) throw new NotFoundError(`No live token with id ${id}.`);
    this.recent.clear();
  }

  audit(event: Omit<AuditEvent, "id">): Promise<void> {
    return this.tokens.audit(event);
  }

  /**
   * The audit trail as `viewer` may read it: a narrowed admin sees only rows of models it holds
   * (asking for another model is refused), never model-less rows.
   */
  auditEvents(viewer: Principal, query: AuditQuery): Promise<AuditEvent[]> {
    if (query.model !== undefined) authorize(viewer, "admin", query.model);
    return this.tokens.auditEvents({ ...query, models: viewer.models ?? undefined });
  }

  /** Lookups are remembered for a few seconds per isolate; revocation here clears them at once. */
  private async lookup(secret: string): Promise<TokenRecord | null> {
    const hash = toHex((await sha256(secret)).buffer as ArrayBuffer);
    const now = this.clock();
    const hit = this.recent.get(hash);
    if (hit && hit.until > now) return hit.token;
    const token = await this.tokens.findByHash(hash);
    if (token) {
      if (this.recent.size > 1000) this.recent.clear();
      this.recent.set(hash, { token, until: now + 5_000 });
    }
    return token;
  }
}

/** `Bearer <token>`, or `Basic base64(user:token)` as the MLflow client sends MLFLOW_TRACKING_USERNAME/PASSWORD. */
export function parseCredentials(header: string | undefined): string | null {
  if (!header) return null;
  const [kind = "", value] = header.trim().split(/\s+/, 2);
  if (!value) return null;
  if (kind.toLowerCase() === "bearer") return value;
  if (kind.toLowerCase() === "basic") {
    try {
      const decoded = atob(value);
      const colon = decoded.indexOf(":");
      return colon >= 0 && colon < decoded.length - 1 ? decoded.slice(colon + 1) : null;
    } catch {
      return null;
    }
  }
  return null;
}
