import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { stageNamed } from "../../domain/stages";
import { pull, type PullVerification } from "../../client/pull";
import { pinnedKeys } from "../../client/signatures";
import { action, type CliContext, UsageError, wholeNumber, type RunContext } from "../command";
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
    .option(
      "--key <file|jwk>",
      "the registry's public key to verify model.sig with (SPKI PEM, JWK or JWKS; a file or inline); default $MODELGATE_PUBLIC_KEY, else the registry's published keys (not pinned)",
    )
    .option("--allow-unsafe", "download a version whose pickle scan is 'unsafe' anyway")
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
is removed, no corrupt file is left).

Before any file is fetched, the version's signature (model.sig, OpenSSF model signing) is verified
with the registry's key and the manifest is checked against what it signed; a version whose pickle
scan is 'unsafe' is refused (exit 1) unless --allow-unsafe. Pin the key (--key or
MODELGATE_PUBLIC_KEY, from /.well-known/modelgate-keys) so that a registry that was tampered with
cannot vouch for itself. model.sig is written into <dir>; 'modelgate verify <dir>' or
'model_signing verify key' checks the directory later, offline.`,
    )
    .action(
      action(
        ctx,
        async (
          { ctx, options, client },
          opts: { concurrency: string; quiet?: boolean; key?: string; allowUnsafe?: boolean },
          spec: string,
          dir: string,
        ) => {
          const { name, ref } = parseModelSpec(spec);
          const concurrency = wholeNumber(opts.concurrency, "--concurrency", 1, 64);
          const keys = await keysFrom(opts.key, ctx.env);
          const registry = client();
          const bar = new TransferBar(ctx.stderr, !opts.quiet && !options.json);
          const started = Date.now();
          let result;
          try {
            result = await pull(registry, name, ref, dir, {
              concurrency,
              onProgress: (p) => bar.update(p),
              verify: { keys, allowUnsafe: opts.allowUnsafe },
            });
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
              signature: verificationJson(result.verification!),
            },
            text: opts.quiet
              ? []
              : [
                  `Pulled ${model.name} version ${model.version} (${model.stage}) into ${dir}: ${files.length} file(s), ` +
                    `${formatBytes(result.bytesTotal)}, all sha256 verified (${notes.join(", ")}) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
                  ...verificationLines(result.verification!),
                ],
          };
        },
      ),
    );
}

/** --key, else MODELGATE_PUBLIC_KEY; null: not pinned (the registry's own JWKS is used). */
export async function keysFrom(key: string | undefined, env: CliContext["env"]) {
  const spec = key || env.MODELGATE_PUBLIC_KEY || undefined;
  return spec === undefined ? null : pinnedKeys(spec, (file) => readFile(file, "utf8"));
}

export const NOT_PINNED =
  "the key was not pinned (--key or MODELGATE_PUBLIC_KEY): it came from the registry that served the model, which vouches only that the files are what the registry signed";

function verificationJson(v: PullVerification) {
  return {
    verified: true,
    kid: v.kid,
    hint: v.hint,
    key_pinned: v.pinned,
    root_digest: v.root,
    signed_files: v.signedFiles,
    scan: v.scan,
    unsigned_files: v.unsigned,
  };
}

function verificationLines(v: PullVerification): string[] {
  const lines = [
    `Signature verified (model.sig written): ${v.signedFiles} signed file(s), root ${v.root}, key ${v.kid}${v.pinned ? " (pinned)" : ""}; scan: ${v.scan}`,
  ];
  if (!v.pinned) lines.push(`Note: ${NOT_PINNED}.`);
  if (v.unsigned.length > 0)
    lines.push(
      `Warning: ${v.unsigned.length} file(s) in the directory are not in the signature (verify will refuse them): ${v.unsigned.join(", ")}`,
    );
  return lines;
}

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
  return /^\d+$/.test(ref) || ref.toLowerCase() === "latest" || stageNamed(ref) !== undefined;
}
