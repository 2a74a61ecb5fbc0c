import { compact, MODELGATE, type Transport } from "../transport";
import type { TokenJson } from "../wire-types";

/** API tokens (/api/2.0/modelgate/tokens); needs an admin token. */
export class TokensApi {
  constructor(private readonly http: Transport) {}

  async createToken(input: {
    name: string;
    scopes: string[];
    models?: string[];
    expiresIn?: number;
  }): Promise<{ token: TokenJson; secret: string }> {
    return this.http.api(
      "POST",
      `${MODELGATE}/tokens`,
      compact({ name: input.name, scopes: input.scopes, models: input.models, expires_in: input.expiresIn }),
    );
  }

  async listTokens(): Promise<TokenJson[]> {
    return (await this.http.api<{ tokens: TokenJson[] }>("GET", `${MODELGATE}/tokens`)).tokens;
  }

  async revokeToken(id: string): Promise<void> {
    await this.http.api("DELETE", `${MODELGATE}/tokens/${encodeURIComponent(id)}`, {});
  }
}
