// Every `modelgate` command against the real `npm start`, run as users run it (bin/modelgate.mjs):
// happy paths with their --json documents parsed, usage errors (exit 2, nothing sent), server
// refusals (exit 1 with the server's MLflow message on stderr), --help everywhere, and where the
// URL and token come from.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { createHash, createHmac } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, watch, writeFileSync } from "node:fs";
import { createServer, type Server, type ServerResponse } from "node:http";
import path from "node:path";
import { once } from "node:events";
import { after, before, describe, test } from "node:test";
import { cli, root, runCli, runCliOk } from "./cli-runner";
import { pollUntil } from "./poll";
import { freePort, freshStateDir, type Registry, registryForThisFile, startServer } from "./server";

const MODEL = "cli-e2e";
const MiB = 1024 * 1024;

const server = registryForThisFile({ scratchPrefix: "modelgate-cli-" });
const scratch = server.scratch;

const modelgate = (args: string[], env: Record<string, string> = {}, base = server.base) => runCli(base, args, env);
const ok = (args: string[], env?: Record<string, string>) => runCliOk(server.base, args, env);

// The parts of the --json documents these tests read.
type FileDoc = { path: string; size: number; sha256: string; parts?: number };
type VersionDoc = { version: string; current_stage: string; run_id?: string };
type TransitionDoc = { version: string; from_stage: string; to_stage: string; comment?: string };
type EventDoc = { entity: string; action: string };

function bytes(size: number, seed: number) {
  const out = Buffer.alloc(size);
  for (let i = 0; i + 4 <= size; i += 4) out.writeUInt32LE((Math.imul(i, 2654435761) ^ seed) >>> 0, i);
  return out;
}
const sha256 = (buf: Uint8Array) => createHash("sha256").update(buf).digest("hex");

/** A model directory: small files, an empty one, a nested one, and one big enough for multipart at 5 MiB. */
function modelDir(name: string, seed: number, bigSize = 11 * MiB + 123) {
  const dir = path.join(scratch, name);
  const files = {
    MLmodel: Buffer.from(`artifact_path: model\nseed: ${seed}\n`),
    "weights.bin": bytes(bigSize, seed),
    "data/vocab v1.txt": Buffer.from("a\nb\nc\n"),
    "empty.txt": Buffer.alloc(0),
  };
  for (const [file, body] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), body);
  }
  return { dir, files };
}

const COMMANDS = [
  [],
  ["models"],
  ["models", "ls"],
  ["models", "create"],
  ["versions"],
  ["versions", "ls"],
  ["push"],
  ["promote"],
  ["alias"],
  ["alias", "set"],
  ["alias", "rm"],
  ["rollback"],
  ["pull"],
  ["verify"],
  ["history"],
  ["policy"],
  ["policy", "get"],
  ["policy", "set"],
  ["policy", "rm"],
  ["webhooks"],
  ["webhooks", "ls"],
  ["webhooks", "create"],
  ["webhooks", "rm"],
  ["webhooks", "test"],
  ["webhooks", "deliveries"],
  ["webhooks", "replay"],
  ["token"],
  ["token", "create"],
  ["token", "list"],
  ["token", "revoke"],
];

describe("--help", () => {
  test("every command answers --help with its usage on stdout and exit 0", async () => {
    await Promise.all(
      COMMANDS.map(async (command) => {
        const run = await modelgate([...command, "--help"]);
        assert.equal(run.code, 0, `${command.join(" ")}: ${run.stderr}`);
        // Subcommands with an alias show it: `modelgate models ls|list [options]`.
        assert.match(
          run.stdout,
          new RegExp(`^Usage: ${["modelgate", ...command].join(" ")}(\\|\\w+)? `),
          command.join(" "),
        );
        assert.match(run.stdout, /--json/, `${command.join(" ")} lists the global options`);
        assert.equal(run.stderr, "");
      }),
    );
  });

  test("the overview lists every command and documents the exit codes", async () => {
    const run = await ok(["--help"]);
    for (const name of [
      "models",
      "versions",
      "push",
      "promote",
      "alias",
      "rollback",
      "pull",
      "verify",
      "history",
      "policy",
      "webhooks",
      "token",
    ]) {
      assert.match(run.stdout, new RegExp(`^  ${name} +\\S`, "m"), name);
    }
    assert.match(run.stdout, /Exit codes:\n {2}0 {2}success\n {2}1 {2}the operation failed/);
    assert.match(run.stdout, / {2}2 {2}usage error/);
    assert.match(run.stdout, / {2}3 {2}verification failed/);
  });

  test("npx modelgate runs the CLI in the repository", async () => {
    const run = await new Promise<{ error: Error | null; stdout: string; stderr: string }>((resolve) =>
      execFile(
        "npx",
        ["--no-install", "modelgate", "versions", "--help"],
        { cwd: root, timeout: 60_000 },
        (error, stdout, stderr) => resolve({ error, stdout, stderr }),
      ),
    );
    assert.equal(run.error, null, run.stderr);
    assert.match(run.stdout, /^Usage: modelgate versions /);
  });
});

describe("usage errors exit 2 and send nothing", () => {
  const cases: [string[], RegExp][] = [
    [["frobnicate"], /unknown command 'frobnicate'/],
    [["push", "--name", "x"], /missing required argument 'dir'/],
    [["push", "."], /required option '--name <name>' not specified/],
    [["push", "/no/such/dir", "--name", "x"], /'\/no\/such\/dir' is not a directory/],
    [["push", ".", "--name", "x", "--part-size", "1"], /--part-size must be a whole number from 5 to 5000, got '1'/],
    [["promote", MODEL, "1"], /required option '--to <stage>' not specified/],
    [["promote", MODEL, "1", "--to", "Prod"], /--to must be one of None, Staging, Production, Archived, got 'Prod'/],
    [["promote", MODEL, "one", "--to", "Staging"], /<version> must be a whole number/],
    [["alias", "set", MODEL, "champion"], /missing required argument 'version'/],
    [["alias", "rm", MODEL, "champion", "extra"], /too many arguments/],
    [["models", "ls", "--bogus"], /unknown option '--bogus'/],
    [["pull", "@Production", "dir"], /cannot read '@Production'/],
    [["rollback", MODEL, "--to", "latest"], /--to must be a whole number of at least 1, got 'latest'/],
    [["history", MODEL, "--limit", "ten"], /--limit must be a whole number/],
    [["webhooks", "create", "w", "http://127.0.0.1:1/x"], /at least one --event is required/],
    [["webhooks", "create", "w", "http://127.0.0.1:1/x", "--event", "created"], /an event is entity.action/],
    [["policy", "set", MODEL, "{not json"], /policy is not JSON/],
    [["token", "create", "--name", "n"], /required option '--scope <scope>' not specified/],
    [["models", "ls", "--url", "not a url"], /the registry URL 'not a url' is not a URL/],
  ];
  for (const [args, message] of cases) {
    test(`modelgate ${args.join(" ")}`, async () => {
      const run = await modelgate(args);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, message);
      assert.match(run.stderr, /\(usage: modelgate .*; see --help\)\n$/);
      assert.equal(run.stdout, "");
    });
  }

  test("a group without its subcommand prints the group's help on stderr", async () => {
    const run = await modelgate(["webhooks"]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^Usage: modelgate webhooks /);
  });

  test("with --json a usage error is one JSON document on stdout too", async () => {
    const run = await modelgate(["promote", MODEL, "1", "--to", "Prod", "--json"]);
    assert.equal(run.code, 2);
    assert.deepEqual(run.json, {
      error_code: "USAGE",
      message: "--to must be one of None, Staging, Production, Archived, got 'Prod'",
      exit_code: 2,
    });
  });
});

describe("registry commands", () => {
  let first: ReturnType<typeof modelDir>;
  let second: ReturnType<typeof modelDir>;

  test("push uploads a directory (the large file in parts), registers a version and waits for READY", async () => {
    first = modelDir("v1", 1);
    const run = await ok([
      "push",
      first.dir,
      "--name",
      MODEL,
      "--multipart-threshold",
      "5",
      "--part-size",
      "5",
      "--tag",
      "git_sha=abc123",
      "--json",
    ]);
    const out = run.json;
    assert.equal(out.model_version.name, MODEL);
    assert.equal(out.model_version.version, "1");
    assert.equal(out.model_version.status, "READY");
    assert.equal(out.model_version.current_stage, "None");
    assert.deepEqual(out.model_version.tags, [{ key: "git_sha", value: "abc123" }]);
    assert.equal(out.run_created, true);
    assert.equal(out.source, `runs:/${out.run_id}/model`);
    assert.match(out.artifact_uri, new RegExp(`^mlflow-artifacts:/0/${out.run_id}/artifacts/model$`));
    assert.deepEqual(
      out.files.map((f: FileDoc) => [f.path, f.size, f.parts]),
      [
        ["MLmodel", first.files.MLmodel.length, 0],
        ["data/vocab v1.txt", 6, 0],
        ["empty.txt", 0, 0],
        ["weights.bin", 11 * MiB + 123, 3],
      ],
    );
    // The run push made is finished, and the bytes the registry serves are the bytes pushed.
    const runInfo = await (await fetch(`${server.base}/api/2.0/mlflow/runs/get?run_id=${out.run_id}`)).json();
    assert.equal(runInfo.run.info.status, "FINISHED");
    const pulled = await ok(["pull", `${MODEL}/1`, path.join(scratch, "pulled-v1"), "--json"]);
    assert.deepEqual(
      pulled.json.files.map((f: FileDoc) => [f.path, f.sha256]).sort(),
      Object.entries(first.files)
        .map(([p, b]) => [p, sha256(b)])
        .sort(),
    );
    assert.equal(pulled.json.version, "1");
  });

  test("pull exits 3 when bytes fail verification, with VERIFICATION_FAILED in --json", async () => {
    const dir = path.join(scratch, "pulled-corrupt");
    mkdirSync(dir, { recursive: true });
    const corrupt = Buffer.from(first.files["weights.bin"].subarray(0, 1024 * 1024));
    corrupt[4242]! ^= 0xff;
    writeFileSync(path.join(dir, "weights.bin.part"), corrupt);
    const run = await modelgate(["pull", `${MODEL}/1`, dir, "--json"]);
    assert.equal(run.code, 3, run.stderr);
    assert.equal(run.json.error_code, "VERIFICATION_FAILED");
    assert.equal(run.json.exit_code, 3);
    assert.match(
      run.stderr,
      new RegExp(
        `^modelgate pull: verification failed for 'weights\\.bin': expected sha256 ${sha256(first.files["weights.bin"])}, got [0-9a-f]{64}\\n$`,
      ),
    );
  });

  test("pull over a truncated file resumes it with a Range request and verifies the whole", async () => {
    const dir = path.join(scratch, "pulled-truncated");
    mkdirSync(dir, { recursive: true });
    const whole = first.files["weights.bin"];
    const kept = 5 * MiB;
    writeFileSync(path.join(dir, "weights.bin"), whole.subarray(0, kept));
    const run = await ok(["pull", `${MODEL}/1`, dir, "--json"]);
    const file = run.json.files.find((f: FileDoc) => f.path === "weights.bin");
    assert.deepEqual(
      [file.outcome, file.bytes_fetched],
      ["resumed", whole.length - kept],
      "only the missing bytes came over the network",
    );
    assert.equal(sha256(readFileSync(path.join(dir, "weights.bin"))), sha256(whole));
    assert.equal(existsSync(path.join(dir, "weights.bin.part")), false);
  });

  test("pull over a shorter file that is not this file's beginning downloads it whole and exits 0", async () => {
    const dir = path.join(scratch, "pulled-other");
    mkdirSync(dir, { recursive: true });
    const whole = first.files["weights.bin"];
    // Another version's file at the same path: its bytes differ from the first one on.
    writeFileSync(path.join(dir, "weights.bin"), bytes(MiB, 99));
    const run = await ok(["pull", `${MODEL}/1`, dir, "--json"]);
    const file = run.json.files.find((f: FileDoc) => f.path === "weights.bin");
    assert.equal(file.outcome, "downloaded");
    assert.equal(file.bytes_fetched, whole.length - MiB + whole.length, "the guess, then the whole file");
    assert.equal(sha256(readFileSync(path.join(dir, "weights.bin"))), sha256(whole));
  });

  test("a pull interrupted by Ctrl-C leaves a partial file that the next pull resumes with Range", async () => {
    const dir = path.join(scratch, "pulled-interrupted");
    const whole = first.files["weights.bin"];
    const cutAt = 4 * MiB;
    // A pass-through to the registry that sends the first 4 MiB of weights.bin and then nothing more,
    // as a link that stalls would; the registry's resolution is rewritten to send files through it.
    let stalled!: () => void;
    const stalledNow = new Promise<void>((resolve) => (stalled = resolve));
    const held: ServerResponse[] = [];
    const proxy = createServer(async (req, res) => {
      const upstream = await fetch(`${server.base}${req.url!}`, {
        method: req.method,
        headers: { ...(req.headers.range ? { range: req.headers.range } : {}) },
      });
      const headers = Object.fromEntries(
        [...upstream.headers].filter(
          ([k]) => !["content-length", "content-encoding", "transfer-encoding", "connection"].includes(k),
        ),
      );
      if (req.url!.startsWith("/v1/models/") && !req.url!.includes("/files/")) {
        const body = (await upstream.text()).replaceAll(server.base, proxyBase);
        return res.writeHead(upstream.status, headers).end(body);
      }
      const cut = req.url!.endsWith("/files/weights.bin") && !req.headers.range;
      res.writeHead(upstream.status, { ...headers, ...(cut ? { "content-length": String(whole.length) } : {}) });
      const reader = upstream.body!.getReader();
      let sent = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return res.end();
        const chunk = cut ? value.subarray(0, Math.max(0, cutAt - sent)) : value;
        res.write(chunk);
        sent += chunk.length;
        if (cut && sent >= cutAt) {
          await reader.cancel();
          held.push(res);
          return stalled();
        }
      }
    });
    const proxyPort = await freePort();
    const proxyBase = `http://127.0.0.1:${proxyPort}`;
    await new Promise<void>((resolve) => proxy.listen(proxyPort, "127.0.0.1", resolve));
    try {
      const child = spawn(process.execPath, [cli, "pull", `${MODEL}/1`, dir, "--quiet"], {
        cwd: root,
        env: {
          ...process.env,
          MODELGATE_URL: proxyBase,
          MODELGATE_TOKEN: "",
          MLFLOW_TRACKING_URI: "",
          MLFLOW_TRACKING_TOKEN: "",
        },
        stdio: "ignore",
      });
      const exited = once(child, "exit");
      await stalledNow;
      // Every byte the stalled link sent is on disk in the .part before the interruption.
      const part = path.join(dir, "weights.bin.part");
      const watcher = watch(dir);
      try {
        while (!existsSync(part) || statSync(part).size < cutAt) await once(watcher, "change");
      } finally {
        watcher.close();
      }
      child.kill("SIGINT");
      const [code, signal] = await exited;
      assert.ok(code !== 0, `the interrupted pull ended with ${code ?? signal}`);
      assert.equal(statSync(part).size, cutAt);
      assert.equal(existsSync(path.join(dir, "weights.bin")), false);
    } finally {
      for (const res of held) res.destroy();
      await new Promise((resolve) => proxy.close(resolve));
    }

    const again = await ok(["pull", `${MODEL}/1`, dir, "--json"]);
    const file = again.json.files.find((f: FileDoc) => f.path === "weights.bin");
    assert.deepEqual([file.outcome, file.bytes_fetched], ["resumed", whole.length - cutAt]);
    assert.equal(sha256(readFileSync(path.join(dir, "weights.bin"))), sha256(whole));
    assert.equal(existsSync(path.join(dir, "weights.bin.part")), false);
  });

  test("push --run attaches the files to an existing run; without --json it prints one summary line", async () => {
    const created = await (
      await fetch(`${server.base}/api/2.0/mlflow/runs/create`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ experiment_id: "0", run_name: "trainer" }),
      })
    ).json();
    const runId = created.run.info.run_id;
    second = modelDir("v2", 2, 1000);
    const run = await ok(["push", second.dir, "--name", MODEL, "--run", runId, "--artifact-path", "sk-model"]);
    assert.match(
      run.stdout,
      new RegExp(
        `^Pushed 4 file\\(s\\), .* to run ${runId}; registered ${MODEL} version 2 \\(READY\\) from runs:/${runId}/sk-model\\n$`,
      ),
    );
    const version = await ok(["versions", "ls", MODEL, "--json"]);
    assert.deepEqual(
      version.json.model_versions.map((v: VersionDoc) => [v.version, v.run_id]),
      [
        ["2", runId],
        ["1", version.json.model_versions[1].run_id],
      ],
    );
    // A run the caller owns is left as it was (RUNNING).
    const runInfo = await (await fetch(`${server.base}/api/2.0/mlflow/runs/get?run_id=${runId}`)).json();
    assert.equal(runInfo.run.info.status, "RUNNING");
  });

  test("models create makes a model once; --exist-ok accepts an existing one", async () => {
    const created = await ok(["models", "create", "cli-e2e-empty", "--description", "made by the CLI", "--json"]);
    assert.equal(created.json.created, true);
    assert.equal(created.json.registered_model.description, "made by the CLI");
    const again = await modelgate(["models", "create", "cli-e2e-empty"]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^modelgate models create: .*\(HTTP 400 RESOURCE_ALREADY_EXISTS\)\n$/);
    const existOk = await ok(["models", "create", "cli-e2e-empty", "--exist-ok", "--json"]);
    assert.equal(existOk.json.created, false);
  });

  test("models ls lists the model with its stages; versions ls prints a table", async () => {
    const models = await ok(["models", "ls", "--json"]);
    const model = models.json.registered_models.find((m: { name: string }) => m.name === MODEL);
    assert.ok(model, JSON.stringify(models.json));
    const filtered = await ok(["models", "ls", "--filter", `name = '${MODEL}'`, "--json"]);
    assert.deepEqual(
      filtered.json.registered_models.map((m: { name: string }) => m.name),
      [MODEL],
    );
    const table = await ok(["versions", "ls", MODEL]);
    assert.match(table.stdout, /^VERSION +STAGE +STATUS +ALIASES +RUN +CREATED\n2 +None +READY +- +\w+ +\d{4}-/);
  });

  test("promote moves versions through Staging to Production; the previous Production is archived", async () => {
    const staged = await ok(["promote", MODEL, "1", "--to", "staging", "--comment", "canary", "--json"]);
    assert.equal(staged.json.model_version.current_stage, "Staging");
    assert.deepEqual(staged.json.archived_versions, []);
    const prod1 = await ok(["promote", MODEL, "1", "--to", "Production", "--json"]);
    assert.equal(prod1.json.model_version.current_stage, "Production");
    assert.deepEqual(prod1.json.archived_versions, [], "nothing was in Production before");
    const prod2 = await ok(["promote", MODEL, "2", "--to", "Production", "--archive-existing"]);
    assert.equal(prod2.stdout, `${MODEL} version 2 is now in Production (version 1 archived)\n`);
    const versions = await ok(["versions", "ls", MODEL, "--json"]);
    assert.deepEqual(
      versions.json.model_versions.map((v: VersionDoc) => [v.version, v.current_stage]),
      [
        ["2", "Production"],
        ["1", "Archived"],
      ],
    );
    const models = await ok(["models", "ls", "--filter", `name = '${MODEL}'`]);
    assert.match(models.stdout, new RegExp(`\\n${MODEL} +2 +- `));
  });

  test("alias set points an alias at a version and alias rm removes it", async () => {
    const set = await ok(["alias", "set", MODEL, "champion", "1", "--json"]);
    assert.equal(set.json.version, "1");
    assert.equal(set.json.model_version.aliases.includes("champion"), true);
    const moved = await ok(["alias", "set", MODEL, "champion", "2"]);
    assert.equal(moved.stdout, `${MODEL}@champion -> version 2\n`);
    const pulled = await ok(["pull", `${MODEL}@champion`, path.join(scratch, "pulled-champion"), "--json"]);
    assert.equal(pulled.json.version, "2");
    const removed = await ok(["alias", "rm", MODEL, "champion", "--json"]);
    assert.deepEqual(removed.json, { name: MODEL, alias: "champion", deleted: true });
    const gone = await modelgate(["pull", `${MODEL}@champion`, path.join(scratch, "pulled-gone")]);
    assert.equal(gone.code, 1);
  });

  test("history lists the transitions, newest first", async () => {
    const history = await ok(["history", MODEL, "--json"]);
    const rows: string[][] = history.json.transitions.map((t: TransitionDoc) => [t.version, t.from_stage, t.to_stage]);
    assert.deepEqual(rows.at(-1), ["1", "None", "Staging"], "the oldest transition comes last");
    assert.ok(rows.some(([v, from, to]) => v === "2" && from === "None" && to === "Production"));
    assert.ok(rows.some(([v, from, to]) => v === "1" && from === "Production" && to === "Archived"));
    assert.ok(history.json.transitions.some((t: TransitionDoc) => t.comment === "canary"));
    const limited = await ok(["history", MODEL, "--version", "1", "--limit", "2", "--json"]);
    assert.equal(limited.json.transitions.length, 2);
    assert.ok(limited.json.transitions.every((t: TransitionDoc) => t.version === "1"));
    const text = await ok(["history", MODEL]);
    assert.match(text.stdout, /^TIME +VERSION +FROM +TO +ACTOR +COMMENT\n\d{4}-\d\d-\d\dT/);
  });

  test("rollback restores the previous Production version, and refuses when there is none", async () => {
    const rolled = await ok(["rollback", MODEL, "--comment", "bad canary", "--json"]);
    assert.equal(rolled.json.model_version.version, "1");
    assert.equal(rolled.json.model_version.current_stage, "Production");
    const versions = await ok(["versions", "ls", MODEL, "--json"]);
    assert.deepEqual(
      versions.json.model_versions.map((v: VersionDoc) => [v.version, v.current_stage]),
      [
        ["2", "Archived"],
        ["1", "Production"],
      ],
    );

    const lonely = "cli-e2e-lonely";
    await ok(["push", modelDir("lonely", 3, 10).dir, "--name", lonely, "--json"]);
    await ok(["promote", lonely, "1", "--to", "Production"]);
    const refused = await modelgate(["rollback", lonely]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^modelgate rollback: .*\(HTTP 409 RESOURCE_CONFLICT\)\n$/);
  });

  test("rollback --to restores a named earlier Production version; promote names the version it archived", async () => {
    const name = "cli-e2e-rollback-to";
    await ok(["models", "create", name]);
    const source = (await ok(["versions", "ls", MODEL, "--json"])).json.model_versions.find(
      (v: VersionDoc) => v.version === "1",
    ).source;
    for (let i = 0; i < 4; i++) {
      const created = await fetch(`${server.base}/api/2.0/mlflow/model-versions/create`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name, source }),
      });
      assert.equal(created.status, 200, await created.text());
    }
    await ok(["promote", name, "1", "--to", "Production"]);
    const second = await ok(["promote", name, "2", "--to", "Production"]);
    assert.equal(second.stdout, `${name} version 2 is now in Production (version 1 archived)\n`);
    const third = await ok(["promote", name, "3", "--to", "Production", "--json"]);
    assert.deepEqual(third.json.archived_versions, ["2"]);
    assert.equal(third.json.model_version.current_stage, "Production");

    const to1 = await ok(["rollback", name, "--to", "1", "--comment", "2 and 3 share the bug", "--json"]);
    assert.deepEqual(
      [to1.json.model_version.version, to1.json.model_version.current_stage, to1.json.archived_version],
      ["1", "Production", "3"],
    );
    const stages = async () =>
      (await ok(["versions", "ls", name, "--json"])).json.model_versions.map((v: VersionDoc) => [
        v.version,
        v.current_stage,
      ]);
    assert.deepEqual(await stages(), [
      ["4", "None"],
      ["3", "Archived"],
      ["2", "Archived"],
      ["1", "Production"],
    ]);
    const history = (await ok(["history", name, "--limit", "2", "--json"])).json.transitions.map((t: TransitionDoc) => [
      t.version,
      t.to_stage,
      t.comment,
    ]);
    assert.deepEqual(history, [
      ["3", "Archived", "Archived by the rollback to version 1"],
      ["1", "Production", "rollback to version 1: 2 and 3 share the bug"],
    ]);

    // Without --to, as before: back to the version the last rollback left.
    const plain = await ok(["rollback", name]);
    assert.equal(plain.stdout, `${name} version 3 is in Production again (version 1 archived)\n`);

    const current = await modelgate(["rollback", name, "--to", "3"]);
    assert.equal(current.code, 1);
    assert.match(
      current.stderr,
      /^modelgate rollback: Version 3 of 'cli-e2e-rollback-to' is the version in Production now, .*\(HTTP 409 RESOURCE_CONFLICT\)\n$/,
    );
    const never = await modelgate(["rollback", name, "--to", "4", "--json"]);
    assert.equal(never.code, 1);
    assert.equal(never.json.error_code, "RESOURCE_CONFLICT");
    assert.match(never.json.message, /^Version 4 of 'cli-e2e-rollback-to' has never been in Production/);
    const missing = await modelgate(["rollback", name, "--to", "9"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /\(HTTP 404 RESOURCE_DOES_NOT_EXIST\)\n$/);
    assert.deepEqual(await stages(), [
      ["4", "None"],
      ["3", "Production"],
      ["2", "Archived"],
      ["1", "Archived"],
    ]);
  });

  test("policy set, get and rm; a refused promotion exits 1 naming the rule", async () => {
    const name = "cli-e2e-policy";
    await ok(["push", modelDir("policy", 4, 10).dir, "--name", name]);
    const set = await ok([
      "policy",
      "set",
      name,
      JSON.stringify({ Staging: [{ type: "tag", key: "validation", value: "passed" }] }),
      "--json",
    ]);
    assert.equal(set.json.policy.Staging[0].key, "validation");
    const got = await ok(["policy", "get", name, "--json"]);
    assert.deepEqual(got.json.policy, set.json.policy);
    const refused = await modelgate(["promote", name, "1", "--to", "Staging"]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^modelgate promote: .*validation.*\(HTTP \d{3} [A-Z_]+\)\n$/);
    const policyFile = path.join(scratch, "policy.json");
    writeFileSync(
      policyFile,
      JSON.stringify({ Production: [{ type: "metric", key: "metrics.accuracy", operator: ">=", value: 0.9 }] }),
    );
    const fromFile = await ok(["policy", "set", name, "--file", policyFile, "--json"]);
    assert.equal(fromFile.json.policy.Staging, undefined);
    assert.equal((await ok(["promote", name, "1", "--to", "Staging"])).code, 0);
    const removed = await ok(["policy", "rm", name, "--json"]);
    assert.deepEqual(removed.json, { name, deleted: true });
  });
});

describe("server refusals exit 1 with the server's message on stderr", () => {
  test("an unknown model or version", async () => {
    const missing = await modelgate(["versions", "ls", "no-such-model"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^modelgate versions ls: .*no-such-model.* \(HTTP 404 RESOURCE_DOES_NOT_EXIST\)\n$/);
    const noVersion = await modelgate(["promote", MODEL, "99", "--to", "Staging", "--json"]);
    assert.equal(noVersion.code, 1);
    assert.equal(noVersion.json.error_code, "RESOURCE_DOES_NOT_EXIST");
    assert.equal(noVersion.json.http_status, 404);
    assert.equal(noVersion.json.exit_code, 1);
    assert.match(
      noVersion.stderr,
      new RegExp(
        `^modelgate promote: ${noVersion.json.message.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} \\(HTTP 404 RESOURCE_DOES_NOT_EXIST\\)\\n$`,
      ),
    );
  });

  test("a reserved alias is refused with MLflow's INVALID_PARAMETER_VALUE", async () => {
    const run = await modelgate(["alias", "set", MODEL, "latest", "1"]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^modelgate alias set: .*latest.* \(HTTP 400 INVALID_PARAMETER_VALUE\)\n$/);
  });

  test("an unreachable registry exits 1", async () => {
    const run = await modelgate(["models", "ls", "--json"], {}, `http://127.0.0.1:${await freePort()}`);
    assert.equal(run.code, 1);
    assert.match(
      run.json.message,
      /^cannot reach http:\/\/127\.0\.0\.1:\d+\/api\/2\.0\/mlflow\/registered-models\/search/,
    );
  });
});

describe("where the URL and token come from", () => {
  test("MLFLOW_TRACKING_URI when MODELGATE_URL is unset; --url over both", async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const viaMlflow = await modelgate(["models", "ls", "--json"], {
      MODELGATE_URL: "",
      MLFLOW_TRACKING_URI: server.base,
    });
    assert.equal(viaMlflow.code, 0, viaMlflow.stderr);
    const precedence = await modelgate(["models", "ls", "--json"], {
      MODELGATE_URL: server.base,
      MLFLOW_TRACKING_URI: dead,
    });
    assert.equal(precedence.code, 0, precedence.stderr);
    const override = await modelgate(["models", "ls", "--json", "--url", server.base], { MODELGATE_URL: dead });
    assert.equal(override.code, 0, override.stderr);
  });
});

describe("webhooks", () => {
  /** A receiver on 127.0.0.1 that records what it gets, and checks MLflow's signature. */
  const SECRET = "cli-e2e-secret";
  const received: { body: { entity?: string; action?: string }; signed: boolean }[] = [];
  let receiver: Server;
  let receiverUrl: string;

  before(async () => {
    receiver = createServer((req, res) => {
      let body = "";
      req.on("data", (d) => (body += d));
      req.on("end", () => {
        const id = req.headers["x-mlflow-delivery-id"];
        const ts = req.headers["x-mlflow-timestamp"];
        const expected = `v1,${createHmac("sha256", SECRET).update(`${id}.${ts}.${body}`).digest("base64")}`;
        received.push({ body: JSON.parse(body || "{}"), signed: req.headers["x-mlflow-signature"] === expected });
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    const port = await freePort();
    await new Promise<void>((r) => receiver.listen(port, "127.0.0.1", r));
    receiverUrl = `http://127.0.0.1:${port}/hook`;
  });
  after(() => receiver?.close());

  test("create, ls, test, deliveries and rm", async () => {
    const created = await ok([
      "webhooks",
      "create",
      "cli-hook",
      receiverUrl,
      "--event",
      "model_version.created",
      "--event",
      "model_version_alias.created",
      "--secret",
      SECRET,
      "--model",
      MODEL,
      "--json",
    ]);
    const id = created.json.webhook.webhook_id;
    assert.ok(id);
    assert.equal(created.json.webhook.secret, undefined, "the secret is write-only");
    assert.deepEqual(
      created.json.webhook.events.map((e: EventDoc) => `${e.entity}.${e.action}`.toLowerCase()),
      ["model_version.created", "model_version_alias.created"],
    );

    const listed = await ok(["webhooks", "ls", "--json"]);
    assert.ok(
      listed.json.webhooks.some(
        (w: { webhook_id: string; url: string }) => w.webhook_id === id && w.url === receiverUrl,
      ),
    );
    const table = await ok(["webhooks", "ls"]);
    assert.match(
      table.stdout,
      new RegExp(
        `${id} +cli-hook +ACTIVE +model_version.created,model_version_alias.created +${receiverUrl.replace(/\./g, "\\.")}`,
      ),
    );

    const tested = await ok(["webhooks", "test", id, "--json"]);
    assert.equal(tested.json.result.success, true);
    assert.equal(tested.json.result.response_status, 200);
    assert.ok(
      received.some((r) => r.signed),
      "the receiver got a delivery signed with the secret",
    );

    // A real event: an alias on the model reaches the receiver, and the delivery log shows it.
    await ok(["alias", "set", MODEL, "cli-hook-alias", "1"]);
    const deliveries = await pollUntil(
      "a delivered alias event, in the log and at the receiver",
      async () => {
        const listed = (await ok(["webhooks", "deliveries", id, "--json"])).json.deliveries;
        const aliasDelivered = listed.some(
          (d: EventDoc & { status: string }) =>
            `${d.entity}.${d.action}`.toLowerCase() === "model_version_alias.created" && d.status === "DELIVERED",
        );
        return aliasDelivered && received.some((r) => r.body.entity === "model_version_alias") && listed;
      },
      { attempts: 300, intervalMs: 300 },
    );
    assert.ok(received.some((r) => r.signed && r.body.entity === "model_version_alias" && r.body.action === "created"));

    // Only dead or failed deliveries can be replayed: the server refuses a delivered one (exit 1).
    const delivered = deliveries.find(
      (d: EventDoc & { delivery_id: string }) =>
        `${d.entity}.${d.action}`.toLowerCase() === "model_version_alias.created",
    );
    const replay = await modelgate(["webhooks", "replay", id, delivered.delivery_id]);
    assert.equal(replay.code, 1);
    assert.match(
      replay.stderr,
      /^modelgate webhooks replay: .*only dead or failed deliveries can be replayed.* \(HTTP 409 RESOURCE_CONFLICT\)\n$/,
    );

    const removed = await ok(["webhooks", "rm", id, "--json"]);
    assert.deepEqual(removed.json, { webhook_id: id, deleted: true });
    const again = await modelgate(["webhooks", "rm", id]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /HTTP 404 RESOURCE_DOES_NOT_EXIST/);
  });

  test("a test delivery the receiver refuses exits 1", async () => {
    const closed = `http://127.0.0.1:${await freePort()}/nobody`;
    const created = await ok([
      "webhooks",
      "create",
      "cli-dead-hook",
      closed,
      "--event",
      "model_version.created",
      "--json",
    ]);
    const run = await modelgate(["webhooks", "test", created.json.webhook.webhook_id, "--json"]);
    assert.equal(run.code, 1);
    assert.equal(run.json.result.success, false);
    await ok(["webhooks", "rm", created.json.webhook.webhook_id]);
  });
});

describe("token (with access control on)", () => {
  const ADMIN = "mg_cli_admin_0123456789abcdef0123456789abcdef";
  const authState = freshStateDir();
  let auth: Registry;
  before(async () => {
    auth = await startServer({
      port: await freePort(),
      stateDir: authState,
      env: { MODELGATE_AUTH: "on", MODELGATE_ADMIN_TOKEN: ADMIN },
    });
  });
  after(async () => {
    await auth?.stop();
    rmSync(authState, { recursive: true, force: true });
  });

  test("create, list and revoke with --json; MLFLOW_TRACKING_TOKEN is the fallback credential", async () => {
    const as = (args: string[], env?: Record<string, string>) => modelgate(args, env, auth.base);
    const created = await as(["token", "create", "--name", "ci", "--scope", "write", "--model", MODEL, "--json"], {
      MODELGATE_TOKEN: ADMIN,
    });
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.json.secret, /^mg_[0-9a-f]{64}$/);
    assert.deepEqual(created.json.token.scopes, ["read", "write"]);

    const listed = await as(["token", "list", "--json"], { MLFLOW_TRACKING_TOKEN: ADMIN });
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok(
      listed.json.tokens.some((t: { id: string; name: string }) => t.id === created.json.token.id && t.name === "ci"),
    );

    const denied = await as(["token", "list"], { MODELGATE_TOKEN: created.json.secret });
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /^modelgate token list: .*\(HTTP 403 PERMISSION_DENIED\)\n$/);

    const revoked = await as(["token", "revoke", created.json.token.id, "--json"], { MODELGATE_TOKEN: ADMIN });
    assert.deepEqual(revoked.json, { id: created.json.token.id, revoked: true });
    const after = await as(["models", "ls"], { MODELGATE_TOKEN: created.json.secret });
    assert.equal(after.code, 1);
    assert.match(after.stderr, /HTTP 401 UNAUTHENTICATED/);
  });
});
