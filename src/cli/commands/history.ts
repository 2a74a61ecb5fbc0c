import type { Command } from "commander";
import { action, isoTime, table, wholeNumber, type RunContext } from "../command";

/** `modelgate history NAME`: the stage transitions of a model, newest first. */
export function registerHistory(program: Command, ctx: RunContext): void {
  program
    .command("history")
    .summary("show a model's stage transitions, newest first")
    .description(
      "Show a model's stage transitions (promotions, archivals, rollbacks) with actor, time and comment, newest first.",
    )
    .argument("<name>", "registered model name")
    .option("--version <n>", "only this version's transitions")
    .option("--limit <n>", "at most this many transitions")
    .action(
      action(ctx, async ({ client }, opts: { version?: string; limit?: string }, name: string) => {
        const version = opts.version === undefined ? undefined : wholeNumber(opts.version, "--version");
        const limit = opts.limit === undefined ? undefined : wholeNumber(opts.limit, "--limit");
        const transitions = await client().listTransitions(name, { version, limit });
        return {
          json: { transitions },
          text: table([
            ["TIME", "VERSION", "FROM", "TO", "ACTOR", "COMMENT"],
            ...transitions.map((t) => [
              isoTime(t.timestamp),
              t.version,
              t.from_stage ?? "-",
              t.to_stage,
              t.actor ?? "-",
              t.comment ?? "",
            ]),
          ]),
        };
      }),
    );
}
