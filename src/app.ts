import { Hono } from "hono";
import type { AppEnv } from "./http/context";
import { notFound, onError } from "./http/error-handler";
import { artifactRoutes } from "./http/routes/artifacts";
import { modelVersionRoutes } from "./http/routes/model-versions";
import { registeredModelRoutes } from "./http/routes/registered-models";
import { transitionRoutes } from "./http/routes/transitions";
import { servicesFor } from "./services";

const ANONYMOUS = "anonymous";

export function createApp() {
  const app = new Hono<AppEnv>();
  app.onError(onError);
  app.notFound(notFound);

  app.use("*", async (c, next) => {
    c.set("services", servicesFor(c.env));
    // Until access control lands every caller is the same anonymous actor (no user_id is recorded).
    c.set("actor", ANONYMOUS);
    c.set("userId", undefined);
    await next();
  });

  app.get("/health", (c) => c.json({ status: "ok", service: "modelgate" }));

  const mlflow = new Hono<AppEnv>().route("/", registeredModelRoutes).route("/", modelVersionRoutes);
  // MLflow's UI calls the same API under /ajax-api; serve both trees.
  app.route("/api/2.0/mlflow", mlflow);
  app.route("/ajax-api/2.0/mlflow", mlflow);
  app.route("/api/2.0/mlflow-artifacts", artifactRoutes);
  app.route("/ajax-api/2.0/mlflow-artifacts", artifactRoutes);
  app.route("/api/2.0/modelgate", transitionRoutes);
  return app;
}
