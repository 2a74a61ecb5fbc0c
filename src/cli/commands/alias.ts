import type { Command } from "commander";
import { action, wholeNumber, type RunContext } from "../command";

/** `modelgate alias set|rm`: point an alias (e.g. champion) at a version, or remove it. */
export function registerAlias(program: Command, ctx: RunContext): void {
  const alias = program
    .command("alias")
    .summary("set or remove a model alias (models:/<name>@<alias>)")
    .description(
      "Aliases name a version: models:/<name>@<alias>, /v1/models/<name>/@<alias>, modelgate pull <name>@<alias>.",
    );

  alias
    .command("set")
    .description("Point an alias at a version (moving it if it exists).")
    .argument("<name>", "registered model name")
    .argument("<alias>", "alias, e.g. champion")
    .argument("<version>", "version number")
    .action(
      action(ctx, async ({ client }, _opts, name: string, aliasName: string, version: string) => {
        const number = wholeNumber(version, "<version>");
        const registry = client();
        await registry.setAlias(name, aliasName, number);
        const modelVersion = await registry.getVersionByAlias(name, aliasName);
        return {
          json: { name, alias: aliasName, version: modelVersion.version, model_version: modelVersion },
          text: [`${name}@${aliasName} -> version ${modelVersion.version}`],
        };
      }),
    );

  alias
    .command("rm")
    .alias("delete")
    .description("Remove an alias (the version stays).")
    .argument("<name>", "registered model name")
    .argument("<alias>", "alias to remove")
    .action(
      action(ctx, async ({ client }, _opts, name: string, aliasName: string) => {
        await client().deleteAlias(name, aliasName);
        return { json: { name, alias: aliasName, deleted: true }, text: [`removed ${name}@${aliasName}`] };
      }),
    );
}
