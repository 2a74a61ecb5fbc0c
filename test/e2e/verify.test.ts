// Supply-chain checks end to end against the real `npm start`, as users run the CLI
// (bin/modelgate.mjs): `pull` verifies the version's model.sig with the registry's key (pinned or
// not) before fetching, writes it into the directory, and refuses a version whose pickle scan is
// unsafe; `verify` checks a directory offline and names what changed; a wrong key fails both.
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { root, runCli, runCliOk } from "./cli-runner";
import { pollUntil } from "./poll";
import { registryForThisFile } from "./server";

const MODEL = "verify-e2e";
const MiB = 1024 * 1024;

const server = registryForThisFile({ scratchPrefix: "modelgate-verify-" });
const scratch = server.scratch;
const at = (...parts: string[]) => path.join(scratch, ...parts);

const modelgate = (args: string[], env: Record<string, string> = {}) => runCli(server.base, args, env);
const ok = (args: string[], env?: Record<string, string>) => runCliOk(server.base, args, env);

function writeTree(dir: string, files: Record<string, string | Buffer>) {
  for (const [file, body] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), body);
  }
}

/** Every file below `dir`, as sorted POSIX paths. */
function tree(dir: string, prefix = ""): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? tree(path.join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]))
    .sort();
}

const FILES: Record<string, string | Buffer> = {
  MLmodel: "artifact_path: model\nflavors: {}\n",
  "weights.bin": Buffer.alloc(3 * MiB + 17, 7),
  "data/vocab v1.txt": "a\nb\nc\n",
  "empty.txt": "",
};

describe("pull and verify", () => {
  let pem: string;
  let registryKid: string;

  test("pull verifies model.sig with the registry's published key and says it was not pinned", async () => {
    writeTree(at("src"), FILES);
    await ok(["push", at("src"), "--name", MODEL, "--json"]);
    const run = await ok(["pull", `${MODEL}/1`, at("pulled"), "--json"]);
    assert.equal(run.json.signature.verified, true);
    assert.equal(run.json.signature.key_pinned, false);
    assert.equal(run.json.signature.signed_files, 4);
    assert.deepEqual(run.json.signature.unsigned_files, []);
    assert.deepEqual(tree(at("pulled")), ["MLmodel", "data/vocab v1.txt", "empty.txt", "model.sig", "weights.bin"]);
    const served = await (await fetch(`${server.base}/v1/models/${MODEL}/versions/1/model.sig`)).text();
    assert.equal(readFileSync(at("pulled", "model.sig"), "utf8"), served);
    registryKid = run.json.signature.kid;

    const text = await ok(["pull", `${MODEL}/1`, at("pulled-text")]);
    assert.match(text.stdout, /Signature verified \(model\.sig written\): 4 signed file\(s\), root [0-9a-f]{64}, key /);
    assert.match(text.stdout, /Note: the key was not pinned \(--key or MODELGATE_PUBLIC_KEY\)/);
  });

  test("pull with a pinned key (--key file, or MODELGATE_PUBLIC_KEY as a JWK) says it was pinned", async () => {
    const res = await fetch(`${server.base}/.well-known/modelgate-keys/${registryKid}.pem`);
    assert.equal(res.status, 200);
    pem = await res.text();
    writeFileSync(at("registry.pem"), pem);
    const pinned = await ok(["pull", `${MODEL}/1`, at("pulled-pinned"), "--key", at("registry.pem"), "--json"]);
    assert.equal(pinned.json.signature.key_pinned, true);
    const text = await ok(["pull", `${MODEL}/1`, at("pulled-pinned")]);
    assert.doesNotMatch(text.stdout.replace(/Note: the key was not pinned.*\n/, ""), /not pinned/);

    const jwks = (await (await fetch(`${server.base}/.well-known/modelgate-keys`)).json()) as { keys: unknown[] };
    const viaEnv = await ok(["pull", `${MODEL}/1`, at("pulled-env"), "--json"], {
      MODELGATE_PUBLIC_KEY: JSON.stringify(jwks.keys[0]),
    });
    assert.equal(viaEnv.json.signature.key_pinned, true);
  });

  test("verify accepts the pulled directory offline, with the pinned key", async () => {
    // An unreachable registry URL: a pinned key needs no network.
    const run = await ok(["verify", at("pulled"), "--key", at("registry.pem"), "--json"], {
      MODELGATE_URL: "http://127.0.0.1:9",
    });
    assert.equal(run.json.verified, true);
    assert.equal(run.json.files, 4);
    assert.equal(run.json.key_pinned, true);
  });

  /** A copy of the pulled directory, changed by `change`, run through `verify` with the pinned key. */
  async function verifyChanged(name: string, change: (dir: string) => void) {
    const dir = at(name);
    cpSync(at("pulled"), dir, { recursive: true });
    change(dir);
    return modelgate(["verify", dir, "--key", at("registry.pem")]);
  }

  test("verify names a changed byte, a removed file and an added file (exit 3)", async () => {
    const changed = await verifyChanged("tampered-byte", (dir) => {
      const bytes = readFileSync(path.join(dir, "weights.bin"));
      bytes[MiB + 5]! ^= 0x01;
      writeFileSync(path.join(dir, "weights.bin"), bytes);
    });
    assert.equal(changed.code, 3, changed.stderr);
    assert.match(
      changed.stderr,
      /^modelgate verify: signature verification failed for .*tampered-byte: changed file 'weights\.bin': signed sha256 [0-9a-f]{64}, found [0-9a-f]{64}\n$/,
    );

    const removed = await verifyChanged("tampered-removed", (dir) => rmSync(path.join(dir, "data/vocab v1.txt")));
    assert.equal(removed.code, 3, removed.stderr);
    assert.match(removed.stderr, /missing file 'data\/vocab v1\.txt': signed, but not present\n$/);

    const added = await verifyChanged("tampered-added", (dir) => writeFileSync(path.join(dir, "data/extra.py"), "x"));
    assert.equal(added.code, 3, added.stderr);
    assert.match(added.stderr, /extra file 'data\/extra\.py': present, but not signed\n$/);

    const json = await modelgate(["verify", at("tampered-added"), "--key", at("registry.pem"), "--json"]);
    assert.equal(json.json.error_code, "VERIFICATION_FAILED");
    assert.equal(json.json.exit_code, 3);
  });

  test("a wrong key fails verify and pull (exit 3), and pull then fetches nothing", async () => {
    const { publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    writeFileSync(at("wrong.pem"), publicKey.export({ type: "spki", format: "pem" }));
    const verify = await modelgate(["verify", at("pulled"), "--key", at("wrong.pem")]);
    assert.equal(verify.code, 3, verify.stderr);
    assert.match(
      verify.stderr,
      /key mismatch: the signature was made with another key \(its key hint [0-9a-f]{64}\) than the one given/,
    );
    const pull = await modelgate(["pull", `${MODEL}/1`, at("pulled-wrong-key"), "--key", at("wrong.pem")]);
    assert.equal(pull.code, 3, pull.stderr);
    assert.match(pull.stderr, /^modelgate pull: signature verification failed for verify-e2e version 1: key mismatch/);
    assert.equal(existsSync(at("pulled-wrong-key")), false);
  });

  test("model A's signature presented for model B fails pull and verify, naming both", async () => {
    // B holds exactly A's bytes, so only the signature's subject tells them apart. A mirror (a
    // proxy in front of the registry) hands out A's registry-signed model.sig for B.
    const twin = `${MODEL}-twin`;
    await ok(["push", at("src"), "--name", twin, "--json"]);
    const sigA = await (await fetch(`${server.base}/v1/models/${MODEL}/versions/1/model.sig`)).text();
    const mirror = http.createServer((req, res) => {
      if (req.url === `/v1/models/${twin}/versions/1/model.sig`) {
        res.writeHead(200, { "content-type": "application/json" });
        return res.end(sigA);
      }
      const target = new URL(req.url ?? "/", server.base);
      const upstream = http.request(
        target,
        { method: req.method, headers: { ...req.headers, host: target.host } },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => mirror.listen(0, "127.0.0.1", resolve));
    try {
      const viaMirror = { MODELGATE_URL: `http://127.0.0.1:${(mirror.address() as AddressInfo).port}` };
      const pull = await modelgate(["pull", `${twin}/1`, at("pulled-twin"), "--key", at("registry.pem")], viaMirror);
      assert.equal(pull.code, 3, pull.stderr);
      assert.match(
        pull.stderr,
        /^modelgate pull: signature verification failed for verify-e2e-twin version 1: the signature was issued for model 'verify-e2e' version 1 \("modelgate\/models\/verify-e2e\/versions\/1"\), not for model 'verify-e2e-twin' version 1\n$/,
      );
      assert.equal(existsSync(at("pulled-twin")), false);
      // Through the mirror, B's own signature still pulls.
      const own = await ok(["pull", `${MODEL}/1`, at("pulled-mirror"), "--key", at("registry.pem")], viaMirror);
      assert.match(own.stdout, /Signature verified/);
    } finally {
      await new Promise((resolve) => mirror.close(resolve));
    }

    const offline = { MODELGATE_URL: "http://127.0.0.1:9" };
    const asTwin = await modelgate(["verify", at("pulled"), "--key", at("registry.pem"), "--model", twin], offline);
    assert.equal(asTwin.code, 3, asTwin.stderr);
    assert.match(asTwin.stderr, /issued for model 'verify-e2e' version 1 .*, not for model 'verify-e2e-twin'\n$/);
    const wrongVersion = await modelgate(
      ["verify", at("pulled"), "--key", at("registry.pem"), "--model", `${MODEL}/2`],
      offline,
    );
    assert.equal(wrongVersion.code, 3, wrongVersion.stderr);
    assert.match(wrongVersion.stderr, /not for model 'verify-e2e' version 2\n$/);
    const right = await ok(
      ["verify", at("pulled"), "--key", at("registry.pem"), "--model", `${MODEL}/1`, "--json"],
      offline,
    );
    assert.equal(right.json.model_checked, true);
    assert.equal(right.json.model, MODEL);
    assert.equal(right.json.model_version, 1);
    const unchecked = await ok(["verify", at("pulled"), "--key", at("registry.pem")], offline);
    assert.match(
      unchecked.stdout,
      /Signed for model 'verify-e2e' version 1 \("modelgate\/models\/verify-e2e\/versions\/1"\); not checked: pass --model/,
    );
  });

  test("pull refuses a version whose pickle scan is unsafe, naming the file, unless --allow-unsafe", async () => {
    const evil = readFileSync(path.join(root, "test/fixtures/pickles/evil-os-system-protocol2.pkl"));
    writeTree(at("evil"), { MLmodel: "flavors: {}\n", "model.pkl": evil });
    const pushed = await ok(["push", at("evil"), "--name", `${MODEL}-evil`, "--json"]);
    const version = pushed.json.model_version.version;
    // The scan runs in the background (a queue consumer): wait for its verdict.
    const verdict = await pollUntil(
      "the pickle scan's verdict",
      async () => {
        const res = await fetch(
          `${server.base}/api/2.0/modelgate/model-versions/scan?name=${MODEL}-evil&version=${version}`,
        );
        const body = (await res.json()) as { scan: string };
        return body.scan !== "pending" && body.scan;
      },
      { attempts: 600, intervalMs: 100 },
    );
    assert.equal(verdict, "unsafe");
    const refused = await modelgate(["pull", `${MODEL}-evil/${version}`, at("pulled-evil")]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /refusing verify-e2e-evil version 1: its pickle scan is 'unsafe': model\.pkl \(/);
    assert.match(refused.stderr, /pass --allow-unsafe/);
    assert.equal(existsSync(at("pulled-evil")), false);

    const allowed = await ok(["pull", `${MODEL}-evil/${version}`, at("pulled-evil"), "--allow-unsafe", "--json"]);
    assert.equal(allowed.json.signature.scan, "unsafe");
    assert.deepEqual(tree(at("pulled-evil")), ["MLmodel", "model.pkl", "model.sig"]);
  });
});
