import { STAGES } from "../../domain/stages";
import { pull, type PullProgress } from "../../client/pull";
import { UsageError, type Command } from "../command";
import { formatBytes, ProgressBar } from "../progress-bar";

export const pullCommand: Command = {
  name: "pull",
  summary: "download a model version's files into a directory, verifying every sha256",
  usage: "<name>[@<ref>] <dir>",
  details: [
    "<ref> is a stage (Production, Staging, None, Archived), a version number, 'latest' or an alias:",
    "  fraud@Production, fraud/3, fraud@champion, fraud@@champion, models:/fraud@champion",
    "  <name> alone means <name>@Production. A '<name>@<word>' that is no stage, number or 'latest'",
    "  is an alias, as in MLflow's models:/<name>@<alias>; '@@<alias>' says so explicitly.",
    "Files land in <dir>/<path>.part first and are renamed once their sha256 matches; an interrupted",
    "pull resumes those .part files with Range requests. Exit code 0 only when every file verified.",
    "",
    "Options:",
    "  -j, --concurrency <n>  files downloading at once (default 4)",
    "  -q, --quiet            no progress bar and no summary",
  ].join("\n"),
  options: {
    concurrency: { type: "string", short: "j" },
    quiet: { type: "boolean", short: "q" },
  },
  async run({ positionals, values }, ctx) {
    if (positionals.length !== 2) throw new UsageError(`expected <name>[@<ref>] and <dir>, got ${positionals.length} argument(s)`);
    const [spec, dir] = positionals;
    const { name, ref } = parseModelSpec(spec);
    const concurrency = values.concurrency === undefined ? undefined : Number(values.concurrency);
    if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency >= 1 && concurrency <= 64)) {
      throw new UsageError(`--concurrency must be a whole number from 1 to 64, got '${values.concurrency}'`);
    }
    const client = ctx.client(values);
    const quiet = values.quiet === true;
    const bar = new ProgressBar(ctx.stderr);
    const started = Date.now();
    let last: PullProgress | undefined;
    const onProgress = (p: PullProgress) => {
      last = p;
      bar.update(p);
    };
    let result;
    try {
      result = await pull(client, name, ref, dir, { concurrency, onProgress: quiet ? undefined : onProgress });
    } finally {
      bar.finish(last);
    }
    if (!quiet) {
      const { model, files } = result;
      const resumed = files.filter((f) => f.outcome === "resumed").length;
      const present = files.filter((f) => f.outcome === "present").length;
      const notes = [`fetched ${formatBytes(result.bytesFetched)}`];
      if (resumed) notes.push(`${resumed} resumed`);
      if (present) notes.push(`${present} already present`);
      ctx.stdout.write(
        `Pulled ${model.name} version ${model.version} (${model.stage}) into ${dir}: ${files.length} file(s), ` +
          `${formatBytes(result.bytesTotal)}, all sha256 verified (${notes.join(", ")}) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
      );
    }
    return 0;
  },
};

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
