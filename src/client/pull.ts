/// <reference types="node" />
// `pull`: a whole model version onto local disk (Node only). Files download in parallel, each into
// `<file>.part`, resumed with a Range request when a `.part` (or a shorter file at the target) is
// already there, hashed while written, and renamed into place only once its sha256 matches the
// manifest, so a final file is never corrupt.
import { createHash } from "node:crypto";
import { lstat, mkdir, open, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import {
  ModelgateError,
  ModelgateHttpError,
  ModelgateNetworkError,
  UnsafePathError,
  VerificationError,
} from "./errors";
import { isAbort, ModelgateClient, type ModelFile, type ModelRef, type ResolvedModel } from "./modelgate-client";
import type { PublicKeyInfo } from "../signing/keys";
import { ignoredBy, SIGNATURE_FILE, type Statement } from "../signing/model-signing";
import { hashFile, hashInto } from "./file-hash";
import { listFiles } from "./local-verify";
import {
  checkManifest,
  checkScan,
  checkSubject,
  fetchRegistryKeys,
  fetchScan,
  fetchSignature,
  verifyWith,
} from "./signatures";

export interface PullProgress {
  /** Bytes on disk so far, resumed `.part` bytes and files already present included. */
  bytesDone: number;
  bytesTotal: number;
  filesDone: number;
  filesTotal: number;
}

export interface PullOptions {
  /** Files downloading at once; default 4. */
  concurrency?: number;
  /** Called often (every chunk): throttle any drawing yourself. */
  onProgress?: (progress: PullProgress) => void;
  signal?: AbortSignal;
  /** Further attempts per file after a network error or a 5xx/429, each resuming where the last stopped; default 3. */
  retries?: number;
  /**
   * Supply-chain checks (docs/supply-chain.md), made before any file is fetched: the version's
   * scan status (`unsafe` refused unless allowed), its model.sig verified with `keys` (null: the
   * registry's published JWKS, not pinned), and the manifest checked against the signed statement.
   * The bundle is written to `<dir>/model.sig`, so the directory verifies offline afterwards.
   */
  verify?: { keys: PublicKeyInfo[] | null; allowUnsafe?: boolean };
}

/** What the supply-chain checks found (`PullOptions.verify`). */
export interface PullVerification {
  kid: string;
  hint: string;
  /** Whether the key was the caller's (pinned) or fetched from the registry it vouches for. */
  pinned: boolean;
  /** The statement's root digest. */
  root: string;
  signedFiles: number;
  scan: string;
  /** Files in the directory that the signature does not cover (left from elsewhere): `verify` will refuse them. */
  unsigned: string[];
}

/** How a file got there: fetched whole, completed from a `.part`, or already on disk and intact. */
export type FileOutcome = "downloaded" | "resumed" | "present";

export interface PulledFile extends ModelFile {
  outcome: FileOutcome;
  /** Bytes this pull took over the network for this file. */
  bytesFetched: number;
}

export interface PullResult {
  model: ResolvedModel;
  dir: string;
  files: PulledFile[];
  bytesTotal: number;
  bytesFetched: number;
  verification?: PullVerification;
}

const DEFAULT_CONCURRENCY = 4;
const DEFAULT_RETRIES = 3;

/** `client.pull(...)` for Node: the portable client plus the filesystem. */
export class NodeModelgateClient extends ModelgateClient {
  pull(name: string, ref: ModelRef, dir: string, options: PullOptions = {}): Promise<PullResult> {
    return pull(this, name, ref, dir, options);
  }
}

/** Resolves `ref` and makes `dir` hold exactly the manifest's bytes, verified by sha256. */
export async function pull(
  client: ModelgateClient,
  name: string,
  ref: ModelRef,
  dir: string,
  options: PullOptions = {},
): Promise<PullResult> {
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? DEFAULT_CONCURRENCY));
  const resolved = await client.resolve(name, ref, { signal: options.signal });
  const checked = options.verify ? await checkSupplyChain(client, { name, ref }, resolved, options.verify) : null;
  // With a signature, the registry's model.sig takes the root model.sig's place (never a signed file).
  const model = checked ? { ...resolved, files: resolved.files.filter((f) => f.path !== SIGNATURE_FILE) } : resolved;
  const root = path.resolve(dir);
  // Every path is checked before anything is written: one bad entry refuses the whole manifest.
  const targets = model.files.map((file) => ({ file, target: safeTarget(root, file.path) }));
  await mkdir(root, { recursive: true });

  const progress: PullProgress = {
    bytesDone: 0,
    bytesTotal: model.files.reduce((sum, f) => sum + f.size, 0),
    filesDone: 0,
    filesTotal: model.files.length,
  };
  const report = () => options.onProgress?.({ ...progress });
  report();

  // The first failure stops the others (their `.part` files stay, to be resumed next time).
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const results: PulledFile[] = new Array(targets.length);
  let failure: unknown;
  let next = 0;
  const worker = async () => {
    while (failure === undefined && next < targets.length) {
      const index = next++;
      const { file, target } = targets[index]!;
      try {
        const job = new FileJob(client, file, target, signal, (delta) => {
          progress.bytesDone += delta;
          report();
        });
        results[index] = await job.run(options.retries ?? DEFAULT_RETRIES);
        progress.filesDone++;
        report();
      } catch (error) {
        if (failure === undefined && !(isAbort(error) && stop.signal.aborted)) {
          failure = error;
          stop.abort();
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, targets.length) }, worker));
  if (failure !== undefined) throw failure;
  if (options.signal?.aborted) throw options.signal.reason;

  let verification: PullVerification | undefined;
  if (checked) {
    await writeFile(path.join(root, SIGNATURE_FILE), checked.bundle);
    const signed = new Set(checked.statement.predicate.resources.map((r) => r.name));
    const unsigned = (await listFiles(root, ignoredBy(checked.statement))).filter((f) => !signed.has(f));
    verification = { ...checked.summary, unsigned };
  }
  return {
    model,
    dir: root,
    files: results,
    bytesTotal: progress.bytesTotal,
    bytesFetched: results.reduce((sum, f) => sum + f.bytesFetched, 0),
    verification,
  };
}

/**
 * Before any byte is fetched: the scan status, the signature, and the manifest against what it
 * signed. Every file is then checked against the manifest's sha256 as it downloads, so each file's
 * digest is the signed one.
 */
async function checkSupplyChain(
  client: ModelgateClient,
  requested: { name: string; ref: ModelRef },
  model: ResolvedModel,
  verify: NonNullable<PullOptions["verify"]>,
): Promise<{ bundle: string; statement: Statement; summary: Omit<PullVerification, "unsigned"> }> {
  const label = `${model.name} version ${model.version}`;
  const scan = await fetchScan(client, model.name, model.version);
  checkScan(scan, label, verify.allowUnsafe ?? false);
  const bundle = await fetchSignature(client, model.name, model.version);
  const keys = verify.keys ?? (await fetchRegistryKeys(client));
  const { statement, key } = await verifyWith(bundle, keys, label);
  // The model asked for (not the name the registry answered with) and the version the ref resolved
  // to: another model's signed bytes, or another version's, do not pass.
  // A ref that is a version number must have resolved to that number.
  const asked = /^[1-9][0-9]*$/.test(requested.ref) ? Number(requested.ref) : Number(model.version);
  checkSubject(statement, { model: requested.name, version: asked }, label);
  checkManifest(statement, model.files, label);
  return {
    bundle,
    statement,
    summary: {
      kid: key.kid,
      hint: key.hint,
      pinned: verify.keys !== null,
      root: statement.subject[0]!.digest.sha256, // openBundle accepts exactly one subject
      signedFiles: statement.predicate.resources.length,
      scan: scan.scan,
    },
  };
}

/**
 * Where a manifest path lands under `root`, or UnsafePathError: manifest paths are relative,
 * `/`-separated, and never climb out (`..`), whatever the server says.
 */
export function safeTarget(root: string, relative: string): string {
  const segments = relative.split("/");
  const unsafe =
    relative === "" ||
    relative.includes("\0") ||
    relative.includes("\\") ||
    path.posix.isAbsolute(relative) ||
    path.win32.isAbsolute(relative) ||
    /^[a-zA-Z]:/.test(relative) ||
    segments.some((s) => s === "" || s === "." || s === "..");
  if (unsafe) throw new UnsafePathError(relative);
  const target = path.resolve(root, ...segments);
  const inside = path.relative(root, target);
  if (inside === "" || inside.startsWith("..") || path.isAbsolute(inside)) throw new UnsafePathError(relative);
  return target;
}

/** One file: skip if intact, else fetch (resuming) into `.part`, verify, rename. */
class FileJob {
  private readonly part: string;
  /** Bytes of this file counted in the overall progress so far. */
  private counted = 0;
  private fetched = 0;
  /** Whether the bytes that made it came partly from a `.part` left by an earlier pull. */
  private resumed = false;

  constructor(
    private readonly client: ModelgateClient,
    private readonly file: ModelFile,
    private readonly target: string,
    private readonly signal: AbortSignal,
    private readonly onBytes: (delta: number) => void,
  ) {
    this.part = `${target}.part`;
  }

  async run(retries: number): Promise<PulledFile> {
    // A re-run after success (or after another file failed) keeps what is already right.
    if (
      (await sizeOf(this.target)) === this.file.size &&
      (await hashFile(this.target, this.file.size, this.signal)) === this.file.sha256
    ) {
      this.count(this.file.size);
      return { ...this.file, outcome: "present", bytesFetched: 0 };
    }
    await mkdir(path.dirname(this.target), { recursive: true });
    const adopted = await this.adoptShorterTarget();
    let digest = await this.fetchWithRetries(retries);
    if (adopted && (digest.size !== this.file.size || digest.sha256 !== this.file.sha256)) {
      // The file that was there did not begin with this file's bytes (another version's file,
      // say): it was only ever a guess, so start this file over once instead of failing.
      await rm(this.part, { force: true });
      digest = await this.fetchWithRetries(retries);
    }
    if (digest.size !== this.file.size || digest.sha256 !== this.file.sha256) {
      // The `.part` can never become right by appending: drop it so the next pull starts clean.
      await rm(this.part, { force: true });
      if (digest.size !== this.file.size) {
        throw new VerificationError(this.file.path, `${this.file.size} bytes`, `${digest.size} bytes`, "size");
      }
      throw new VerificationError(this.file.path, this.file.sha256, digest.sha256);
    }
    await rename(this.part, this.target);
    return { ...this.file, outcome: this.resumed ? "resumed" : "downloaded", bytesFetched: this.fetched };
  }

  /**
   * A file at the target that is shorter than the manifest's (a copy or download that stopped
   * partway) becomes the `.part` to resume from, when there is no `.part` already: its bytes are
   * kept and only the rest is fetched with a Range request. Only a regular file is taken (never
   * what a symlink points at). Returns whether it was taken.
   */
  private async adoptShorterTarget(): Promise<boolean> {
    if ((await sizeOf(this.part)) !== null) return false;
    let found;
    try {
      found = await lstat(this.target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw error;
    }
    if (!found.isFile() || found.size === 0 || found.size >= this.file.size) return false;
    await rename(this.target, this.part);
    return true;
  }

  /** `fetchIntoPart`, again after a network error or a 5xx/429, each time from where it stopped. */
  private async fetchWithRetries(retries: number): Promise<{ sha256: string; size: number }> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.fetchIntoPart();
      } catch (error) {
        if (!retryable(error) || attempt >= retries || this.signal.aborted) throw error;
        await sleep(250 * 2 ** attempt, this.signal);
      }
    }
  }

  /** Appends the missing bytes to `.part` (all of them if there is none) and hashes the whole file. */
  private async fetchIntoPart(): Promise<{ sha256: string; size: number }> {
    let offset = (await sizeOf(this.part)) ?? 0;
    if (offset > this.file.size) {
      await rm(this.part, { force: true });
      offset = 0;
    }
    let hash = createHash("sha256");
    if (offset > 0) await hashInto(hash, this.part, offset, this.signal);
    this.setCounted(offset);
    if (offset === this.file.size) {
      if (offset === 0) await (await open(this.part, "w")).close();
      else this.resumed = true;
      return { sha256: hash.digest("hex"), size: offset };
    }

    const res = await this.client.fetchFile(this.file.url, {
      range: offset > 0 ? { start: offset } : undefined,
      signal: this.signal,
    });
    let mode: "a" | "w" = "a";
    if (res.status === 206) {
      const range = /^bytes (\d+)-/.exec(res.headers.get("content-range") ?? "");
      if (!range || Number(range[1]) !== offset) {
        await res.body?.cancel();
        throw new ModelgateError(
          `'${this.file.path}': asked for bytes from ${offset}, the server sent '${res.headers.get("content-range")}'`,
        );
      }
      this.resumed = true;
    } else if (res.status === 200) {
      // No range support (or no range asked for): the body is the whole file, start over.
      mode = "w";
      this.resumed = false;
      hash = createHash("sha256");
      offset = 0;
      this.setCounted(0);
    } else {
      await res.body?.cancel();
      throw new ModelgateError(`'${this.file.path}': unexpected HTTP ${res.status} for a file download`);
    }

    const handle = await open(this.part, mode);
    let size = offset;
    try {
      const reader = res.body!.getReader();
      for (;;) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (error) {
          if (isAbort(error) || this.signal.aborted) throw error;
          throw new ModelgateNetworkError(this.file.url, error);
        }
        if (chunk.done) break;
        await handle.write(chunk.value);
        hash.update(chunk.value);
        size += chunk.value.byteLength;
        this.fetched += chunk.value.byteLength;
        this.setCounted(size);
      }
    } finally {
      await handle.close();
    }
    return { sha256: hash.digest("hex"), size };
  }

  private setCounted(bytes: number) {
    this.count(bytes - this.counted);
  }

  private count(delta: number) {
    this.counted += delta;
    if (delta !== 0) this.onBytes(delta);
  }
}

function retryable(error: unknown): boolean {
  if (error instanceof ModelgateNetworkError) return true;
  return error instanceof ModelgateHttpError && (error.status >= 500 || error.status === 429);
}

async function sizeOf(file: string): Promise<number | null> {
  try {
    const s = await stat(file);
    return s.isFile() ? s.size : null;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
