/// <reference types="node" />
// `push`: a local directory becomes a registered model version (Node only). Every file goes up
// through MLflow's proxied artifact API under the run's artifact root (large files through the
// multipart API, one signed part URL per part), then the version is created from `runs:/<run>/<path>`
// and awaited until READY, as MLflow's own `log_model(registered_model_name=...)` does.
import { createReadStream } from "node:fs";
import { lstat, readdir } from "node:fs/promises";
import { Readable } from "node:stream";
import path from "node:path";
import { ModelgateError, ModelgateHttpError, ModelgateNetworkError } from "./errors";
import type { ModelgateClient, ModelVersionJson } from "./modelgate-client";

export interface PushProgress {
  bytesDone: number;
  bytesTotal: number;
  filesDone: number;
  filesTotal: number;
}

export interface PushOptions {
  /** An existing run whose artifact root receives the files; by default a new run is created (and finished). */
  runId?: string;
  /** Experiment of the new run (by name, created when missing); default: MLflow's `Default` ("0"). */
  experiment?: string;
  /** Where under the run's artifacts the files go, and the `runs:/<run>/<path>` source; default "model". */
  artifactPath?: string;
  /** Files of at least this many bytes go up in parts; default 50 MiB (a Worker takes bodies up to 100 MB). */
  multipartThreshold?: number;
  /** Part size for multipart uploads; default 50 MiB. R2 needs at least 5 MiB for every part but the last. */
  partSize?: number;
  /** Requests in flight at once; default 4. */
  concurrency?: number;
  description?: string;
  tags?: Record<string, string>;
  /** How long to wait for READY; default 300 s. */
  readyTimeoutMs?: number;
  onProgress?: (progress: PushProgress) => void;
  signal?: AbortSignal;
}

export interface PushedFile {
  path: string;
  size: number;
  /** Parts it went up in; 0 for a single PUT. */
  parts: number;
}

export interface PushResult {
  runId: string;
  runCreated: boolean;
  /** The version's `source`, e.g. `runs:/<run>/model`. */
  source: string;
  /** Where the files are, e.g. `mlflow-artifacts:/0/<run>/artifacts/model`. */
  artifactUri: string;
  files: PushedFile[];
  bytesTotal: number;
  modelVersion: ModelVersionJson;
}

const MIB = 1024 * 1024;
const DEFAULT_THRESHOLD = 50 * MIB;
const DEFAULT_PART_SIZE = 50 * MIB;
const MIN_PART_SIZE = 5 * MIB;
const RETRIES = 3;

export async function push(
  client: ModelgateClient,
  dir: string,
  name: string,
  options: PushOptions = {},
): Promise<PushResult> {
  const root = path.resolve(dir);
  const threshold = options.multipartThreshold ?? DEFAULT_THRESHOLD;
  const partSize = options.partSize ?? DEFAULT_PART_SIZE;
  if (partSize < MIN_PART_SIZE)
    throw new ModelgateError(`part size ${partSize} is below R2's minimum of ${MIN_PART_SIZE} bytes`);
  const artifactPath = (options.artifactPath ?? "model").replace(/^\/+|\/+$/g, "");
  if (artifactPath === "" || artifactPath.split("/").some((s) => s === "." || s === "..")) {
    throw new ModelgateError(`artifact path '${options.artifactPath}' must be a relative path without '.' or '..'`);
  }

  const files = await listFiles(root);
  if (files.length === 0) throw new ModelgateError(`'${dir}' holds no files to push`);

  // The run first: its artifact root is where the files go.
  let runCreated = false;
  let run;
  if (options.runId) {
    run = await client.getRun(options.runId);
  } else {
    const experimentId = options.experiment ? await client.experimentId(options.experiment) : undefined;
    run = await client.createRun({
      experimentId,
      runName: `modelgate-push-${name}`,
      tags: { "mlflow.source.name": "modelgate push" },
    });
    runCreated = true;
  }
  const runId = run.info.run_id;
  const rootUri = run.info.artifact_uri.replace(/\/+$/, "");
  if (!rootUri.startsWith("mlflow-artifacts:")) {
    throw new ModelgateError(
      `run ${runId} stores its artifacts at '${rootUri}', not through this registry's artifact API (mlflow-artifacts:)`,
    );
  }
  const artifactUri = `${rootUri}/${artifactPath}`;
  const remoteBase = `${rootUri.replace(/^mlflow-artifacts:\/*/, "")}/${artifactPath}`;

  try {
    const progress: PushProgress = {
      bytesDone: 0,
      bytesTotal: files.reduce((n, f) => n + f.size, 0),
      filesDone: 0,
      filesTotal: files.length,
    };
    const report = () => options.onProgress?.({ ...progress });
    report();
    const pushed = await uploadAll(
      client,
      files,
      remoteBase,
      { threshold, partSize, concurrency: options.concurrency ?? 4, signal: options.signal },
      (delta, fileDone) => {
        progress.bytesDone += delta;
        if (fileDone) progress.filesDone++;
        report();
      },
    );

    await client.createModel(name, { existOk: true });
    const source = `runs:/${runId}/${artifactPath}`;
    const created = await client.createVersion({
      name,
      source,
      runId,
      description: options.description,
      tags: options.tags,
    });
    const modelVersion = await client.waitUntilReady(name, created.version, {
      timeoutMs: options.readyTimeoutMs,
      signal: options.signal,
    });
    if (runCreated) await client.finishRun(runId, "FINISHED");
    return { runId, runCreated, source, artifactUri, files: pushed, bytesTotal: progress.bytesTotal, modelVersion };
  } catch (error) {
    // A run this push made and could not complete is marked so in the tracking UI; the error stays the one that matters.
    if (runCreated) await client.finishRun(runId, "FAILED").catch(() => undefined);
    throw error;
  }
}

interface LocalFile {
  /** `/`-separated, relative to the pushed directory. */
  path: string;
  absolute: string;
  size: number;
}

/** Regular files under `root`, sorted; symbolic links are refused rather than followed out of the tree. */
async function listFiles(root: string): Promise<LocalFile[]> {
  const stats = await lstat(root).catch(() => null);
  if (!stats?.isDirectory()) throw new ModelgateError(`'${root}' is not a directory`);
  const out: LocalFile[] = [];
  const walk = async (dir: string, prefix: string) => {
    for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const absolute = path.join(dir, entry.name);
      const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await walk(absolute, relative);
      else if (entry.isFile()) out.push({ path: relative, absolute, size: (await lstat(absolute)).size });
      else throw new ModelgateError(`'${relative}' is not a regular file (symbolic links and devices are not pushed)`);
    }
  };
  await walk(root, "");
  return out;
}

interface UploadSettings {
  threshold: number;
  partSize: number;
  concurrency: number;
  signal?: AbortSignal;
}

type OnBytes = (delta: number, fileDone: boolean) => void;

/** Single PUTs and parts share one pool of `concurrency` requests; the first failure stops the rest. */
async function uploadAll(
  client: ModelgateClient,
  files: LocalFile[],
  remoteBase: string,
  settings: UploadSettings,
  onBytes: OnBytes,
): Promise<PushedFile[]> {
  const stop = new AbortController();
  const signal = settings.signal ? AbortSignal.any([settings.signal, stop.signal]) : stop.signal;
  const pool = new Pool(settings.concurrency);
  const results = await Promise.all(
    files.map(async (file): Promise<PushedFile> => {
      const remote = `${remoteBase}/${file.path}`;
      try {
        if (file.size < settings.threshold) {
          await pool.run(() =>
            withRetries(signal, onBytes, (sent) =>
              client.uploadArtifact(remote, fileStream(file.absolute, 0, file.size, sent), file.size, { signal }),
            ),
          );
          onBytes(0, true);
          return { path: file.path, size: file.size, parts: 0 };
        }
        const parts = await uploadMultipart(client, file, remote, settings.partSize, pool, signal, onBytes);
        onBytes(0, true);
        return { path: file.path, size: file.size, parts };
      } catch (error) {
        stop.abort();
        throw error;
      }
    }),
  ).catch(async (error) => {
    await pool.drain();
    throw error;
  });
  return results;
}

async function uploadMultipart(
  client: ModelgateClient,
  file: LocalFile,
  remote: string,
  partSize: number,
  pool: Pool,
  signal: AbortSignal,
  onBytes: OnBytes,
): Promise<number> {
  const count = Math.ceil(file.size / partSize);
  const upload = await client.createMultipartUpload(remote, count);
  if (upload.credentials.length !== count)
    throw new ModelgateError(
      `'${file.path}': asked for ${count} part URLs, the server gave ${upload.credentials.length}`,
    );
  try {
    const parts = await Promise.all(
      upload.credentials.map(async (credential) => {
        const start = (credential.part_number - 1) * partSize;
        const length = Math.min(partSize, file.size - start);
        const etag = await pool.run(() =>
          withRetries(signal, onBytes, (sent) =>
            client.uploadPart(credential, fileStream(file.absolute, start, length, sent), length, { signal }),
          ),
        );
        return { part_number: credential.part_number, etag };
      }),
    );
    await client.completeMultipartUpload(
      remote,
      upload.upload_id,
      parts.sort((a, b) => a.part_number - b.part_number),
    );
    return count;
  } catch (error) {
    await client.abortMultipartUpload(remote, upload.upload_id).catch(() => undefined);
    throw error;
  }
}

/**
 * One request, retried after a network error, a 5xx or a 429 (the body is re-read from disk each
 * time); bytes are reported as fetch reads them, and a failed attempt's are taken back.
 */
async function withRetries<T>(
  signal: AbortSignal,
  onBytes: OnBytes,
  attempt: (sent: (n: number) => void) => Promise<T>,
): Promise<T> {
  for (let tries = 0; ; tries++) {
    if (signal.aborted) throw signal.reason;
    let bytes = 0;
    try {
      return await attempt((n) => {
        bytes += n;
        onBytes(n, false);
      });
    } catch (error) {
      onBytes(-bytes, false);
      const retryable =
        error instanceof ModelgateNetworkError ||
        (error instanceof ModelgateHttpError && (error.status >= 500 || error.status === 429));
      if (!retryable || tries >= RETRIES || signal.aborted) throw error;
      await new Promise((r) => setTimeout(r, 250 * 2 ** tries));
    }
  }
}

/** `length` bytes of a file from `start`, as a web stream that counts what fetch has read. */
function fileStream(
  file: string,
  start: number,
  length: number,
  sent: (n: number) => void,
): ReadableStream<Uint8Array> {
  if (length === 0) return new ReadableStream({ start: (c) => c.close() });
  const nodeStream = createReadStream(file, { start, end: start + length - 1, highWaterMark: 1024 * 1024 });
  nodeStream.on("data", (chunk) => sent((chunk as Buffer).byteLength));
  return Readable.toWeb(nodeStream) as ReadableStream<Uint8Array>;
}

/** At most `size` tasks at once. */
class Pool {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly running = new Set<Promise<unknown>>();

  constructor(private readonly size: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    const promise = task();
    this.running.add(promise);
    try {
      return await promise;
    } finally {
      this.running.delete(promise);
      this.active--;
      this.waiting.shift()?.();
    }
  }

  /** Waits for requests still in flight (after a failure), so nothing outlives the push. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }
}
