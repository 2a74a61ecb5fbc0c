import type { Command } from "commander";
import { STAGES } from "../../domain/stages";
import { pull } from "../../client/pull";
import { action, UsageError, wholeNumber, type RunContext } from "../command";
import { formatBytes, TransferBar } from "../progress";

/** `modelgate pull NAME@REF DIR`: a version's files onto disk, in parallel, resumed, sha256-verified. */
export function registerPull(program: Command, ctx: RunContext): void {
  program
    .command("pull")
    .summary("download a model version's files into a directory, verifying every sha256")
    .description("Download a model version's files into a directory, in parallel, verifying every sha256.")
    .usage("<name>[@<ref>] <dir> [options]")
    .argument(
      "<name@ref>",
      "model and ref: fraud@Production, fraud/3, fraud@champion, fraud@@champion, models:/fraud@champion; a bare name means @Production",
    )
    .argument("<dir>", "target directory (created if missing)")
    .option("-j, --concurrency <n>", "files downloading at once", "4")
    .option("-q, --quiet", "no progress bar and no summary")
    .addHelpText(
      "after",
      `
<ref> is a stage (Production, Staging, None, Archived), a version number, 'latest' or an alias.
A '<name>@<word>' that is no stage, number or 'latest' is an alias, as in MLflow's
models:/<name>@<alias>; '@@<alias>' says so explicitly.
Files land in <dir>/<path>.part first and are renamed once their sha256 matches; an interrupted
pull resumes those .part files with Range requests, and a file at <path> that is shorter than the
manifest's is resumed the same way (downloaded whole instead if the result does not verify: it
was another file). Exit code 0 only when every file verified, 3 when one did not (the bad .part
is removed, no corrupt file is left).`,
    )
    .action(
      action(
        ctx,
        async ({ ctx, options, client }, opts: { concurrency: string; quiet?: boolean }, spec: string, dir: string) => {
          const { name, ref } = parseModelSpec(spec);
          const concurrency = wholeNumber(opts.concurrency, "--concurrency", 1, 64);
          const registry = client();
          const bar = new TransferBar(ctx.stderr, !opts.quiet && !options.json);
          const started = Date.now();
          let result;
          try {
            result = await pull(registry, name, ref, dir, { concurrency, onProgress: (p) => bar.update(p) });
          } finally {
            bar.stop();
          }
          const { model, files } = result;
          const resumed = files.filter((f) => f.outcome === "resumed").length;
          const present = files.filter((f) => f.outcome === "present").length;
          const notes = [`fetched ${formatBytes(result.bytesFetched)}`];
          if (resumed) notes.push(`${resumed} resumed`);
          if (present) notes.push(`${present} already present`);
          return {
            json: {
              name: model.name,
              version: model.version,
              stage: model.stage,
              aliases: model.aliases,
              dir: result.dir,
              files: files.map((f) => ({
                path: f.path,
                size: f.size,
                sha256: f.sha256,
                outcome: f.outcome,
                bytes_fetched: f.bytesFetched,
              })),
              bytes_total: result.bytesTotal,
              bytes_fetched: result.bytesFetched,
            },
            text: opts.quiet
              ? []
              : [
                  `Pulled ${model.name} version ${model.version} (${model.stage}) into ${dir}: ${files.length} file(s), ` +
                    `${formatBytes(result.bytesTotal)}, all sha256 verified (${notes.join(", ")}) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
                ],
          };
        },
      ),
    );
}

const STAGE_NAMES = new Set(STAGES.map((s) => s.toLowerCase()));

/**
 * `name@ref`, `name/ref` or `name` (Production), optionally as an MLflow `models:/` URI. Names
 * cannot contain `/` but may contain `@`, and aliases cannot, so the last `@` splits.
 */
export function parseModelSpec(input: string): { name: string; ref: string } {
  const spec = input.startsWith("models:/") ? input.slice("models:/".length) : input;
  let name: string;
  let ref: string;
  const slash = spec.indexOf("/");
  const at = spec.lastIndexOf("@");
  if (slash >= 0) {
    [name, ref] = [spec.slice(0, slash), spec.slice(slash + 1)];
  } else if (at >= 0) {
    [name, ref] = [spec.slice(0, at), spec.slice(at + 1)];
    if (name.endsWith("@")) {
      name = name.slice(0, -1);
      ref = `@${ref}`;
    } else if (!isPlainRef(ref)) {
      ref = `@${ref}`;
    }
  } else {
    [name, ref] = [spec, "Production"];
  }
  if (name === "" || ref === "" || ref === "@" || ref.includes("/")) {
    throw new UsageError(`cannot read '${input}' as <name>@<ref>, <name>/<ref> or <name>`);
  }
  return { name, ref };
}

function isPlainRef(ref: string): boolean {
  return /^\d+$/.test(ref) || ref.toLowerCase() === "latest" || STAGE_NAMES.has(ref.toLowerCase());
}
