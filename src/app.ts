import { Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { secureHeaders } from "hono/secure-headers";
import { RegistryError } from "./errors";
import { errorResponse } from "./http/error-handler";
import { accessRoutes } from "./http/routes/access";
import type { AppEnv } from "./http/context";
import { notFound, onError } from "./http/error-handler";
import { artifactRoutes } from "./http/routes/artifacts";
import { deliveryRoutes } from "./http/routes/delivery";
import { lineageRoutes } from "./http/routes/lineage";
import { scanRoutes } from "./http/routes/scan";
import { experimentRoutes } from "./http/routes/experiments";
import { loggedModelRoutes } from "./http/routes/logged-models";
import { modelVersionRoutes } from "./http/routes/model-versions";
import { registeredModelRoutes } from "./http/routes/registered-models";
import { runRoutes } from "./http/routes/runs";
import { serverInfoRoutes } from "./http/routes/server-info";
import { transitionRoutes } from "./http/routes/transitions";
import { eventRoutes } from "./http/routes/events";
import { rollbackRoutes } from "./http/routes/rollback";
import { policyRoutes } from "./http/routes/policies";
import { servicesFor } from "./services";
import { uiRoutes } from "./ui/routes";
import { webhookDeliveryRoutes, webhookRoutes } from "./http/routes/webhooks";
import { wellKnownRoutes } from "./http/routes/well-known";

const ANONYMOUS = "anonymous";
/** JSON bodies are small; artifact bytes go through their own routes, streamed. */
const MAX_JSON_BODY = 4 * 1024 * 1024;

const DATA_TREES = ["/api/", "/ajax-api/", "/v1/"];
const servesData = (path: string) => path === "/health" || DATA_TREES.some((tree) => path.startsWith(tree));

export function createApp() {
  const app = new Hono<AppEnv>();
  app.onError(onError);
  app.notFound(notFound);

  // Browsers render the UI's HTML pages: those get hono's full set. The API, the delivery tree and
  // /health answer JSON or application/octet-stream bytes, never a document; for them what counts is
  // no sniffing into HTML, no cross-origin no-cors reads, and HSTS. Each further header costs ~4.5 µs
  // per request on the point-read path (docs/benchmarks.md, "Where a point read's CPU goes").
  const documentHeaders = secureHeaders();
  const dataHeaders = secureHeaders({
    crossOriginOpenerPolicy: false,
    originAgentCluster: false,
    referrerPolicy: false,
    xDnsPrefetchControl: false,
    xDownloadOptions: false,
    xFrameOptions: false,
    xPermittedCrossDomainPolicies: false,
    xXssProtection: false,
  });
  app.use("*", (c, next) => (servesData(c.req.path) ? dataHeaders(c, next) : documentHeaders(c, next)));
  app.use("*", async (c, next) => {
    c.set("services", servicesFor(c.env));
    // A route's guard replaces these once it has authenticated the caller.
    c.set("actor", ANONYMOUS);
    c.set("userId", undefined);
    c.set("principal", undefined);
    c.set("auditModel", undefined);
    c.set("unaudited", false);
    c.set("auditDetail", undefined);
    await next();
  });
  // Closed by default: only origins listed in MODELGATE_CORS_ORIGINS may call from a browser.
  const corsFor = new WeakMap<object, MiddlewareHandler>();
  app.use("*", (c, next) => {
    // Only a browser's cross-origin request carries Origin; nothing to answer without one.
    if (!c.req.header("origin")) return next();
    const origins = c.get("services").config.corsOrigins;
    if (origins.length === 0) return next();
    let middleware = corsFor.get(origins);
    if (!middleware)
      corsFor.set(
        origins,
        (middleware = cors({ origin: origins, credentials: true, exposeHeaders: ["x-d1-bookmark"] })),
      );
    return middleware(c, next);
  });
  for (const tree of ["/api/2.0/mlflow/*", "/ajax-api/2.0/mlflow/*", "/api/2.0/modelgate/*"]) {
    app.use(
      tree,
      bodyLimit({
        maxSize: MAX_JSON_BODY,
        onError: (c) =>
          errorResponse(
            c,
            new RegistryError("INVALID_PARAMETER_VALUE", `The request body exceeds ${MAX_JSON_BODY} bytes.`),
          ),
      }),
    );
  }
  // The audit trail: who changed what, for every request other than GET that succeeded, minting
  // signed URLs included. MLflow sends some reads as POST (get-latest-versions, on every model load;
  // searches): their routes say so (`readSentAsPost`), and only those are skipped.
  app.use("*", async (c, next) => {
    await next();
    if (c.req.method === "GET" || c.req.method === "HEAD" || c.res.status >= 400 || !c.var.principal) return;
    if (c.var.unaudited) return;
    const event = {
      timestamp: Date.now(),
      actor: c.var.actor,
      tokenId: c.var.principal.tokenId,
      action: `${c.req.method} ${new URL(c.req.url).pathname}`,
      modelName: c.var.auditModel ?? null,
      version: c.var.auditDetail?.version === undefined ? null : String(c.var.auditDetail.version),
      status: c.res.status,
      detail: c.var.auditDetail?.detail ?? null,
    };
    c.executionCtx.waitUntil(
      c.var.services.auth.audit(event).catch((e: unknown) => console.error("audit write failed", String(e))),
    );
  });

  // Always 200 (a liveness probe); "degraded" when registry events could not be handed to webhooks
  // after every re-send. No login is needed here, so it counts models and never names them.
  app.get("/health", async (c) => {
    const health = await c.var.services.maintenance.checkHealth();
    if (health.status === "ok") return c.json({ status: "ok", service: "modelgate" });
    const undelivered = health.undeliveredEvents;
    return c.json({
      status: "degraded",
      service: "modelgate",
      details: {
        ...(undelivered
          ? {
              undelivered_events: {
                count: undelivered.count,
                oldest_timestamp: undelivered.oldestTimestamp,
                sends: undelivered.sends,
                models: undelivered.models.length,
              },
            }
          : {}),
        ...(health.checkFailed ? { check_failed: health.checkFailed } : {}),
        ...(health.modelSigning ? { model_signing: health.modelSigning } : {}),
      },
    });
  });

  const mlflow = new Hono<AppEnv>()
    .route("/", registeredModelRoutes)
    .route("/", modelVersionRoutes)
    .route("/", experimentRoutes)
    .route("/", runRoutes)
    .route("/", loggedModelRoutes)
    .route("/", webhookRoutes);
  // MLflow's UI calls the same API under /ajax-api; serve both trees.
  app.route("/api/2.0/mlflow", mlflow);
  app.route("/ajax-api/2.0/mlflow", mlflow);
  app.route("/api/3.0/mlflow", serverInfoRoutes);
  app.route("/ajax-api/3.0/mlflow", serverInfoRoutes);
  app.route("/api/2.0/mlflow-artifacts", artifactRoutes);
  app.route("/ajax-api/2.0/mlflow-artifacts", artifactRoutes);
  app.route("/api/2.0/modelgate", transitionRoutes);
  app.route("/api/2.0/modelgate", eventRoutes);
  app.route("/api/2.0/modelgate", rollbackRoutes);
  app.route("/api/2.0/modelgate", policyRoutes);
  app.route("/api/2.0/modelgate", lineageRoutes);
  app.route("/api/2.0/modelgate", scanRoutes);
  app.route("/api/2.0/modelgate", accessRoutes);
  app.route("/api/2.0/modelgate", webhookDeliveryRoutes);
  app.route("/v1", deliveryRoutes);
  app.route("/.well-known", wellKnownRoutes);
  // The web UI (pages at / and /models/..., form targets under /ui/actions/): last, after every API tree.
  app.route("/", uiRoutes);
  return app;
}
