// The client and `modelgate pull` against the real `npm start`: a registered, promoted version is
// pulled through the CLI, a partial `.part` is resumed with a Range request, a corrupted one fails
// verification with a clear message, and 404s and unreachable servers exit non-zero.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { tsImport } from "tsx/esm/api";
import { api, freePort, freshStateDir, type Registry, startServer } from "./server";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const cli = path.join(root, "bin/modelgate.mjs");
// Loaded through tsx at run time rather than imported: a static import would pull src/ into this
// tsconfig's program (noUncheckedIndexedAccess), which tsconfig.json checks under the Worker's rules.
const { NodeModelgateClient, safeTarget } = await tsImport("../../src/client/pull.ts", import.meta.url);
const { parseModelSpec } = await tsImport("../../src/cli/commands/pull.ts", import.meta.url);

const MODEL = "client-e2e";
/** Deterministic bytes: big enough that resuming from the middle saves a visible amount. */
function bytes(size: number, seed: number) {
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i += 4) out.writeUInt32LE((Math.imul(i, 2654435761) ^ seed) >>> 0, i);
  return out;
}
const FILES = {
  MLmodel: Buffer.from("artifact_path: model\nflavors:\n  python_function:\n    loader_module: mlflow.sklearn\n"),
  "model.bin": bytes(3 * 1024 * 1024, 7),
  "data/weights v2.bin": bytes(256 * 1024, 9),
  "requirements.txt": Buffer.from("scikit-learn==1.5.0\n"),
};
const sha256 = (buf: Uint8Array) => createHash("sha256").update(buf).digest("hex");

const stateDir = freshStateDir();
const scratch = mkdtempSync(path.join(tmpdir(), "modelgate-pull-"));
let server: Registry;
let dirs = 0;
const freshDir = () => path.join(scratch, `pull-${++dirs}`);

before(async () => {
  server = await startServer({ port: await freePort(), stateDir });
  // The model is logged by a run: artifact writes land only under a run's (or logged model's) root.
  const run = await api(server.base, "POST", "mlflow/runs/create", { experiment_id: "0", start_time: Date.now() });
  assert.equal(run.status, 200, JSON.stringify(run.body));
  const { run_id: runId, artifact_uri: artifactUri } = run.body.run.info;
  const modelDir = `${artifactUri.replace(/^mlflow-artifacts:\//, "")}/model`;
  for (const [file, body] of Object.entries(FILES)) {
    const encoded = file.split("/").map(encodeURIComponent).join("/");
    const res = await fetch(`${server.base}/api/2.0/mlflow-artifacts/artifacts/${modelDir}/${encoded}`, {
      method: "PUT",
      body,
    });
    assert.equal(res.status, 200, await res.text());
  }
  assert.equal((await api(server.base, "POST", "mlflow/registered-models/create", { name: MODEL })).status, 200);
  const created = await api(server.base, "POST", "mlflow/model-versions/create", {
    name: MODEL,
    source: `mlflow-artifacts:/${modelDir}`,
    run_id: runId,
  });
  assert.equal(created.status, 200, JSON.stringify(created.body));
  const promoted = await api(server.base, "POST", "mlflow/model-versions/transition-stage", {
    name: MODEL,
    version: "1",
    stage: "Production",
  });
  assert.equal(promoted.status, 200, JSON.stringify(promoted.body));
  assert.equal(
    (await api(server.base, "POST", "mlflow/registered-models/alias", { name: MODEL, alias: "champion", version: "1" }))
      .status,
    200,
  );
});

after(async () => {
  await server?.stop();
  rmSync(stateDir, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

/** Runs the CLI as users do (bin/modelgate.mjs through tsx), with a bounded wait. */
function modelgate(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | string; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cli, ...args],
      { cwd: root, timeout: 60_000, env: { ...process.env, MODELGATE_URL: server.base, MODELGATE_TOKEN: "", ...env } },
      (error, stdout, stderr) => resolve({ code: error ? (error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function assertPulled(dir: string) {
  for (const [file, body] of Object.entries(FILES)) {
    assert.equal(sha256(readFileSync(path.join(dir, file))), sha256(body), file);
  }
  const leftovers = readdirSync(dir, { recursive: true }).filter((f) => String(f).endsWith(".part"));
  assert.deepEqual(leftovers, [], "no .part file is left behind");
}

describe("modelgate pull", () => {
  test("downloads every file of the Production version and verifies it (exit 0)", async () => {
    const dir = freshDir();
    const run = await modelgate(["pull", `${MODEL}@Production`, dir]);
    assert.equal(run.code, 0, run.stderr);
    assertPulled(dir);
    assert.match(run.stdout, /^Pulled client-e2e version 1 \(Production\) into .*: 4 file\(s\), .*all sha256 verified/);
  });

  test("accepts name/ref, a bare name (Production) and an alias", async () => {
    for (const spec of [`${MODEL}/1`, MODEL, `${MODEL}@champion`, `models:/${MODEL}@champion`]) {
      const dir = freshDir();
      const run = await modelgate(["pull", spec, dir, "--quiet"]);
      assert.equal(run.code, 0, `${spec}: ${run.stderr}`);
      assertPulled(dir);
    }
  });

  test("a second pull into the same directory keeps the verified files and fetches nothing", async () => {
    const dir = freshDir();
    assert.equal((await modelgate(["pull", MODEL, dir])).code, 0);
    const again = await modelgate(["pull", MODEL, dir]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /fetched 0 B, 4 already present/);
  });

  test("completes a correct partial .part with a Range request instead of starting over", async () => {
    const dir = freshDir();
    const whole = FILES["model.bin"];
    const half = whole.length / 2;
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "model.bin.part"), whole.subarray(0, half));

    // Count what the server sends for this file: a restart would be 200 with the whole body.
    const seen: { status: number; range: string | null; contentRange: string | null }[] = [];
    const client = new NodeModelgateClient({
      baseUrl: server.base,
      fetch: async (input: string | URL | Request, init?: RequestInit) => {
        const res = await fetch(input, init);
        if (String(input).endsWith("/files/model.bin"))
          seen.push({
            status: res.status,
            range: new Headers(init?.headers).get("range"),
            contentRange: res.headers.get("content-range"),
          });
        return res;
      },
    });
    let last: unknown;
    const result = await client.pull(MODEL, "Production", dir, { onProgress: (p: unknown) => (last = p) });
    assertPulled(dir);
    assert.deepEqual(seen, [
      { status: 206, range: `bytes=${half}-`, contentRange: `bytes ${half}-${whole.length - 1}/${whole.length}` },
    ]);
    const file = result.files.find((f: { path: string }) => f.path === "model.bin");
    assert.equal(file.outcome, "resumed");
    assert.equal(file.bytesFetched, whole.length - half, "only the missing half came over the network");
    assert.deepEqual(last, {
      bytesDone: result.bytesTotal,
      bytesTotal: result.bytesTotal,
      filesDone: 4,
      filesTotal: 4,
    });
  });

  test("a connection cut mid-file is retried from where it stopped, in the same pull", async () => {
    const dir = freshDir();
    const whole = FILES["model.bin"];
    const requests: (string | null)[] = [];
    let cut = false;
    const client = new NodeModelgateClient({
      baseUrl: server.base,
      // The real server's response, cut off after 100 KiB the first time (as a dropped connection would be).
      fetch: async (input: string | URL | Request, init?: RequestInit) => {
        const res = await fetch(input, init);
        if (!String(input).endsWith("/files/model.bin")) return res;
        requests.push(new Headers(init?.headers).get("range"));
        if (cut) return res;
        cut = true;
        const reader = res.body!.getReader();
        let sent = 0;
        const body = new ReadableStream({
          async pull(controller) {
            if (sent >= 100 * 1024) {
              await reader.cancel();
              return controller.error(new TypeError("terminated"));
            }
            const { done, value } = await reader.read();
            if (done) return controller.close();
            sent += value.byteLength;
            controller.enqueue(value);
          },
        });
        return new Response(body, { status: res.status, headers: res.headers });
      },
    });
    const result = await client.pull(MODEL, "1", dir, { concurrency: 1 });
    assertPulled(dir);
    assert.equal(requests.length, 2);
    assert.equal(requests[0], null);
    const range = requests[1] ?? "";
    assert.match(range, /^bytes=\d+-$/);
    const resumedAt = Number(/\d+/.exec(range)?.[0]);
    assert.ok(resumedAt >= 100 * 1024 && resumedAt < whole.length, `resumed at ${resumedAt}`);
    assert.equal(result.files.find((f: { path: string }) => f.path === "model.bin").bytesFetched, whole.length);
  });

  test("the CLI resumes too, and says so", async () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "model.bin.part"), FILES["model.bin"].subarray(0, 1000));
    const run = await modelgate(["pull", `${MODEL}@Production`, dir]);
    assert.equal(run.code, 0, run.stderr);
    assertPulled(dir);
    assert.match(run.stdout, /1 resumed/);
  });

  test("fails verification with a clear one-line message when a resumed .part has a corrupted byte", async () => {
    const dir = freshDir();
    const corrupt = Buffer.from(FILES["model.bin"].subarray(0, 1024 * 1024));
    corrupt[12345]! ^= 0xff;
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "model.bin.part"), corrupt);

    const run = await modelgate(["pull", `${MODEL}@Production`, dir]);
    assert.notEqual(run.code, 0);
    const expected = sha256(FILES["model.bin"]);
    assert.match(
      run.stderr,
      new RegExp(
        `^modelgate pull: verification failed for 'model\\.bin': expected sha256 ${expected}, got [0-9a-f]{64}\\n$`,
      ),
    );
    assert.equal(existsSync(path.join(dir, "model.bin")), false, "no corrupted final file");
    assert.equal(
      existsSync(path.join(dir, "model.bin.part")),
      false,
      "the bad .part is dropped so the next pull starts clean",
    );

    const retry = await modelgate(["pull", `${MODEL}@Production`, dir]);
    assert.equal(retry.code, 0, retry.stderr);
    assertPulled(dir);
  });

  test("exits non-zero with the server's reason for an unknown model or ref", async () => {
    const missing = await modelgate(["pull", "no-such-model@Production", freshDir()]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^modelgate pull: .*\(HTTP 404 RESOURCE_DOES_NOT_EXIST\)\n$/);
    const noStaging = await modelgate(["pull", `${MODEL}@Staging`, freshDir()]);
    assert.equal(noStaging.code, 1);
    assert.match(noStaging.stderr, /HTTP 404 RESOURCE_DOES_NOT_EXIST/);
  });

  test("exits non-zero when the registry cannot be reached", async () => {
    const port = await freePort();
    const run = await modelgate(["pull", MODEL, freshDir(), "--url", `http://127.0.0.1:${port}`]);
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      new RegExp(
        `^modelgate pull: cannot reach http://127\\.0\\.0\\.1:${port}/v1/models/client-e2e/Production: .*ECONNREFUSED.*\\n$`,
      ),
    );
  });

  test("exits 2 with usage for bad arguments", async () => {
    const run = await modelgate(["pull", MODEL]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /usage: modelgate pull <name>\[@<ref>\] <dir>/);
    assert.equal((await modelgate(["frobnicate"])).code, 2);
    const help = await modelgate(["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /pull +download a model version's files/);
  });
});

describe("client", () => {
  test("resolve answers the manifest, and resolveIfChanged is null while the ETag holds", async () => {
    const client = new NodeModelgateClient({ baseUrl: server.base });
    const model = await client.resolve(MODEL, "@champion");
    assert.equal(model.version, "1");
    assert.equal(model.stage, "Production");
    assert.deepEqual(
      model.files.map((f: { path: string; size: number; sha256: string }) => [f.path, f.size, f.sha256]).sort(),
      Object.entries(FILES)
        .map(([p, b]) => [p, b.length, sha256(b)])
        .sort(),
    );
    assert.equal(await client.resolveIfChanged(MODEL, "Production", model.etag), null);
  });

  test("download passes a range through and downloadVerified checks the hash", async () => {
    const client = new NodeModelgateClient({ baseUrl: server.base });
    const res = await client.download(MODEL, 1, "data/weights v2.bin", { range: { start: 10, end: 19 } });
    assert.equal(res.status, 206);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), FILES["data/weights v2.bin"].subarray(10, 20));
    const { files } = await client.resolve(MODEL, "1");
    const file = files.find((f: { path: string }) => f.path === "MLmodel");
    assert.deepEqual(Buffer.from(await client.downloadVerified(file)), FILES.MLmodel);
    await assert.rejects(client.downloadVerified({ ...file, sha256: "0".repeat(64) }), {
      name: "VerificationError",
      path: "MLmodel",
    });
  });

  test("refuses manifest paths that would leave the target directory", () => {
    const dir = path.join(scratch, "target");
    assert.equal(safeTarget(dir, "data/weights.bin"), path.join(dir, "data", "weights.bin"));
    for (const bad of ["../evil", "a/../../evil", "/etc/passwd", "a//b", "./a", "C:\\evil", "a\\..\\evil", ""]) {
      assert.throws(() => safeTarget(dir, bad), { name: "UnsafePathError" }, bad);
    }
  });

  test("reads name@ref, name/ref, bare names, aliases and models:/ URIs", () => {
    const cases = {
      "fraud@Production": ["fraud", "Production"],
      "fraud@staging": ["fraud", "staging"],
      "fraud@3": ["fraud", "3"],
      "fraud@latest": ["fraud", "latest"],
      "fraud/Production": ["fraud", "Production"],
      "fraud/@champion": ["fraud", "@champion"],
      fraud: ["fraud", "Production"],
      "fraud@champion": ["fraud", "@champion"],
      "fraud@@production": ["fraud", "@production"],
      "team@corp@Production": ["team@corp", "Production"],
      "models:/fraud@champion": ["fraud", "@champion"],
      "models:/fraud/2": ["fraud", "2"],
    };
    for (const [spec, [name, ref]] of Object.entries(cases))
      assert.deepEqual(parseModelSpec(spec), { name, ref }, spec);
    for (const bad of ["@Production", "fraud@", "fraud/", "fraud/a/b"])
      assert.throws(() => parseModelSpec(bad), { name: "UsageError" }, bad);
  });
});
