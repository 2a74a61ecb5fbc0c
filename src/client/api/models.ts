import type * as Modelgate from "../../http/schemas/modelgate";
import type * as Registry from "../../http/schemas/model-registry";
import { ModelgateHttpError } from "../errors";
import { compact, MLFLOW, MODELGATE, type Transport } from "../transport";
import type { ModelVersionJson, RegisteredModelJson, RequestOf, RollbackJson } from "../wire-types";

/** Registered models (MLflow's /api/2.0/mlflow tree), their aliases, and Modelgate's rollback. */
export class ModelsApi {
  constructor(private readonly http: Transport) {}

  /** Every registered model matching `filter` (MLflow search syntax), all pages. */
  async listModels(options: { filter?: string } = {}): Promise<RegisteredModelJson[]> {
    return this.http.allPages("registered_models", (page_token) => {
      const query: RequestOf<typeof Registry.SearchRegisteredModels> = {
        filter: options.filter,
        max_results: 1000,
        page_token,
      };
      return this.http.api("GET", `${MLFLOW}/registered-models/search`, query);
    });
  }

  async getModel(name: string): Promise<RegisteredModelJson> {
    const query: RequestOf<typeof Registry.GetRegisteredModel> = { name };
    return (
      await this.http.api<{ registered_model: RegisteredModelJson }>("GET", `${MLFLOW}/registered-models/get`, query)
    ).registered_model;
  }

  /** Creates the model; an existing one is returned unchanged when `existOk`. */
  async createModel(
    name: string,
    options: { description?: string; existOk?: boolean } = {},
  ): Promise<RegisteredModelJson> {
    try {
      const body: RequestOf<typeof Registry.CreateRegisteredModel> = compact({
        name,
        description: options.description,
      });
      return (
        await this.http.api<{ registered_model: RegisteredModelJson }>(
          "POST",
          `${MLFLOW}/registered-models/create`,
          body,
        )
      ).registered_model;
    } catch (error) {
      if (options.existOk && error instanceof ModelgateHttpError && error.errorCode === "RESOURCE_ALREADY_EXISTS")
        return this.getModel(name);
      throw error;
    }
  }

  async setAlias(name: string, alias: string, version: string | number): Promise<void> {
    const body: RequestOf<typeof Registry.SetRegisteredModelAlias> = { name, alias, version: String(version) };
    await this.http.api("POST", `${MLFLOW}/registered-models/alias`, body);
  }

  async deleteAlias(name: string, alias: string): Promise<void> {
    const query: RequestOf<typeof Registry.DeleteRegisteredModelAlias> = { name, alias };
    await this.http.api("DELETE", `${MLFLOW}/registered-models/alias`, query);
  }

  async getVersionByAlias(name: string, alias: string): Promise<ModelVersionJson> {
    const query: RequestOf<typeof Registry.GetModelVersionByAlias> = { name, alias };
    return (await this.http.api<{ model_version: ModelVersionJson }>("GET", `${MLFLOW}/registered-models/alias`, query))
      .model_version;
  }

  /**
   * Restores the previous Production version, or `to`, an earlier Production version
   * (`POST /api/2.0/modelgate/registered-models/rollback`).
   */
  async rollback(name: string, options: { to?: string | number; comment?: string } = {}): Promise<RollbackJson> {
    const version = options.to === undefined ? undefined : String(options.to);
    const body: RequestOf<typeof Modelgate.RollbackRegisteredModel> = compact({
      name,
      version,
      comment: options.comment,
    });
    return this.http.api<RollbackJson>("POST", `${MODELGATE}/registered-models/rollback`, body);
  }
}
