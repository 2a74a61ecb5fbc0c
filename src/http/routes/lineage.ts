import { Hono } from "hono";
import { z } from "zod";
import { byName, guard } from "../auth";
import type { AppEnv } from "../context";
import { versionText } from "../input";
import { versionKey } from "../../domain/scans";
import { scannedVersionJson } from "../serializers";
import { experimentJson, metricJson, runInfoJson } from "../tracking-serializers";

/** GET /api/2.0/modelgate/model-versions/lineage: a version with its run, experiment and manifest. */
export const lineageRoutes = new Hono<AppEnv>();

const GetLineage = z.object({ name: z.string(), version: versionText });

lineageRoutes.get("/model-versions/lineage", guard("read", GetLineage, byName), async (c) => {
  const { name, version } = c.var.input;
  const lineage = await c.var.services.lineage.versionLineage(name, version);
  const scans = await c.var.services.scans.statusOf([lineage.version]);
  const run = lineage.run;
  return c.json({
    model_version: scannedVersionJson(lineage.version, scans.get(versionKey(lineage.version))),
    ...(run
      ? {
          run: {
            info: runInfoJson(run.run),
            params: run.params.map((p) => ({ key: p.key, value: p.value })),
            metrics: run.metrics.map(metricJson),
            tags: run.tags.map((t) => ({ key: t.key, value: t.value })),
          },
          experiment: experimentJson(run.experiment),
        }
      : {}),
    files: lineage.files.map((f) => ({ path: f.path, size: f.size, sha256: f.sha256 })),
  });
});
