import { Hono } from "hono";
import { z } from "zod";
import { byName, guard } from "../auth";
import type { AppEnv } from "../context";
import { versionText } from "../input";
import { MAX_OVERRIDE_REASON, type ScanOverride } from "../../domain/scans";

/**
 * GET /api/2.0/modelgate/model-versions/scan: a version's pickle scan, per file; POST
 * .../scan/override: an admin lets a version whose scan is not clean pass the `scan` policy rule,
 * with a reason (docs/supply-chain.md). Overriding needs `admin` on the model, like setting its
 * policy: holders of `promote` are the ones the rule binds. Only a final verdict can be overridden
 * (a pending scan answers 409 RESOURCE_CONFLICT), and the override holds only while the version's
 * verdict is still the one it overrode.
 */
export const scanRoutes = new Hono<AppEnv>();

const GetScan = z.object({ name: z.string(), version: versionText });
const OverrideScan = z.object({
  name: z.string(),
  version: versionText,
  reason: z
    .string()
    .trim()
    .min(1, "an override needs a reason")
    .max(MAX_OVERRIDE_REASON, `must be at most ${MAX_OVERRIDE_REASON} characters`),
});

const overrideJson = (o: ScanOverride) => ({
  status: o.status,
  reason: o.reason,
  actor: o.actor,
  timestamp: o.createdAt,
});

scanRoutes.get("/model-versions/scan", guard("read", GetScan, byName), async (c) => {
  const { name, version } = c.var.input;
  const result = await c.var.services.scans.versionScan(name, version);
  return c.json({
    name: result.version.name,
    version: String(result.version.version),
    scan: result.scan,
    ...(result.override ? { override: overrideJson(result.override) } : {}),
    files: result.files.map((f) => ({
      path: f.path,
      size: f.size,
      sha256: f.sha256,
      scan: f.scan,
      ...(f.result
        ? {
            format: f.result.format,
            imports: f.result.imports.map((i) => ({
              name: i.name,
              verdict: i.verdict,
              via: i.via,
              ...(i.entry ? { entry: i.entry } : {}),
            })),
            calls: f.result.calls,
            reasons: f.result.reasons,
          }
        : {}),
    })),
  });
});

scanRoutes.post("/model-versions/scan/override", guard("admin", OverrideScan, byName), async (c) => {
  const { name, version, reason } = c.var.input;
  const override = await c.var.services.scans.recordOverride(name, version, reason, c.var.actor);
  // The audit row keeps the version and the reason, not only the request line.
  c.set("auditDetail", { version: Number(version), detail: `scan override (${override.status}): ${reason}` });
  return c.json({ name, version, override: overrideJson(override) });
});
