import type { Command } from "commander";
import { verifyDirectory } from "../../client/local-verify";
import { describeSubject, fetchRegistryKeys, signedFor } from "../../client/signatures";
import { ModelgateError } from "../../client/errors";
import { formatBytes } from "../progress";
import { action, type RunContext } from "../command";
import { keysFrom, NOT_PINNED } from "./pull";

/** `modelgate verify DIR`: a downloaded model directory against its model.sig, offline with a pinned key. */
export function registerVerify(program: Command, ctx: RunContext): void {
  program
    .command("verify")
    .summary("check a downloaded model directory against its model.sig (OpenSSF model signing)")
    .description(
      "Check a model directory against its model.sig: the signature with the registry's public key, then every file's sha256, and no file missing or added.",
    )
    .usage("<dir> [options]")
    .argument("<dir>", "the model directory (as `modelgate pull` or an unpacked archive.tar left it)")
    .option(
      "--key <file|jwk>",
      "the registry's public key (SPKI PEM, JWK or JWKS; a file or inline); default $MODELGATE_PUBLIC_KEY, else fetched from the registry's /.well-known/modelgate-keys (not pinned)",
    )
    .option("--signature <file>", "the bundle to check against (default <dir>/model.sig)")
    .option(
      "--model <name[/version]>",
      "the model (and version) the directory must be: the signature must name it (one registry key signs every model)",
    )
    .addHelpText(
      "after",
      `
With a pinned key nothing is sent over the network. Files are compared as 'model_signing verify
key' compares them: every regular file below <dir> (dotfiles too) except the top-level .git/,
.github/, .gitattributes, .gitignore and model.sig must be signed with the same sha256, and every
signed file must be there. The signature names the model and version it was issued for; give
--model NAME or --model NAME/VERSION to require them (a name that itself ends in /<digits> needs
its version too). Exit code 0 when the directory verifies, 3 when it does not (each
changed, missing and added file is named), 1 when the key cannot be had.
The same check with the OpenSSF tool:
  model_signing verify key --signature <dir>/model.sig --public_key key.pem <dir>
  (key.pem from <registry>/.well-known/modelgate-keys/<kid>.pem)`,
    )
    .action(
      action(
        ctx,
        async ({ ctx, options, client }, opts: { key?: string; signature?: string; model?: string }, dir: string) => {
          const expected = opts.model === undefined ? undefined : parseExpected(opts.model);
          const pinned = await keysFrom(opts.key, ctx.env);
          const keys = pinned ?? (await fetchRegistryKeys(client()));
          const result = await verifyDirectory(dir, keys, opts.signature, expected);
          const subject = result.statement.subject[0]!; // openBundle accepts exactly one
          const root = subject.digest.sha256;
          const signed = signedFor(result.statement);
          return {
            json: {
              dir,
              verified: true,
              files: result.files,
              bytes: result.bytes,
              root_digest: root,
              kid: result.key.kid,
              hint: result.key.hint,
              key_pinned: pinned !== null,
              subject: subject.name,
              model: signed?.model ?? null,
              model_version: signed?.version ?? null,
              model_checked: expected !== undefined,
            },
            text: [
              `Verified ${dir}: ${result.files} file(s), ${formatBytes(result.bytes)}, match model.sig (root ${root}, key ${result.key.kid}${pinned ? ", pinned" : ""})`,
              expected
                ? `Signed for ${describeSubject(result.statement)}, as required by --model.`
                : `Signed for ${describeSubject(result.statement)}; not checked: pass --model NAME[/VERSION] to require it.`,
              ...(pinned || options.json ? [] : [`Note: ${NOT_PINNED}.`]),
            ],
          };
        },
      ),
    );
}

/** `NAME` or `NAME/VERSION` (the part after the last `/`, when it is a version number). */
function parseExpected(spec: string): { model: string; version?: number } {
  const match = /^(.+)\/([1-9][0-9]*)$/.exec(spec);
  const expected = match ? { model: match[1]!, version: Number(match[2]) } : { model: spec };
  if (expected.model.trim() === "") throw new ModelgateError("--model needs a model name (NAME or NAME/VERSION)");
  return expected;
}
