import { Hono } from "hono";
import { z } from "zod";
import { byName, guard } from "../auth";
import type { AppEnv } from "../context";
import { versionText } from "../input";

/** GET /api/2.0/modelgate/model-versions/scan: a version's pickle scan, per file (docs/supply-chain.md). */
export const scanRoutes = new Hono<AppEnv>();

const GetScan = z.object({ name: z.string(), version: versionText });

scanRoutes.get("/model-versions/scan", guard("read", GetScan, byName), async (c) => {
  const { name, version } = c.var.input;
  const result = await c.var.services.scans.versionScan(name, version);
  return c.json({
    name: result.version.name,
    version: String(result.version.version),
    scan: result.scan,
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
