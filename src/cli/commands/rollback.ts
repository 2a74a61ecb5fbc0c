import type { Command } from "commander";
import { action, type RunContext } from "../command";

/** `modelgate rollback NAME`: restore the previous Production version. */
export function registerRollback(program: Command, ctx: RunContext): void {
  program
    .command("rollback")
    .summary("restore the previous Production version")
    .description(
      "Restore the previous Production version from the transition history (the current one is archived); " +
        "recorded as a transition with its own event. Exits 1 when there is no earlier Production version.",
    )
    .argument("<name>", "registered model name")
    .option("--comment <text>", "a note recorded in the transition history")
    .action(
      action(ctx, async ({ client }, opts: { comment?: string }, name: string) => {
        const result = await client().rollback(name, { comment: opts.comment });
        const restored = result.model_version;
        const archived = result.archived_version ? ` (version ${result.archived_version} archived)` : "";
        return { json: result, text: [`${name} version ${restored.version} is in Production again${archived}`] };
      }),
    );
}
