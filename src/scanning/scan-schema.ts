import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

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

/**
 * A version's scan verdict, written once by its model's coordinator when the last of its files has
 * been scanned (with the `model_version.scanned` event, in one batch). Denormalized from
 * `file_scans` so a page of versions reads its statuses with one primary-key lookup: no row (or a
 * row from an older scanner) means `pending`. Version numbers are never reused (nextVersion), so a
 * row never outlives the version it judged into a new one. `finding` names the file and the global
 * (or reason) behind a verdict that is not clean.
 */
export const versionScans = sqliteTable(
  "version_scans",
  {
    modelId: text("model_id").notNull(),
    version: integer("version").notNull(),
    scanner: text("scanner").notNull(),
    status: text("status", { enum: ["clean", "unknown", "unsafe"] }).notNull(),
    finding: text("finding"),
    scannedAt: integer("scanned_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.modelId, t.version] })],
);

/**
 * An admin's decision to let a version whose scan is not clean pass the `scan` policy rule, with
 * the reason. Append-only: every override ever recorded stays (the latest one for a version is in
 * force), so the record of who accepted what risk, and why, is never lost.
 */
export const scanOverrides = sqliteTable(
  "scan_overrides",
  {
    id: text("id").primaryKey(),
    modelId: text("model_id").notNull(),
    version: integer("version").notNull(),
    /** The version's scan status when the override was recorded. */
    status: text("status").notNull(),
    reason: text("reason").notNull(),
    actor: text("actor").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("scan_overrides_version_idx").on(t.modelId, t.version, t.createdAt)],
);
