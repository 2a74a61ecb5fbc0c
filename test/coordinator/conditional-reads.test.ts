import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { servicesFor } from "../../src/services";
import { call, createModel, createVersion, transitionTo } from "../helpers";

// Point reads are conditional: the Worker sends the revision of the answer it holds, and the model's
// coordinator answers `current` instead of the data while that revision is its state's.

async function coordinatorOf(name: string) {
  const row = await env.DB.prepare("SELECT id FROM registered_models WHERE name = ?")
    .bind(name)
    .first<{ id: string }>();
  return { id: row!.id, stub: env.MODEL_COORDINATOR.get(env.MODEL_COORDINATOR.idFromName(row!.id)) };
}

function revisionOf(reply: unknown): string {
  const answer = reply as { ok: boolean; value: { revision: string | null } };
  expect(answer.ok).toBe(true);
  expect(answer.value.revision).toEqual(expect.any(String));
  return answer.value.revision!;
}

describe("conditional point reads", () => {
  it("answer `current` for the revision the caller holds, and the data again once a mutation changed it", async () => {
    const name = await createModel();
    await createVersion(name);
    const { id, stub } = await coordinatorOf(name);

    const first = await stub.getVersion(id, name, 1);
    const revision = revisionOf(first);
    expect(first).toMatchObject({ ok: true, value: { value: { version: 1, currentStage: "None" } } });
    expect(await stub.getVersion(id, name, 1, revision)).toEqual({ ok: true, value: { revision, current: true } });

    await transitionTo(name, "1", "Staging");
    const after = await stub.getVersion(id, name, 1, revision);
    expect(after).toMatchObject({ ok: true, value: { value: { version: 1, currentStage: "Staging" } } });
    expect(revisionOf(after)).not.toBe(revision);
  });

  it("never vouch for a revision a refused mutation may have touched", async () => {
    const name = await createModel();
    await createVersion(name);
    const { id, stub } = await coordinatorOf(name);
    const revision = revisionOf(await stub.getLatestVersions(id, name, []));
    const refused = await call("POST", "/model-versions/transition-stage", {
      name,
      version: "7",
      stage: "Production",
      archive_existing_versions: false,
    });
    expect(refused.status).toBe(404);
    const again = await stub.getLatestVersions(id, name, [], revision);
    expect(again).toMatchObject({ ok: true, value: { value: [{ version: 1 }] } });
  });

  it("hand every request the one frozen answer while it is current, and a new one after a change", async () => {
    const name = await createModel();
    await createVersion(name);
    const registry = servicesFor(env).registry;
    const first = await registry.getVersion(name, "1");
    const second = await registry.getVersion(name, "1");
    expect(second).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first.tags)).toBe(true);

    await registry.setVersionTag(name, "1", { key: "team", value: "vision" }, "tester");
    const changed = await registry.getVersion(name, "1");
    expect(changed).not.toBe(first);
    expect(changed.tags).toEqual([{ key: "team", value: "vision" }]);
  });

  it("show every acknowledged write to the next read, with readers racing the writer", async () => {
    const name = await createModel();
    for (let v = 1; v <= 12; v++) await createVersion(name);
    let writing = true;
    // Readers keep the isolate's held answers busy (and refreshed mid-mutation) the whole time.
    const readers = Array.from({ length: 4 }, async () => {
      let reads = 0;
      while (writing) {
        const reply = await call("GET", "/registered-models/get-latest-versions", { name, stages: ["Production"] });
        expect(reply.status).toBe(200);
        reads += 1;
      }
      return reads;
    });
    for (let v = 1; v <= 12; v++) {
      await transitionTo(name, String(v), "Production", true);
      const latest = await call("GET", "/registered-models/get-latest-versions", { name, stages: ["Production"] });
      expect(latest.body.model_versions.map((m: { version: string }) => m.version)).toEqual([String(v)]);
      const alias = await call("POST", "/registered-models/alias", { name, alias: "champion", version: String(v) });
      expect(alias.status).toBe(200);
      const byAlias = await call("GET", "/registered-models/alias", { name, alias: "champion" });
      expect(byAlias.body.model_version.version).toBe(String(v));
      const got = await call("GET", "/model-versions/get", { name, version: String(v) });
      expect(got.body.model_version).toMatchObject({ current_stage: "Production", aliases: ["champion"] });
    }
    writing = false;
    const reads = await Promise.all(readers);
    expect(reads.every((n) => n > 0)).toBe(true);
  });
});
