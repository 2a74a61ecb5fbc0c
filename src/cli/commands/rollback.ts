import type { Command } from "commander";
import { action, wholeNumber, type RunContext } from "../command";

/** `modelgate rollback NAME [--to VERSION]`: restore the previous (or a named earlier) Production version. */
export function registerRollback(program: Command, ctx: RunContext): void {
  program
    .command("rollback")
    .summary("restore the previous Production version (or --to an earlier one)")
    .description(
      "Restore the previous Production version from the transition history (the current one is archived); " +
        "recorded as a transition with its own event. Run again, it goes back to the version it rolled back from. " +
        "--to VERSION restores exactly that version instead: it must be READY and must have been in Production before. " +
        "Exits 1 when there is no such version (the server's reason on stderr).",
    )
    .argument("<name>", "registered model name")
    .option("--to <version>", "the earlier Production version to restore (default: the previous one)")
    .option("--comment <text>", "a note recorded in the transition history")
    .action(
      action(ctx, async ({ client }, opts: { to?: string; comment?: string }, name: string) => {
        const to = opts.to === undefined ? undefined : wholeNumber(opts.to, "--to");
        const result = await client().rollback(name, { to, comment: opts.comment });
        const restored = result.model_version;
        const archived = result.archived_version ? ` (version ${result.archived_version} archived)` : "";
        return { json: result, text: [`${name} version ${restored.version} is in Production again${archived}`] };
      }),
    );
}
