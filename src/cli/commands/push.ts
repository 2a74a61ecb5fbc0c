import { stat } from "node:fs/promises";
import type { Command } from "commander";
import { push } from "../../client/push";
import { action, UsageError, wholeNumber, type RunContext } from "../command";
import { formatBytes, TransferBar } from "../progress";

const MIB = 1024 * 1024;

/** `modelgate push DIR --name N`: upload a directory, register it as a version, wait for READY. */
export function registerPush(program: Command, ctx: RunContext): void {
  program
    .command("push")
    .summary("upload a directory's files and register them as a new model version")
    .description(
      "Upload every file of <dir> through the MLflow artifact API (files of --multipart-threshold or more in parts), " +
        "create the registered model if needed, register a version from runs:/<run>/<artifact-path>, and wait until it is READY.",
    )
    .argument("<dir>", "directory holding the model files")
    .requiredOption("--name <name>", "registered model name")
    .option(
      "--run <run_id>",
      "an existing run to attach the files to (default: create one, finished when the push completes)",
    )
    .option("--experiment <name>", "experiment of the run push creates (created if missing; default: MLflow's Default)")
    .option("--artifact-path <path>", "where under the run's artifacts the files go", "model")
    .option("--description <text>", "the version's description")
    .option("--tag <key=value>", "a version tag (repeatable)", collect, [])
    .option("-j, --concurrency <n>", "requests in flight at once", "4")
    .option("--multipart-threshold <MiB>", "files this large or larger go up in parts", "50")
    .option("--part-size <MiB>", "multipart part size (R2 needs at least 5)", "50")
    .option("--timeout <seconds>", "how long to wait for READY", "300")
    .option("-q, --quiet", "no progress bar")
    .addHelpText(
      "after",
      `
Prints the new version (with --json: {"model_version": {...}, "run_id", "source", "artifact_uri", "files"}).
In a script:  VERSION=$(modelgate push ./model --name fraud --json | jq -r .model_version.version)`,
    )
    .action(
      action(
        ctx,
        async (
          { ctx, options, client },
          opts: {
            name: string;
            run?: string;
            experiment?: string;
            artifactPath: string;
            description?: string;
            tag: string[];
            concurrency: string;
            multipartThreshold: string;
            partSize: string;
            timeout: string;
            quiet?: boolean;
          },
          dir: string,
        ) => {
          const isDir = await stat(dir).then(
            (s) => s.isDirectory(),
            () => false,
          );
          if (!isDir) throw new UsageError(`'${dir}' is not a directory`);
          if (opts.run !== undefined && opts.experiment !== undefined)
            throw new UsageError("--experiment applies only to a run push creates; not with --run");
          const tags: Record<string, string> = {};
          for (const tag of opts.tag) {
            const eq = tag.indexOf("=");
            if (eq <= 0) throw new UsageError(`--tag must be key=value, got '${tag}'`);
            tags[tag.slice(0, eq)] = tag.slice(eq + 1);
          }
          const concurrency = wholeNumber(opts.concurrency, "--concurrency", 1, 64);
          const multipartThreshold = wholeNumber(opts.multipartThreshold, "--multipart-threshold", 1) * MIB;
          const partSize = wholeNumber(opts.partSize, "--part-size", 5, 5000) * MIB;
          const timeout = wholeNumber(opts.timeout, "--timeout", 1);

          const bar = new TransferBar(ctx.stderr, !opts.quiet && !options.json);
          let result;
          try {
            result = await push(client(), dir, opts.name, {
              runId: opts.run,
              experiment: opts.experiment,
              artifactPath: opts.artifactPath,
              description: opts.description,
              tags: Object.keys(tags).length ? tags : undefined,
              concurrency,
              multipartThreshold,
              partSize,
              readyTimeoutMs: timeout * 1000,
              onProgress: (p) => bar.update(p),
            });
          } finally {
            bar.stop();
          }
          const v = result.modelVersion;
          const multipart = result.files.filter((f) => f.parts > 0).length;
          return {
            json: {
              model_version: v,
              run_id: result.runId,
              run_created: result.runCreated,
              source: result.source,
              artifact_uri: result.artifactUri,
              files: result.files,
              bytes_total: result.bytesTotal,
            },
            text: [
              `Pushed ${result.files.length} file(s), ${formatBytes(result.bytesTotal)}${multipart ? ` (${multipart} in parts)` : ""} to run ${result.runId}; ` +
                `registered ${v.name} version ${v.version} (${v.status ?? "READY"}) from ${result.source}`,
            ],
          };
        },
      ),
    );
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
