import type * as Policies from "../../http/schemas/policies";
import { MODELGATE, type Transport } from "../transport";
import type { PolicyRecordJson, RequestOf } from "../wire-types";

/** A model's promotion policy (`/api/2.0/modelgate/registered-models/policy`). */
export class PoliciesApi {
  constructor(private readonly http: Transport) {}

  /** A model's promotion policy (`{policy: {}}` when it has none). */
  async getPolicy(name: string): Promise<PolicyRecordJson> {
    const query: RequestOf<typeof Policies.GetPolicy> = { name };
    return this.http.api("GET", `${MODELGATE}/registered-models/policy`, query);
  }

  /**
   * Replaces the model's policy: `{"Staging": [rules], "Production": [rules]}`. The policy is sent
   * as given (read from a file by the CLI): the server's schema checks it and names what is wrong.
   */
  async setPolicy(name: string, policy: unknown): Promise<PolicyRecordJson> {
    return this.http.api("PUT", `${MODELGATE}/registered-models/policy`, { name, policy });
  }

  async deletePolicy(name: string): Promise<void> {
    const query: RequestOf<typeof Policies.DeletePolicy> = { name };
    await this.http.api("DELETE", `${MODELGATE}/registered-models/policy`, query);
  }
}
