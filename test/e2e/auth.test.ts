// Access control end to end: `MODELGATE_AUTH=on npm start` enforces tokens as a deployment does,
// and the `modelgate token` CLI manages them.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { registryForThisFile } from "./server";

const run = promisify(execFile);
const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../bin/modelgate.mjs");
const ADMIN = "mg_e2e_admin_0123456789abcdef0123456789abcdef";
const server = registryForThisFile({ env: { MODELGATE_AUTH: "on", MODELGATE_ADMIN_TOKEN: ADMIN } });

async function api(method: string, route: string, body?: unknown, token?: string) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${server.base}${route}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

test("enforces tokens, and the CLI creates, lists and revokes them", async () => {
  assert.match(server.output(), /Access control is ON/);
  assert.equal((await api("GET", "/api/2.0/mlflow/registered-models/search")).status, 401);
  for (const name of ["Alpha", "Beta"]) {
    assert.equal((await api("POST", "/api/2.0/mlflow/registered-models/create", { name }, ADMIN)).status, 200);
    assert.equal(
      (await api("POST", "/api/2.0/mlflow/model-versions/create", { name, source: "s3://m/1" }, ADMIN)).status,
      200,
    );
  }

  const created = await run(process.execPath, [
    cli,
    "token",
    "create",
    "--name",
    "deployer",
    "--scope",
    "promote",
    "--model",
    "Alpha",
    "--url",
    server.base,
    "--token",
    ADMIN,
  ]);
  const secret = created.stdout.trim();
  assert.match(secret, /^mg_[0-9a-f]{64}$/);
  assert.match(created.stderr, /shown only once/);

  const promote = (name: string) =>
    api("POST", "/api/2.0/mlflow/model-versions/transition-stage", { name, version: "1", stage: "Production" }, secret);
  assert.equal((await promote("Alpha")).status, 200);
  const refused = await promote("Beta");
  assert.equal(refused.status, 403);
  assert.equal(refused.body.error_code, "PERMISSION_DENIED");

  const listed = await run(process.execPath, [cli, "token", "list", "--url", server.base], {
    env: { ...process.env, MODELGATE_TOKEN: ADMIN },
  });
  const line = listed.stdout.split("\n").find((l) => l.includes("deployer")) ?? "";
  assert.match(line, /active\s+deployer\s+\[read,write,promote\]\s+models: Alpha/);
  const id = line.split(/\s+/)[0] ?? "";

  await run(process.execPath, [cli, "token", "revoke", id, "--url", server.base, "--token", ADMIN]);
  assert.equal((await promote("Alpha")).status, 401);

  const denied: { code: number; stderr: string } = await run(process.execPath, [
    cli,
    "token",
    "list",
    "--url",
    server.base,
    "--token",
    "mg_wrong",
  ]).then(
    () => assert.fail("token list with a wrong token exited 0"),
    (e) => e,
  );
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /401|UNAUTHENTICATED|revoked|Invalid/);
});
