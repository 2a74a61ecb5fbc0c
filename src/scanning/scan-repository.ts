import type { BatchItem } from "drizzle-orm/batch";
import { and, desc, eq, inArray, sql } from "drizzle-orm";
import { type FileScan, type ScanOverride, type Verdict, type VersionKey, versionKey } from "../domain/scans";
import type { Database } from "../repositories/database";
import { translateD1Error } from "../repositories/d1-errors";
import { fileScans, scanOverrides, versionScans } from "./scan-schema";

/** A version's recorded verdict (src/scanning/scan-schema.ts, versionScans). */
export interface VersionVerdict {
  status: Verdict;
  /** The file and global (or reason) behind a verdict that is not clean; null when clean. */
  finding: string | null;
  scannedAt: number;
}

/** D1 binds at most 100 parameters a statement. */
const PER_QUERY = 90;

/** Scan results by content digest. */
export class ScanRepository {
  constructor(private readonly db: Database) {}

  /** The stored scans by `scanner` of these digests (absent: never scanned by it). */
  async find(sha256s: readonly string[], scanner: string): Promise<Map<string, FileScan>> {
    const found = new Map<string, FileScan>();
    const unique = [...new Set(sha256s)];
    try {
      for (let i = 0; i < unique.length; i += PER_QUERY) {
        const rows = await this.db
          .select()
          .from(fileScans)
          .where(and(inArray(fileScans.sha256, unique.slice(i, i + PER_QUERY)), eq(fileScans.scanner, scanner)));
        for (const row of rows) {
          found.set(row.sha256, {
            verdict: row.verdict,
            format: row.format,
            imports: JSON.parse(row.imports),
            calls: JSON.parse(row.calls),
            reasons: JSON.parse(row.reasons),
            bytes: row.bytes,
          });
        }
      }
    } catch (error) {
      throw translateD1Error(error);
    }
    return found;
  }

  async save(sha256: string, scanner: string, scan: FileScan, at: number): Promise<void> {
    const row = {
      scanner,
      verdict: scan.verdict,
      format: scan.format,
      imports: JSON.stringify(scan.imports),
      calls: JSON.stringify(scan.calls),
      reasons: JSON.stringify(scan.reasons),
      bytes: scan.bytes,
      scannedAt: at,
    };
    try {
      await this.db
        .insert(fileScans)
        .values({ sha256, ...row })
        .onConflictDoUpdate({ target: fileScans.sha256, set: row });
    } catch (error) {
      throw translateD1Error(error);
    }
  }

  /**
   * The recorded verdicts of these versions by `scanner`, keyed by versionKey; a version absent
   * from the answer is pending. One statement whatever the number of versions: the keys travel as
   * one JSON parameter (D1 binds at most 100), matched on the primary key.
   */
  async versionVerdicts(keys: readonly VersionKey[], scanner: string): Promise<Map<string, VersionVerdict>> {
    const found = new Map<string, VersionVerdict>();
    if (keys.length === 0) return found;
    const pairs = JSON.stringify(keys.map((k) => [k.modelId, k.version]));
    try {
      const rows = await this.db
        .select()
        .from(versionScans)
        .where(
          and(
            eq(versionScans.scanner, scanner),
            sql`(${versionScans.modelId}, ${versionScans.version}) in (select json_extract(value, '$[0]'), json_extract(value, '$[1]') from json_each(${pairs}))`,
          ),
        );
      for (const row of rows)
        found.set(versionKey(row), { status: row.status, finding: row.finding, scannedAt: row.scannedAt });
    } catch (error) {
      throw translateD1Error(error);
    }
    return found;
  }

  /** The statement recording a version's verdict, for the coordinator's batch (with its event). */
  verdictStatement(key: VersionKey, scanner: string, verdict: VersionVerdict): BatchItem<"sqlite"> {
    const row = { scanner, status: verdict.status, finding: verdict.finding, scannedAt: verdict.scannedAt };
    return this.db
      .insert(versionScans)
      .values({ modelId: key.modelId, version: key.version, ...row })
      .onConflictDoUpdate({ target: [versionScans.modelId, versionScans.version], set: row });
  }

  async run(statements: BatchItem<"sqlite">[]): Promise<void> {
    if (statements.length === 0) return;
    try {
      await this.db.batch(statements as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
    } catch (error) {
      throw translateD1Error(error);
    }
  }

  async addOverride(key: VersionKey, override: ScanOverride): Promise<void> {
    try {
      await this.db.insert(scanOverrides).values({ id: crypto.randomUUID(), ...key, ...override });
    } catch (error) {
      throw translateD1Error(error);
    }
  }

  /**
   * The latest override recorded for the version, or null. It is in force only while the version's
   * verdict equals its `status` (`overrideInForce`, src/scanning/scan-service.ts).
   */
  async latestOverride(key: VersionKey): Promise<ScanOverride | null> {
    try {
      const row = await this.db
        .select()
        .from(scanOverrides)
        .where(and(eq(scanOverrides.modelId, key.modelId), eq(scanOverrides.version, key.version)))
        .orderBy(desc(scanOverrides.createdAt))
        .limit(1)
        .get();
      return row ? { status: row.status, reason: row.reason, actor: row.actor, createdAt: row.createdAt } : null;
    } catch (error) {
      throw translateD1Error(error);
    }
  }
}
