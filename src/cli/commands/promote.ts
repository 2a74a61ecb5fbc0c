import type { Command } from "commander";
import { STAGES, stageNamed } from "../../domain/stages";
import { action, UsageError, wholeNumber, type RunContext } from "../command";
import { ModelgateHttpError } from "../../client/errors";
import { recordOverride } from "./policy";

/** `modelgate promote NAME VERSION --to STAGE`: a stage transition (policies apply on the server). */
export function registerPromote(program: Command, ctx: RunContext): void {
  program
    .command("promote")
    .summary("move a version to a stage (Staging, Production, Archived, None)")
    .description(
      "Move a version to a stage. Promoting to Production archives the previous Production version " +
        "(Modelgate keeps exactly one) and names it: `(version N archived)`, `archived_versions` with --json. " +
        "A refusal by a promotion policy exits 1 with the rule that failed on stderr.",
    )
    .argument("<name>", "registered model name")
    .argument("<version>", "version number")
    .requiredOption("--to <stage>", `target stage: ${STAGES.join(", ")}`)
    .option(
      "--archive-existing",
      "also archive the other versions in the target stage (MLflow's archive_existing_versions)",
    )
    .option("--comment <text>", "a note recorded in the transition history")
    .option(
      "--override-reason <text>",
      "first record an admin override of the scan rule for this version, with this reason (admin token), then promote",
    )
    .action(
      action(
        ctx,
        async (
          { client },
          opts: { to: string; archiveExisting?: boolean; comment?: string; overrideReason?: string },
          name: string,
          version: string,
        ) => {
          const stage = stageNamed(opts.to);
          if (!stage) throw new UsageError(`--to must be one of ${STAGES.join(", ")}, got '${opts.to}'`);
          const number = wholeNumber(version, "<version>");
          const promote = () =>
            client().promote({
              name,
              version: number,
              stage,
              archiveExisting: opts.archiveExisting,
              comment: opts.comment,
            });
          let promoted: Awaited<ReturnType<typeof promote>>;
          try {
            promoted = await promote();
          } catch (error) {
            // An override is recorded only when the scan rule is what refused: a clean version needs none.
            if (opts.overrideReason === undefined || !refusedByScan(error)) throw error;
            await recordOverride(client(), name, number, opts.overrideReason);
            promoted = await promote();
          }
          const { model_version: modelVersion, archived_versions: archived } = promoted;
          return {
            json: promoted,
            text: [
              `${name} version ${modelVersion.version} is now in ${modelVersion.current_stage}${archivedNote(archived)}`,
            ],
            note:
              archived === null
                ? "the promotion is done, but the history could not be read to name the versions it archived (see modelgate history)"
                : undefined,
          };
        },
      ),
    );
}

/** The promotion policy's scan rule refused (src/domain/promotion-policy.ts, describeRule). */
function refusedByScan(error: unknown): boolean {
  // A pending scan cannot be overridden (the verdict is not known yet): that refusal stands as it is.
  return (
    error instanceof ModelgateHttpError &&
    error.message.includes("its pickle scan must be clean") &&
    !error.message.includes("scan pending")
  );
}

/** ` (version 1 archived)`, ` (versions 1, 3 archived)`, or nothing when it archived nothing. */
function archivedNote(archived: string[] | null): string {
  if (!archived || archived.length === 0) return "";
  return archived.length === 1 ? ` (version ${archived[0]} archived)` : ` (versions ${archived.join(", ")} archived)`;
}
