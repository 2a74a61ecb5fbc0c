import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { RegistryError } from "../../src/errors";
import { servicesFor } from "../../src/services";
import { createModel, createVersion, createVersionWith, stagesOf, transitionTo, uniqueName } from "../helpers";

/** The error code and message a call fails with, or "ok: <current> -> <target>" from a plan. */
async function outcome(call: () => Promise<{ current: number; target: number }>): Promise<string> {
  try {
    const plan = await call();
    return `ok: ${plan.current} -> ${plan.target}`;
  } catch (error) {
    if (error instanceof RegistryError) return `${error.code}: ${error.message}`;
    throw error;
  }
}

describe("RegistryService.previewRollback with a target (the UI's preview of a rollback to a named version)", () => {
  it("agrees with the coordinator's decision for every kind of target, and previews without writing", async () => {
    const name = await createModel();
    for (let i = 0; i < 4; i++) await createVersion(name);
    for (const v of ["1", "2", "3"]) await transitionTo(name, v, "Production");
    await transitionTo(name, "4", "Staging");
    await createVersionWith(name, { source: `mlflow-artifacts:/1/${uniqueName("run")}/artifacts/missing` }); // 5: FAILED_REGISTRATION

    const services = servicesFor(env);
    const previews: Record<number, string> = {};
    for (const target of [1, 2, 3, 4, 5, 9]) {
      previews[target] = await outcome(() => services.registry.previewRollback(name, String(target)));
    }
    expect(previews[1]).toBe("ok: 3 -> 1");
    expect(previews[2]).toBe("ok: 3 -> 2");
    expect(await stagesOf(name, ["1", "2", "3"])).toEqual({ "1": "Archived", "2": "Archived", "3": "Production" });

    // The coordinator, asked to act (the ones that may, one at a time from the same state).
    for (const target of [3, 4, 5, 9]) {
      const acted = await outcome(async () => {
        const done = await services.registry.rollback({ name, actor: "preview-test", version: String(target) });
        return { current: done.archived, target: done.restored.version };
      });
      expect(acted).toBe(previews[target]);
      expect(acted).toMatch(/^(RESOURCE_CONFLICT|RESOURCE_DOES_NOT_EXIST|INVALID_PARAMETER_VALUE): /);
    }
    expect(
      await outcome(async () => {
        const done = await services.registry.rollback({ name, actor: "preview-test", version: "1" });
        return { current: done.archived, target: done.restored.version };
      }),
    ).toBe(previews[1]);
  });
});
