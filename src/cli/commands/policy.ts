import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import type { PolicyRecordJson } from "../../client/modelgate-client";
import type { ModelgateClient } from "../../client/modelgate-client";
import { action, UsageError, wholeNumber, type RunContext } from "../command";

/** The server's answer to a scan override (src/http/routes/scan.ts). */
export interface ScanOverrideJson {
  name: string;
  version: string;
  override: { status: string; reason: string; actor: string; timestamp: number };
}

/** Records an admin's override of the scan policy rule for one version. */
export function recordOverride(
  client: ModelgateClient,
  name: string,
  version: number,
  reason: string,
): Promise<ScanOverrideJson> {
  if (reason.trim() === "") throw new UsageError("--reason must not be empty: an override needs a reason");
  return client.api("POST", "/api/2.0/modelgate/model-versions/scan/override", {
    name,
    version: String(version),
    reason,
  });
}

/** `modelgate policy get|set|rm`: a model's promotion policy (setting one needs an admin token). */
export function registerPolicy(program: Command, ctx: RunContext): void {
  const policy = program
    .command("policy")
    .summary("show, set or remove a model's promotion policy")
    .description(
      "Promotion policies: rules a version must meet before a transition to Staging or Production " +
        "(tags, run metric thresholds, time in Staging, the caller's scope, a clean pickle scan). " +
        "A refused promotion exits 1 naming the rule.",
    );

  policy
    .command("get")
    .description('Show a model\'s policy ({"policy": {}} when it has none).')
    .argument("<name>", "registered model name")
    .action(
      action(ctx, async ({ client }, _opts, name: string) => {
        const record = await client().getPolicy(name);
        return { json: record, text: describe(name, record) };
      }),
    );

  policy
    .command("set")
    .description("Replace a model's policy with a JSON document (needs an admin token).")
    .argument("<name>", "registered model name")
    .argument("[policy]", `the policy, e.g. '{"Staging": [{"type": "tag", "key": "validation", "value": "passed"}]}'`)
    .option("-f, --file <path>", "read the policy from a file ('-' for stdin)")
    .addHelpText(
      "after",
      `
Rules: {"type": "tag", "key": "validation", "value": "passed"}
       {"type": "metric", "key": "metrics.accuracy", "operator": ">=", "value": 0.9}
       {"type": "time_in_staging", "min_seconds": 3600}   (Production only)
       {"type": "scope", "scope": "admin"}
       {"type": "scan", "status": "clean"}   (the version's pickle scan must be clean; see policy override)`,
    )
    .action(
      action(ctx, async ({ client }, opts: { file?: string }, name: string, inline?: string) => {
        if ((inline === undefined) === (opts.file === undefined))
          throw new UsageError("give the policy either as an argument or with --file");
        const text = opts.file === undefined ? inline! : await readPolicyFile(opts.file);
        let document: unknown;
        try {
          document = JSON.parse(text);
        } catch (error) {
          throw new UsageError(`the policy is not JSON: ${(error as Error).message}`);
        }
        const record = await client().setPolicy(name, document);
        return { json: record, text: describe(name, record) };
      }),
    );

  policy
    .command("override")
    .description(
      "Let a version whose pickle scan is not clean (unsafe, unknown or pending) pass the scan rule, " +
        "with the reason (needs an admin token on the model). The override and who recorded it are kept.",
    )
    .argument("<name>", "registered model name")
    .argument("<version>", "version number")
    .requiredOption(
      "--reason <text>",
      "why the risk is accepted (kept with the override and shown on the version page)",
    )
    .action(
      action(ctx, async ({ client }, opts: { reason: string }, name: string, version: string) => {
        const answer = await recordOverride(client(), name, wholeNumber(version, "<version>"), opts.reason);
        return {
          json: answer,
          text: [
            `${name} version ${version} may pass the scan rule (its scan: ${answer.override.status}); reason recorded: ${answer.override.reason}`,
          ],
        };
      }),
    );

  policy
    .command("rm")
    .alias("delete")
    .description("Remove a model's policy (needs an admin token).")
    .argument("<name>", "registered model name")
    .action(
      action(ctx, async ({ client }, _opts, name: string) => {
        await client().deletePolicy(name);
        return { json: { name, deleted: true }, text: [`removed the promotion policy of ${name}`] };
      }),
    );
}

async function readPolicyFile(file: string): Promise<string> {
  try {
    return await readFile(file === "-" ? "/dev/stdin" : file, "utf8");
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
}

function describe(name: string, record: PolicyRecordJson): string[] {
  const stages = Object.entries(record.description ?? {});
  if (stages.length === 0) return [`${name} has no promotion policy`];
  return stages.flatMap(([stage, rules]) => [`${stage}:`, ...rules.map((r) => `  - ${r}`)]);
}
