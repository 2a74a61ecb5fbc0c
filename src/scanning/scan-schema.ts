import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * One scan of one file's content, keyed by its sha256: a registered file never changes, so a blob
 * shared by several versions is scanned once. `scanner` names the scanner and allow-list that
 * judged it (SCANNER_VERSION); a row from an older scanner counts as not scanned. imports, calls
 * and reasons are JSON lists (src/scanning/scan-findings.ts, FileScan).
 */
export const fileScans = sqliteTable("file_scans", {
  sha256: text("sha256").primaryKey(),
  scanner: text("scanner").notNull(),
  verdict: text("verdict", { enum: ["clean", "unknown", "unsafe"] }).notNull(),
  format: text("format").notNull(),
  imports: text("imports").notNull().default("[]"),
  calls: text("calls").notNull().default("[]"),
  reasons: text("reasons").notNull().default("[]"),
  bytes: integer("bytes").notNull(),
  scannedAt: integer("scanned_at").notNull(),
});
