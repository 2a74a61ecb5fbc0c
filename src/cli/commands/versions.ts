import type { Command } from "commander";
import { action, isoTime, table, type RunContext, wholeNumber } from "../command";

/**
 * `modelgate versions ls NAME`: a model's versions, newest first. All of them by default (the
 * server is asked a thousand at a time); `--max-results N` stops after N and says how to go on
 * (`--page-token`, the token the registry answered), as `aws ... --max-items/--starting-token` do,
 * so a script can walk a model with 100,000 versions in slices, each as fast as the first.
 */
export function registerVersions(program: Command, ctx: RunContext): void {
  const versions = program.command("versions").summary("list a model's versions").description("Model versions.");
  versions
    .command("ls")
    .alias("list")
    .description("List a model's versions, newest first: version, stage, status, aliases, run, created.")
    .argument("<name>", "registered model name")
    .option("--max-results <n>", "list at most n versions, then print the --page-token that goes on (default: all)")
    .option("--page-token <token>", "start where an earlier `versions ls --max-results` stopped")
    .action(
      action(ctx, async ({ client }, opts: { maxResults?: string; pageToken?: string }, name: string) => {
        const limit = opts.maxResults === undefined ? undefined : wholeNumber(opts.maxResults, "--max-results");
        const registry = client();
        // A model without versions answers an empty list; make an unknown name an error instead.
        await registry.getModel(name);
        const { versions: modelVersions, nextPageToken } = await registry.versionsFrom(name, {
          limit,
          pageToken: opts.pageToken,
        });
        return {
          json: { model_versions: modelVersions, ...(nextPageToken ? { next_page_token: nextPageToken } : {}) },
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
          note: nextPageToken
            ? `more versions: modelgate versions ls ${shellWord(name)} --max-results ${limit} --page-token ${nextPageToken}`
            : undefined,
        };
      }),
    );
}

/** `name` as one shell word (the note is meant to be pasted). */
const shellWord = (name: string) => (/^[\w.@/-]+$/.test(name) ? name : `'${name.replace(/'/g, "'\\''")}'`);
