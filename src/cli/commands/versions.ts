import type { Command } from "commander";
import { action, isoTime, table, type RunContext } from "../command";

/** `modelgate versions ls NAME`: a model's versions, newest first. */
export function registerVersions(program: Command, ctx: RunContext): void {
  const versions = program.command("versions").summary("list a model's versions").description("Model versions.");
  versions
    .command("ls")
    .alias("list")
    .description("List a model's versions, newest first: version, stage, status, aliases, run, created.")
    .argument("<name>", "registered model name")
    .action(
      action(ctx, async ({ client }, _opts, name: string) => {
        const registry = client();
        // A model without versions answers an empty list; make an unknown name an error instead.
        await registry.getModel(name);
        const modelVersions = await registry.listVersions(name);
        return {
          json: { model_versions: modelVersions },
          text: table([
            ["VERSION", "STAGE", "STATUS", "ALIASES", "RUN", "CREATED"],
            ...modelVersions.map((v) => [
              v.version,
              v.current_stage ?? "None",
              v.status ?? "READY",
              (v.aliases ?? []).join(",") || "-",
              v.run_id ?? "-",
              isoTime(v.creation_timestamp),
            ]),
          ]),
        };
      }),
    );
}
