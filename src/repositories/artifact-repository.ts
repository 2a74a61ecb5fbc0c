import { and, eq, gt, lt, ne, or, sql, type SQL } from "drizzle-orm";
import type { RegistryError } from "../errors";
import { artifactPathOf, artifactUri } from "../domain/artifact-path";
import { ImmutableArtifactError, type ListedArtifact, type ManifestFile, type StoredBlob } from "../domain/artifacts";
import { ancestorsOrSelf, isWithin, ownerCandidates, type ArtifactOwner } from "../domain/artifact-roots";
import type { Database } from "./database";
import { translateD1Error } from "./d1-errors";
import { artifactObjects, artifactUploads, modelVersionFiles, modelVersions, registeredModels } from "./schema";
import { loggedModels, runs } from "./tracking-schema";
import { inJsonList, read } from "./tracking-sql";

export interface ArtifactObject extends StoredBlob {
  path: string;
}

/** A version holding an artifact path in its manifest, and the folder its files are in. */
export interface SealingVersion {
  modelId: string;
  version: number;
  folder: string;
}

export interface PendingUpload {
  uploadId: string;
  path: string;
  blobKey: string;
  r2UploadId: string;
  numParts: number;
}

const IMMUTABLE = "MODELGATE_IMMUTABLE_ARTIFACT";

/** `path` itself and everything below it, as an index range scan. */
export function underPath(column: typeof artifactObjects.path, path: string): SQL {
  // '0' sorts right after '/', so [p + '/', p + '0') is exactly the paths below p.
  return or(eq(column, path), and(gt(column, `${path}/`), lt(column, `${path}0`)))!;
}

/** Which blob holds each artifact path, multipart uploads in flight, and version manifests. */
export class ArtifactRepository {
  constructor(private readonly db: Database) {}

  async find(path: string): Promise<ArtifactObject | null> {
    const row = await this.db.select().from(artifactObjects).where(eq(artifactObjects.path, path)).get();
    return row ? { path: row.path, blobKey: row.blobKey, size: row.size, sha256: row.sha256 } : null;
  }

  /** Points `path` at a new blob; returns the blob it replaced. A trigger refuses paths a manifest references. */
  async record(path: string, blob: StoredBlob, now: number, completedUploadId?: string): Promise<string | null> {
    try {
      const [previous] = await this.db.batch([
        this.db
          .select({ blobKey: artifactObjects.blobKey })
          .from(artifactObjects)
          .where(eq(artifactObjects.path, path)),
        this.db
          .insert(artifactObjects)
          .values({ path, ...blob, uploadedAt: now })
          .onConflictDoUpdate({ target: artifactObjects.path, set: { ...blob, uploadedAt: now } }),
        this.db.delete(artifactUploads).where(eq(artifactUploads.uploadId, completedUploadId ?? "")),
      ]);
      return previous[0]?.blobKey ?? null;
    } catch (error) {
      throw this.translate(error, path);
    }
  }

  /** Removes `path` and everything below it; returns the blobs to delete. All or nothing. */
  async remove(path: string): Promise<string[]> {
    try {
      const [removed] = await this.db.batch([
        this.db
          .select({ blobKey: artifactObjects.blobKey })
          .from(artifactObjects)
          .where(underPath(artifactObjects.path, path)),
        this.db.delete(artifactObjects).where(underPath(artifactObjects.path, path)),
      ]);
      return removed.map((r) => r.blobKey);
    } catch (error) {
      throw this.translate(error, path);
    }
  }

  /** One folder's entries (MLflow lists one level per request), names relative to the folder. */
  async list(dir: string): Promise<ListedArtifact[]> {
    const prefix = dir === "" ? "" : `${dir}/`;
    const range = dir === "" ? sql`1 = 1` : sql`path > ${prefix} AND path < ${`${dir}0`}`;
    const rows = await this.db.all<{ name: string; is_dir: number; size: number | null }>(sql`
      SELECT CASE WHEN slash > 0 THEN substr(rest, 1, slash - 1) ELSE rest END AS name,
             slash > 0 AS is_dir,
             CASE WHEN slash > 0 THEN NULL ELSE max(size) END AS size
      FROM (SELECT substr(path, ${prefix.length + 1}) AS rest, instr(substr(path, ${prefix.length + 1}), '/') AS slash, size
            FROM ${artifactObjects} WHERE ${range})
      GROUP BY name, is_dir ORDER BY name`);
    return rows.map((r) => ({ path: r.name, isDir: Boolean(r.is_dir), size: r.is_dir ? null : r.size }));
  }

  /**
   * The runs and logged models whose artifact root is `path` or a folder above it, innermost
   * first. Candidates come from the ids in the path; each is confirmed against its recorded URI.
   */
  async owners(path: string): Promise<ArtifactOwner[]> {
    const { runIds, loggedModelIds } = ownerCandidates(path);
    if (runIds.length === 0 && loggedModelIds.length === 0) return [];
    const [runRows, modelRows] = await read(() =>
      this.db.batch([
        this.db
          .select({
            id: runs.runId,
            uri: runs.artifactUri,
            active: sql<number>`${runs.lifecycleStage} = 'active'`,
            by: runs.createdByToken,
          })
          .from(runs)
          .where(inJsonList(runs.runId, runIds)),
        this.db
          .select({
            id: loggedModels.modelId,
            uri: loggedModels.artifactUri,
            active: sql<number>`${ne(loggedModels.lifecycleStage, "deleted")}`,
            by: loggedModels.createdByToken,
          })
          .from(loggedModels)
          .where(inJsonList(loggedModels.modelId, loggedModelIds)),
      ]),
    );
    const owners: ArtifactOwner[] = [];
    for (const [kind, rows] of [
      ["run", runRows],
      ["logged_model", modelRows],
    ] as const) {
      for (const row of rows) {
        const root = artifactPathOf(row.uri);
        if (root !== null && root !== "" && isWithin(path, root))
          owners.push({ kind, id: row.id, root, active: Boolean(row.active), createdByToken: row.by });
      }
    }
    return owners.sort((a, b) => b.root.length - a.root.length);
  }

  /**
   * Whether `path` is a registered version's source folder or lies below one (the folder is the
   * version's storage_location). Such paths are sealed: no new file, no overwrite, no delete.
   */
  async isSealed(path: string): Promise<boolean> {
    const row = await read(() =>
      this.db
        .select({ version: modelVersions.version })
        .from(modelVersions)
        .where(inJsonList(modelVersions.storageLocation, ancestorsOrSelf(path).map(artifactUri)))
        .limit(1)
        .get(),
    );
    return row !== undefined;
  }

  /** Whether `path` lies in the source folder of a version of one of the models named `models`. */
  async inVersionOf(path: string, models: readonly string[]): Promise<boolean> {
    if (models.length === 0) return false;
    const row = await read(() =>
      this.db
        .select({ version: modelVersions.version })
        .from(registeredModels)
        .innerJoin(modelVersions, eq(modelVersions.modelId, registeredModels.id))
        .where(
          and(
            inJsonList(registeredModels.name, models),
            inJsonList(modelVersions.storageLocation, ancestorsOrSelf(path).map(artifactUri)),
          ),
        )
        .limit(1)
        .get(),
    );
    return row !== undefined;
  }

  /**
   * The versions whose manifest holds `path` (a file), with each one's folder; with `below`, those
   * holding the first manifest file under folder `path` instead. Both are index lookups on the
   * manifest's artifact paths: a sealed folder's files are all in its versions' manifests.
   */
  async sealing(path: string, { below = false } = {}): Promise<SealingVersion[]> {
    const at = below
      ? sql`(SELECT min(${modelVersionFiles.artifactPath}) FROM ${modelVersionFiles} WHERE ${modelVersionFiles.artifactPath} > ${`${path}/`} AND ${modelVersionFiles.artifactPath} < ${`${path}0`})`
      : sql`${path}`;
    const rows = await read(() =>
      this.db
        .select({
          modelId: modelVersionFiles.modelId,
          version: modelVersionFiles.version,
          location: modelVersions.storageLocation,
        })
        .from(modelVersionFiles)
        .innerJoin(
          modelVersions,
          and(
            eq(modelVersions.modelId, modelVersionFiles.modelId),
            eq(modelVersions.version, modelVersionFiles.version),
          ),
        )
        .where(eq(modelVersionFiles.artifactPath, at)),
    );
    return rows.flatMap((r) => {
      const folder = r.location === null ? null : artifactPathOf(r.location);
      return folder === null ? [] : [{ modelId: r.modelId, version: r.version, folder }];
    });
  }

  /** A version's manifest with each file's artifact path. */
  async sealedFiles(modelId: string, version: number): Promise<(ManifestFile & { artifactPath: string })[]> {
    return read(() =>
      this.db
        .select({
          path: modelVersionFiles.path,
          artifactPath: modelVersionFiles.artifactPath,
          size: modelVersionFiles.size,
          sha256: modelVersionFiles.sha256,
          blobKey: modelVersionFiles.blobKey,
        })
        .from(modelVersionFiles)
        .where(and(eq(modelVersionFiles.modelId, modelId), eq(modelVersionFiles.version, version))),
    );
  }

  async countUnder(path: string): Promise<number> {
    const row = await this.db
      .select({ n: sql<number>`count(*)` })
      .from(artifactObjects)
      .where(underPath(artifactObjects.path, path))
      .get();
    return row?.n ?? 0;
  }

  async manifest(modelId: string, version: number): Promise<ManifestFile[]> {
    return this.db
      .select({
        path: modelVersionFiles.path,
        size: modelVersionFiles.size,
        sha256: modelVersionFiles.sha256,
        blobKey: modelVersionFiles.blobKey,
      })
      .from(modelVersionFiles)
      .where(and(eq(modelVersionFiles.modelId, modelId), eq(modelVersionFiles.version, version)))
      .orderBy(modelVersionFiles.path);
  }

  /** One file of a registered version's manifest, found by model name (one indexed join), with the model's id. */
  async versionFile(name: string, version: number, path: string): Promise<(ManifestFile & { modelId: string }) | null> {
    const row = await this.db
      .select({
        modelId: modelVersionFiles.modelId,
        path: modelVersionFiles.path,
        size: modelVersionFiles.size,
        sha256: modelVersionFiles.sha256,
        blobKey: modelVersionFiles.blobKey,
      })
      .from(modelVersionFiles)
      .innerJoin(registeredModels, eq(registeredModels.id, modelVersionFiles.modelId))
      .where(
        and(eq(registeredModels.name, name), eq(modelVersionFiles.version, version), eq(modelVersionFiles.path, path)),
      )
      .get();
    return row ?? null;
  }

  async createUpload(upload: PendingUpload, now: number): Promise<void> {
    await this.db.insert(artifactUploads).values({ ...upload, createdAt: now });
  }

  async findUpload(uploadId: string): Promise<PendingUpload | null> {
    const row = await this.db.select().from(artifactUploads).where(eq(artifactUploads.uploadId, uploadId)).get();
    return row
      ? {
          uploadId: row.uploadId,
          path: row.path,
          blobKey: row.blobKey,
          r2UploadId: row.r2UploadId,
          numParts: row.numParts,
        }
      : null;
  }

  async deleteUpload(uploadId: string): Promise<void> {
    await this.db.delete(artifactUploads).where(eq(artifactUploads.uploadId, uploadId));
  }

  private translate(error: unknown, path: string): RegistryError {
    const text =
      error instanceof Error ? `${error.message} ${String((error as { cause?: unknown }).cause ?? "")}` : String(error);
    return text.includes(IMMUTABLE) ? new ImmutableArtifactError(path) : translateD1Error(error);
  }
}
