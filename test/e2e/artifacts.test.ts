// Streaming end to end: a 300 MiB artifact goes up as one PUT and as multipart through the real
// `npm start`, and comes back with the same sha256.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { request } from "node:http";
import { test } from "node:test";
import { registryForThisFile } from "./server";

const MiB = 1024 * 1024;
const SIZE = 300 * MiB;
const server = registryForThisFile();

/** Deterministic pseudo-random bytes, produced chunk by chunk so the test never holds them all. */
function* chunks(total: number, seed: number) {
  const block = Buffer.alloc(MiB);
  for (let offset = 0; offset < total; offset += MiB) {
    for (let i = 0; i < MiB; i += 4) block.writeUInt32LE((Math.imul(offset + i, 2654435761) ^ seed) >>> 0, i);
    yield block.subarray(0, Math.min(MiB, total - offset));
  }
}

/** A plain HTTP answer to a PUT: status, ETag and body text. */
interface PutAnswer {
  status: number | undefined;
  etag: string | undefined;
  body: string;
}

function put(url: string, total: number, seed: number): Promise<PutAnswer & { sha256: string }> {
  const hash = createHash("sha256");
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "PUT", agent: false, headers: { "content-length": total } }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () =>
        resolve({ status: res.statusCode, etag: res.headers.etag, body, sha256: hash.digest("hex") }),
      );
    });
    req.on("error", reject);
    const source = chunks(total, seed);
    const pump = () => {
      for (;;) {
        const next = source.next();
        if (next.done) return req.end();
        hash.update(next.value);
        if (!req.write(Buffer.from(next.value))) return req.once("drain", pump);
      }
    };
    pump();
  });
}

async function download(url: string) {
  const res = await fetch(url, { headers: { connection: "close" } }).catch((error) => {
    throw new Error(`GET ${url}: ${error.cause?.message ?? error.message}\n${server.output().slice(-2000)}`);
  });
  assert.equal(res.status, 200);
  const hash = createHash("sha256");
  let size = 0;
  // Node's fetch body is async-iterable; the DOM library (in this tsconfig for the browser tests) omits it.
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    hash.update(chunk);
  }
  return { size, sha256: hash.digest("hex"), length: Number(res.headers.get("content-length")) };
}

/** A new run's artifact root (`0/<run>/artifacts`): writes land only under a run's or logged model's root. */
async function runRoot() {
  const res = await fetch(`${server.base}/api/2.0/mlflow/runs/create`, {
    method: "POST",
    headers: { "content-type": "application/json", connection: "close" },
    body: JSON.stringify({ experiment_id: "0" }),
  });
  const body = (await res.json()) as { run: { info: { artifact_uri: string } } };
  assert.equal(res.status, 200, JSON.stringify(body));
  return body.run.info.artifact_uri.replace(/^mlflow-artifacts:\//, "");
}

test("a 300 MiB artifact uploaded in one PUT downloads with the same sha256", async () => {
  const url = `${server.base}/api/2.0/mlflow-artifacts/artifacts/${await runRoot()}/single.bin`;
  const up = await put(url, SIZE, 1);
  assert.equal(up.status, 200, up.body);
  const down = await download(url);
  assert.deepEqual(down, { size: SIZE, length: SIZE, sha256: up.sha256 });
});

test("a 300 MiB artifact uploaded as multipart downloads with the same sha256", async () => {
  // As MLflow's client sends it: the URL names the directory, the body the local file path.
  const dir = await runRoot();
  const path = `${dir}/multipart.bin`;
  const partSize = 50 * MiB;
  const numParts = SIZE / partSize;
  const created = await fetch(`${server.base}/api/2.0/mlflow-artifacts/mpu/create/${dir}`, {
    method: "POST",
    headers: { "content-type": "application/json", connection: "close" },
    body: JSON.stringify({ path: "/tmp/out/multipart.bin", num_parts: numParts }),
  }).then((r) => r.json() as Promise<any>);
  assert.equal(created.credentials.length, numParts);
  const whole = createHash("sha256");
  for (const chunk of chunks(SIZE, 2)) whole.update(chunk);
  // Each part is the matching 50 MiB slice of the same deterministic stream.
  const parts: { part_number: number; etag: string | undefined }[] = [];
  for (const credential of created.credentials) {
    const index = credential.part_number - 1;
    const res = await putSlice(credential.url, index * partSize, partSize, 2).catch((error) => {
      throw new Error(`part ${credential.part_number}: ${error.message}\n${server.output().slice(-2000)}`);
    });
    assert.equal(res.status, 200, res.body);
    parts.push({ part_number: credential.part_number, etag: res.etag });
  }
  const done = await fetch(`${server.base}/api/2.0/mlflow-artifacts/mpu/complete/${dir}`, {
    method: "POST",
    headers: { "content-type": "application/json", connection: "close" },
    body: JSON.stringify({ path: "multipart.bin", upload_id: created.upload_id, parts }),
  });
  assert.equal(done.status, 200, await done.text());
  const down = await download(`${server.base}/api/2.0/mlflow-artifacts/artifacts/${path}`);
  assert.deepEqual(down, { size: SIZE, length: SIZE, sha256: whole.digest("hex") });
});

/** PUTs bytes [start, start + length) of the deterministic stream with the given seed. */
function putSlice(url: string, start: number, length: number, seed: number): Promise<PutAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "PUT", agent: false, headers: { "content-length": length } }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode, etag: res.headers.etag, body }));
    });
    req.on("error", reject);
    const source = chunks(start + length, seed);
    let offset = 0;
    const pump = () => {
      for (;;) {
        const next = source.next();
        if (next.done) return req.end();
        const chunk = next.value;
        const from = offset;
        offset += chunk.byteLength;
        if (offset <= start) continue;
        const slice = Buffer.from(chunk.subarray(Math.max(0, start - from)));
        if (!req.write(slice)) return req.once("drain", pump);
      }
    };
    pump();
  });
}
