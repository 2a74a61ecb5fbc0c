// docs/ci-cd.md, run for real: every block under a `<!-- file: ... -->` marker is written into an
// empty directory exactly as the page shows it, and `bash ci/pipeline.sh` runs against `npm start`
// with `modelgate` on the PATH and the receiver on 127.0.0.1. Then the registry is checked for
// what the page promises: two releases, a refused one, a rollback, and the deliveries behind them.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { freePort, registryForThisFile } from "./server";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const doc = readFileSync(path.join(root, "docs/ci-cd.md"), "utf8");
const MODEL = "house-prices";

/** `{path: content}` of every block under a file marker. */
function filesOf(markdown: string) {
  const files: Record<string, string> = {};
  for (const m of markdown.matchAll(/<!-- file: (\S+) -->\n```\w*\n([\s\S]*?)\n```/g)) files[m[1]!] = `${m[2]}\n`;
  return files;
}

const server = registryForThisFile({ scratchPrefix: "modelgate-pipeline-" });
const work = server.scratch;

async function get(route: string, params: Record<string, string>) {
  const res = await fetch(`${server.base}/api/2.0/${route}?${new URLSearchParams(params)}`);
  return (await res.json()) as any;
}

test("the page holds the pipeline's files, and its workflow calls only those files and real commands", () => {
  const files = filesOf(doc);
  assert.deepEqual(Object.keys(files).sort(), [
    ".github/workflows/model.yml",
    "ci/evaluate-and-promote.sh",
    "ci/evaluate.mjs",
    "ci/pipeline.sh",
    "ci/receiver.mjs",
    "ci/train.mjs",
  ]);
  const workflow = files[".github/workflows/model.yml"] ?? "";
  for (const [script] of workflow.matchAll(/ci\/[\w.-]+\.(?:sh|mjs)/g))
    assert.ok(files[script], `${script} is on the page`);
  const commands = new Set(
    [
      ...Object.values(files)
        .join("\n")
        .matchAll(/\bmodelgate ([a-z]+(?: (?:ls|create|set|rm|test|deliveries|get))?)\b/g),
    ].map((m) => m[1]),
  );
  assert.ok(commands.has("push") && commands.has("rollback") && commands.has("promote"), [...commands].join(", "));
});

test("ci/pipeline.sh from docs/ci-cd.md trains, pushes, evaluates on the webhook, promotes, refuses and rolls back", async () => {
  for (const [file, content] of Object.entries(filesOf(doc))) {
    mkdirSync(path.dirname(path.join(work, file)), { recursive: true });
    writeFileSync(path.join(work, file), content);
  }
  // `modelgate` on the PATH, as `npm link` would put it.
  const bin = path.join(work, ".bin");
  mkdirSync(bin);
  writeFileSync(
    path.join(bin, "modelgate"),
    `#!/bin/sh\nexec "${process.execPath}" "${path.join(root, "bin/modelgate.mjs")}" "$@"\n`,
  );
  chmodSync(path.join(bin, "modelgate"), 0o755);

  const receiverPort = await freePort();
  const run = await new Promise<{ code: number | string | null | undefined; stdout: string; stderr: string }>(
    (resolve) =>
      execFile(
        "bash",
        ["ci/pipeline.sh"],
        {
          cwd: work,
          timeout: 420_000,
          maxBuffer: 16 * 1024 * 1024,
          env: {
            ...process.env,
            PATH: `${bin}:${path.dirname(process.execPath)}:${process.env.PATH}`,
            MODELGATE_URL: server.base,
            MODELGATE_TOKEN: "",
            MLFLOW_TRACKING_URI: "",
            MLFLOW_TRACKING_TOKEN: "",
            RECEIVER_PORT: String(receiverPort),
          },
        },
        (error, stdout, stderr) => resolve({ code: error ? error.code : 0, stdout, stderr }),
      ),
  );
  const receiverLog = (() => {
    try {
      return readFileSync(path.join(work, "receiver.log"), "utf8");
    } catch {
      return "";
    }
  })();
  assert.equal(
    run.code,
    0,
    `pipeline exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}\nreceiver:\n${receiverLog}`,
  );
  assert.match(run.stdout, /pipeline done: house-prices version 1 serves again, 2 archived, 3 refused\n$/);
  assert.match(run.stdout, /house-prices version 1: r2 = (0\.9\d+|1\.0000), validation=passed/);
  assert.match(run.stdout, /house-prices version 3: r2 = 0\.\d+, validation=failed/);
  assert.match(
    readFileSync(path.join(work, "refused.txt"), "utf8"),
    /^modelgate promote: Promotion policy of 'house-prices' refused version 3 → Production: tag validation must be 'passed'.* \(HTTP 400 INVALID_PARAMETER_VALUE\)\n$/,
  );

  // What the registry holds afterwards.
  const { model_versions: versions } = await get("mlflow/model-versions/search", { filter: `name = '${MODEL}'` });
  type Version = { version: string; current_stage: string; run_id: string; tags?: { key: string; value: string }[] };
  const byNumber: Record<string, Version> = Object.fromEntries(versions.map((v: Version) => [v.version, v]));
  assert.equal(byNumber["1"]?.current_stage, "Production");
  assert.equal(byNumber["2"]?.current_stage, "Archived");
  assert.equal(byNumber["3"]?.current_stage, "None");
  const tag = (v: Version | undefined) => v?.tags?.find((t) => t.key === "validation")?.value;
  assert.deepEqual([tag(byNumber["1"]), tag(byNumber["2"]), tag(byNumber["3"])], ["passed", "passed", "failed"]);
  const { run: run1 } = await get("mlflow/runs/get", { run_id: byNumber["1"]?.run_id ?? "" });
  assert.ok(run1.data.metrics.find((m: { key: string }) => m.key === "r2").value >= 0.9);
  const { transitions } = await get("modelgate/model-versions/transitions", { name: MODEL });
  // The rollback's two rows (2 archived, 1 restored) share a timestamp: either may come first.
  type Transition = { version: string; from_stage: string; to_stage: string; comment: string };
  const latest = (transitions as Transition[])
    .slice(0, 2)
    .map((t) => [t.version, t.from_stage, t.to_stage])
    .sort();
  assert.deepEqual(latest, [
    ["1", "Archived", "Production"],
    ["2", "Production", "Archived"],
  ]);
  assert.match(
    (transitions as Transition[]).find((t) => t.version === "1")?.comment ?? "",
    /error rate above budget after release 2/,
  );
  // Every evaluation was started by a signed delivery the receiver accepted.
  const evaluated = receiverLog.match(/^model_version\.created /gm) ?? [];
  assert.equal(evaluated.length, 3, receiverLog);
});
