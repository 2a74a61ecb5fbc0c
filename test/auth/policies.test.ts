import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN, bearer, createToken, send, type Reply } from "./helpers";

// Promotion policies with access control on: the scope rule is checked in the model's coordinator
// against the scope of the token that asks; policies are read with `read` and set with `admin`.

const MLFLOW = "/api/2.0/mlflow";
const POLICY = "/api/2.0/modelgate/registered-models/policy";
const ROLLBACK = "/api/2.0/modelgate/registered-models/rollback";
let n = 0;
const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${++n}`;

async function stagedModel(): Promise<string> {
  const name = unique("policy-auth");
  const admin = bearer(ADMIN);
  expect((await send("POST", `${MLFLOW}/registered-models/create`, { name }, admin)).status).toBe(200);
  for (let i = 0; i < 2; i++)
    expect((await send("POST", `${MLFLOW}/model-versions/create`, { name, source: "s3://m/1" }, admin)).status).toBe(
      200,
    );
  expect(
    (await send("POST", `${MLFLOW}/model-versions/transition-stage`, { name, version: "1", stage: "Staging" }, admin))
      .status,
  ).toBe(200);
  return name;
}

const promote = (name: string, version: string, auth: string) =>
  send(
    "POST",
    `${MLFLOW}/model-versions/transition-stage`,
    { name, version, stage: "Production", archive_existing_versions: false },
    auth,
  );

async function stageOf(name: string, version: string): Promise<string> {
  return (await send("GET", `${MLFLOW}/model-versions/get`, { name, version }, bearer(ADMIN))).body.model_version
    .current_stage;
}

async function historyCount(name: string): Promise<number> {
  const row = await env.DB.prepare(
    "SELECT count(*) AS n FROM stage_transitions t JOIN registered_models m ON m.id = t.model_id WHERE m.name = ?",
  )
    .bind(name)
    .first<{ n: number }>();
  return row!.n;
}

function expectDenied(res: Reply, message: string) {
  expect(res).toEqual({ status: 403, body: { error_code: "PERMISSION_DENIED", message } });
}

describe("the caller-scope rule", () => {
  it("refuses a promote token when the policy asks for admin, writing nothing, and lets admin through", async () => {
    const name = await stagedModel();
    const promoterName = unique("promoter");
    const promoter = await createToken({ name: promoterName, scopes: ["promote"] });
    expect(
      (await send("PUT", POLICY, { name, policy: { Production: [{ type: "scope", scope: "admin" }] } }, bearer(ADMIN)))
        .status,
    ).toBe(200);

    const history = await historyCount(name);
    expectDenied(
      await promote(name, "1", bearer(promoter)),
      `Promotion policy of '${name}' refused version 1 → Production: the caller needs the 'admin' scope ('${promoterName}' has 'promote').`,
    );
    expect(await stageOf(name, "1")).toBe("Staging");
    expect(await historyCount(name)).toBe(history);

    // The policy guards Production only: the same token still moves versions to Staging.
    expect(
      (
        await send(
          "POST",
          `${MLFLOW}/model-versions/transition-stage`,
          { name, version: "2", stage: "Staging" },
          bearer(promoter),
        )
      ).status,
    ).toBe(200);

    const admin = await createToken({ name: unique("release-manager"), scopes: ["admin"] });
    expect((await promote(name, "1", bearer(admin))).status).toBe(200);
    expect(await stageOf(name, "1")).toBe("Production");
  });

  it("lets a promote token through a rule asking for promote", async () => {
    const name = await stagedModel();
    const promoter = await createToken({ name: unique("promoter"), scopes: ["promote"], models: [name] });
    expect(
      (
        await send(
          "PUT",
          POLICY,
          { name, policy: { Production: [{ type: "scope", scope: "promote" }] } },
          bearer(ADMIN),
        )
      ).status,
    ).toBe(200);
    expect((await promote(name, "1", bearer(promoter))).status).toBe(200);
  });
});

describe("rollback and the caller-scope rule", () => {
  it("refuses a promote token's rollback when Production needs admin, writing nothing, and lets admin roll back", async () => {
    const name = await stagedModel();
    const admin = bearer(ADMIN);
    expect((await promote(name, "1", admin)).status).toBe(200);
    expect((await promote(name, "2", admin)).status).toBe(200);
    expect(
      (
        await send(
          "PUT",
          POLICY,
          {
            name,
            policy: {
              Production: [
                { type: "scope", scope: "admin" },
                { type: "tag", key: "validation" },
              ],
            },
          },
          admin,
        )
      ).status,
    ).toBe(200);
    const promoterName = unique("deployer");
    const promoter = await createToken({ name: promoterName, scopes: ["promote"] });
    const history = await historyCount(name);

    expectDenied(
      await send("POST", ROLLBACK, { name }, bearer(promoter)),
      `Promotion policy of '${name}' refused the rollback to version 1 → Production: the caller needs the 'admin' scope ('${promoterName}' has 'promote').`,
    );
    expect([await stageOf(name, "1"), await stageOf(name, "2")]).toEqual(["Archived", "Production"]);
    expect(await historyCount(name)).toBe(history);

    // The tag rule does not hold the rollback back; the scope rule is met by admin.
    expect((await send("POST", ROLLBACK, { name }, admin)).status).toBe(200);
    expect([await stageOf(name, "1"), await stageOf(name, "2")]).toEqual(["Production", "Archived"]);
  });
});

describe("who may read and set a policy", () => {
  it("lets read tokens read it and only admin tokens set or clear it", async () => {
    const name = await stagedModel();
    const policy = { Production: [{ type: "tag", key: "validation", value: "passed" }] };
    const reader = await createToken({ name: unique("reader"), scopes: ["read"] });
    const promoter = await createToken({ name: unique("promoter"), scopes: ["promote"] });
    const admin = await createToken({ name: unique("owner"), scopes: ["admin"], models: [name] });

    expect((await send("PUT", POLICY, { name, policy }, bearer(admin))).status).toBe(200);
    const read = await send("GET", POLICY, { name }, bearer(reader));
    expect(read.status).toBe(200);
    expect(read.body.policy).toEqual(policy);
    expect(read.body.updated_by).toMatch(/^owner-/);

    // A promote token cannot lift the policy that binds it.
    for (const method of ["PUT", "POST", "DELETE"]) {
      const res = await send(method, POLICY, { name, policy: {} }, bearer(promoter));
      expect(res.status).toBe(403);
      expect(res.body.error_code).toBe("PERMISSION_DENIED");
      expect(res.body.message).toContain("needs 'admin'");
    }
    expect((await send("GET", POLICY, { name }, bearer(reader))).body.policy).toEqual(policy);
    expect((await promote(name, "1", bearer(promoter))).status).toBe(400);

    // An admin token narrowed to another model has no say over this one.
    const other = await createToken({ name: unique("other-owner"), scopes: ["admin"], models: [unique("elsewhere")] });
    const foreign = await send("DELETE", POLICY, { name }, bearer(other));
    expect(foreign.status).toBe(403);
    expect(foreign.body.message).toContain(`has no rights on model '${name}'`);

    expect((await send("DELETE", POLICY, { name }, bearer(admin))).status).toBe(200);
    expect((await send("GET", POLICY, { name }, bearer(reader))).body).toEqual({ policy: {} });
    expect((await promote(name, "1", bearer(promoter))).status).toBe(200);
  });

  it("refuses anonymous callers", async () => {
    const name = await stagedModel();
    expect((await send("GET", POLICY, { name })).status).toBe(401);
    expect((await send("PUT", POLICY, { name, policy: {} })).status).toBe(401);
  });
});
