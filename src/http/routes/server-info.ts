import { Hono } from "hono";
import { requires } from "../auth";
import type { AppEnv } from "../context";

/**
 * `GET /api/3.0/mlflow/server-info`: newer MLflow clients probe it (workspaces support, store
 * type) and MLflow serves it without credentials. Modelgate also says here what its artifact
 * store supports, so a client or script that asks learns that multipart uploads are on and why
 * they matter (a deployed Worker accepts bodies up to 100 MB).
 */
export const serverInfoRoutes = new Hono<AppEnv>();

serverInfoRoutes.get("/server-info", requires("public"), (c) =>
  c.json({
    store_type: "SqlStore",
    workspaces_enabled: false,
    artifacts: {
      proxied: true,
      multipart_upload: true,
      max_request_body_bytes: 100 * 1000 * 1000,
      min_part_bytes: 5 * 1024 * 1024,
      max_parts: 10_000,
    },
  }),
);
