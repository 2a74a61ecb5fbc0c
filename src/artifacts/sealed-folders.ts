import { ancestorsOrSelf } from "../domain/artifact-roots";
import { type Clock, systemClock } from "../domain/clock";

// Registered versions' source folders, as this isolate last read them from D1 (issue 19). A sealed
// folder never changes while a version holds it (migrations 0002 and 0008), so the artifact API
// answers its listings and files from here without a D1 query. An entry lives for the resolve TTL
// (like a name → id memory); deleting a version drops its folders here at once (purgeChanged), and
// another isolate may answer a deleted version's folder for at most the TTL.

/** One file of a sealed folder, by its artifact path and by its path in the version's manifest. */
export interface SealedFile {
  artifactPath: string;
  /** Relative to the version's folder: the manifest's path, and the edge cache key's. */
  path: string;
  size: number;
  sha256: string;
  blobKey: string;
}

export interface SealedVersion {
  modelId: string;
  version: number;
}

export interface SealedFolder {
  /** The folder's artifact path (the versions' storage_location). */
  folder: string;
  /** The versions whose source is this folder (copies share it), sorted. */
  versions: SealedVersion[];
  /** Every file under the folder, sorted by artifact path. */
  files: SealedFile[];
  byPath: Map<string, SealedFile>;
}

/** Folders with more files than this are listed from D1 each time (a memory bound, not a rule). */
export const MAX_MEMO_FILES = 5_000;
const MAX_FOLDERS = 1_000;

const versionKey = (v: SealedVersion) => `${v.modelId}/${v.version}`;

export class SealedFolderMemo {
  private readonly folders = new Map<string, { entry: SealedFolder; until: number }>();

  constructor(private readonly now: Clock = systemClock) {}

  /** The fresh entries whose folder is `path` or a folder above it, innermost first. */
  containing(path: string): SealedFolder[] {
    if (this.folders.size === 0) return [];
    const found: SealedFolder[] = [];
    const now = this.now();
    for (const folder of ancestorsOrSelf(path).reverse()) {
      const held = this.folders.get(folder);
      if (!held) continue;
      if (held.until > now) found.push(held.entry);
      else this.folders.delete(folder);
    }
    return found;
  }

  remember(folder: string, versions: SealedVersion[], files: SealedFile[], ttlMs: number): SealedFolder {
    const sorted = [...files].sort((a, b) => byCodePoints(a.artifactPath, b.artifactPath));
    const entry: SealedFolder = {
      folder,
      versions: [...versions].sort((a, b) =>
        a.modelId === b.modelId ? a.version - b.version : a.modelId < b.modelId ? -1 : 1,
      ),
      files: sorted,
      byPath: new Map(sorted.map((f) => [f.artifactPath, f])),
    };
    if (files.length > MAX_MEMO_FILES) return entry;
    if (this.folders.size >= MAX_FOLDERS) this.folders.delete(this.folders.keys().next().value!);
    this.folders.set(folder, { entry, until: this.now() + ttlMs });
    return entry;
  }

  /** Drops the folders held by any of these versions (deleted ones). */
  forgetVersions(versions: readonly SealedVersion[]): void {
    if (versions.length === 0 || this.folders.size === 0) return;
    const gone = new Set(versions.map(versionKey));
    for (const [folder, { entry }] of this.folders) {
      if (entry.versions.some((v) => gone.has(versionKey(v)))) this.folders.delete(folder);
    }
  }
}

/** This isolate's memory of sealed folders. */
export const sealedFolders = new SealedFolderMemo();

/** One folder's listing (names relative to `dir`, one level), from a sealed folder's files. */
export function listSealed(entry: SealedFolder, dir: string): { path: string; isDir: boolean; size: number | null }[] {
  const prefix = dir === "" ? "" : `${dir}/`;
  const out = new Map<string, { path: string; isDir: boolean; size: number | null }>();
  for (const file of entry.files) {
    if (!file.artifactPath.startsWith(prefix)) continue;
    const rest = file.artifactPath.slice(prefix.length);
    if (rest === "") continue;
    const slash = rest.indexOf("/");
    const name = slash < 0 ? rest : rest.slice(0, slash);
    const key = `${name}\u0000${slash < 0 ? "f" : "d"}`;
    if (!out.has(key))
      out.set(key, slash < 0 ? { path: name, isDir: false, size: file.size } : { path: name, isDir: true, size: null });
  }
  // D1's listing orders by name (SQLite compares UTF-8 bytes), then files before folders.
  return [...out.values()].sort((a, b) => byCodePoints(a.path, b.path) || Number(a.isDir) - Number(b.isDir));
}

/** SQLite's BINARY order on UTF-8 text is code point order (JS `<` compares UTF-16 units). */
function byCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const x = a[Symbol.iterator]();
  const y = b[Symbol.iterator]();
  for (;;) {
    const p = x.next();
    const q = y.next();
    if (p.done || q.done) return p.done ? (q.done ? 0 : -1) : 1;
    const d = p.value.codePointAt(0)! - q.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}
