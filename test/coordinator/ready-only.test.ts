import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { InvalidParameterError } from "../../src/errors";
import type { VersionStatus } from "../../src/domain/model";
import { restorable, rollbackTarget } from "../../src/domain/rollback";
import { checkMayEnter, checkMayTakeAlias, isServable, STAGES, type Stage } from "../../src/domain/stages";
import { createModel, createVersionWith, uniqueName } from "../helpers";

// The one rule behind every view of "the version in Production": only a READY version is served,
// so only a READY version enters Staging or Production, takes an alias, or is restored by a rollback.

const STATUSES: VersionStatus[] = ["READY", "PENDING_REGISTRATION", "FAILED_REGISTRATION"];

function refusal(fn: () => void): string | null {
  try {
    fn();
    return null;
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidParameterError);
    return (error as Error).message;
  }
}

describe("the READY rule (domain/stages.ts)", () => {
  it.each(STATUSES.flatMap((status) => STAGES.map((stage) => [status, stage] as [VersionStatus, Stage])))(
    "%s entering %s",
    (status, stage) => {
      const message = refusal(() => checkMayEnter("m", { version: 4, status }, stage));
      const refused = status !== "READY" && (stage === "Staging" || stage === "Production");
      expect(message).toBe(
        refused ? `Model Version (name=m, version=4) is ${status}: only a READY version can enter ${stage}.` : null,
      );
    },
  );

  it.each(STATUSES)("%s taking an alias", (status) => {
    const message = refusal(() => checkMayTakeAlias("m", { version: 2, status }, "champion"));
    expect(message).toBe(
      status === "READY"
        ? null
        : `Model Version (name=m, version=2) is ${status}: only a READY version can take the alias 'champion'.`,
    );
    expect(isServable(status)).toBe(status === "READY");
  });

  it("lets a rollback restore only a READY version that still exists", () => {
    const statuses = new Map<number, VersionStatus>([
      [1, "READY"],
      [2, "FAILED_REGISTRATION"],
      [3, "READY"],
      [4, "PENDING_REGISTRATION"],
    ]);
    const row = (version: number) => ({
      version,
      fromStage: "None" as const,
      toStage: "Production" as const,
      actor: "a",
      comment: null,
      timestamp: 0,
    });
    const usable = restorable((v) => statuses.get(v));
    expect([1, 2, 3, 4, 5].map(usable)).toEqual([true, false, true, false, false]);
    // History newest first; 3 is in Production. A failed or pending candidate is passed over.
    expect(rollbackTarget([row(3), row(2), row(1)], 3, usable)).toBe(1);
    expect(rollbackTarget([row(3), row(4), row(2)], 3, usable)).toBeNull();
  });
});

describe("the coordinator refuses a version that is not READY", () => {
  it("answers a tagged INVALID_PARAMETER_VALUE over RPC and keeps serving its state", async () => {
    const name = await createModel(uniqueName("rpc"));
    await createVersionWith(name);
    const failed = await createVersionWith(name, {
      source: `mlflow-artifacts:/1/${uniqueName("run")}/artifacts/missing`,
    });
    const row = await env.DB.prepare("SELECT id FROM registered_models WHERE name = ?")
      .bind(name)
      .first<{ id: string }>();
    const stub = env.MODEL_COORDINATOR.get(env.MODEL_COORDINATOR.idFromName(row!.id));
    const version = Number(failed.version);

    const transition = await stub.transition(row!.id, name, {
      version,
      stage: "Production",
      archiveExisting: false,
      actor: "rpc",
      comment: null,
    });
    expect(transition).toMatchObject({
      ok: false,
      code: "INVALID_PARAMETER_VALUE",
      message: expect.stringContaining("is FAILED_REGISTRATION"),
    });
    const alias = await stub.setAlias(row!.id, name, "champion", version, "rpc");
    expect(alias).toMatchObject({
      ok: false,
      code: "INVALID_PARAMETER_VALUE",
      message: expect.stringContaining("take the alias 'champion'"),
    });

    // A refusal is not a failure of the object: its state stays loaded and unchanged.
    const latest = await stub.getLatestVersions(row!.id, name, []);
    expect(latest).toMatchObject({ ok: true, value: { value: [{ version: 1, currentStage: "None" }] } });
    const promoted = await stub.transition(row!.id, name, {
      version: 1,
      stage: "Production",
      archiveExisting: false,
      actor: "rpc",
      comment: null,
    });
    expect(promoted).toMatchObject({ ok: true, value: { version: 1, currentStage: "Production" } });
  });
});
