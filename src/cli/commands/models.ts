import type { Command } from "commander";
import { action, isoTime, table, type RunContext } from "../command";

/** `modelgate models ls`: registered models with their Production and Staging versions. */
export function registerModels(program: Command, ctx: RunContext): void {
  const models = program.command("models").summary("list registered models").description("Registered models.");
  models
    .command("ls")
    .alias("list")
    .description("List registered models: name, Production and Staging versions, aliases, last update.")
    .option("--filter <filter>", "MLflow search filter, e.g. \"name LIKE 'fraud%'\"")
    .action(
      action(ctx, async ({ client }, opts: { filter?: string }) => {
        const registeredModels = await client().listModels({ filter: opts.filter });
        const stage = (m: (typeof registeredModels)[number], s: string) => m.latest_versions?.find((v) => v.current_stage === s)?.version ?? "-";
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
