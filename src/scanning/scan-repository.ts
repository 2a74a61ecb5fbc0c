import { and, eq, inArray } from "drizzle-orm";
import type { Database } from "../repositories/database";
import { translateD1Error } from "../repositories/d1-errors";
import type { FileScan } from "./scan-findings";
import { fileScans } from "./scan-schema";

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
}
