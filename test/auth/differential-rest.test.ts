import { describeDifferential } from "./differential";

// See ./differential.ts: the route table is split over files so that each part runs in its own isolate.
describeDifferential(
  "artifacts, Modelgate's own API, /v1 and the UI",
  (r) => !r.path.startsWith("/api/2.0/mlflow/") && !r.path.startsWith("/ajax-api/"),
);
