import type { Command } from "commander";
import { ModelgateHttpError } from "../../client/errors";
import { action, isoTime, table, type RunContext } from "../command";

/** `modelgate models ls|create`: registered models with their Production and Staging versions. */
export function registerModels(program: Command, ctx: RunContext): void {
  const models = program
    .command("models")
    .summary("list or create registered models")
    .description("Registered models.");
  models
    .command("create")
    .description("Create a registered model (push creates it too, on its first version).")
    .argument("<name>", "registered model name")
    .option("--description <text>", "the model's description")
    .option("--exist-ok", "succeed (exit 0) when the model exists already")
    .action(
      action(ctx, async ({ client }, opts: { description?: string; existOk?: boolean }, name: string) => {
        const registry = client();
        let created = true;
        let model;
        try {
          model = await registry.createModel(name, { description: opts.description });
        } catch (error) {
          if (!(opts.existOk && error instanceof ModelgateHttpError && error.errorCode === "RESOURCE_ALREADY_EXISTS"))
            throw error;
          model = await registry.getModel(name);
          created = false;
        }
        return {
          json: { registered_model: model, created },
          text: [created ? `created model ${name}` : `model ${name} exists`],
        };
      }),
    );
  models
    .command("ls")
    .alias("list")
    .description("List registered models: name, Production and Staging versions, aliases, last update.")
    .option("--filter <filter>", "MLflow search filter, e.g. \"name LIKE 'fraud%'\"")
    .action(
      action(ctx, async ({ client }, opts: { filter?: string }) => {
        const registeredModels = await client().listModels({ filter: opts.filter });
        const stage = (m: (typeof registeredModels)[number], s: string) =>
          m.latest_versions?.find((v) => v.current_stage === s)?.version ?? "-";
        return {
          json: { registered_models: registeredModels },
          text: table([
            ["NAME", "PRODUCTION", "STAGING", "ALIASES", "UPDATED"],
            ...registeredModels.map((m) => [
              m.name,
              stage(m, "Production"),
              stage(m, "Staging"),
              (m.aliases ?? []).map((a) => `${a.alias}=${a.version}`).join(",") || "-",
              isoTime(m.last_updated_timestamp),
            ]),
          ]),
        };
      }),
    );
}
