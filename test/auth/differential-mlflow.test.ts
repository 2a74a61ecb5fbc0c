import { describeDifferential } from "./differential";

// See ./differential.ts: the route table is split over files so that each part runs in its own isolate.
describeDifferential("MLflow's registry and tracking API (/api/2.0/mlflow)", (r) =>
  r.path.startsWith("/api/2.0/mlflow/"),
);
