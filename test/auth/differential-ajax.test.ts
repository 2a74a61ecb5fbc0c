import { describeDifferential } from "./differential";

// See ./differential.ts: the route table is split over files so that each part runs in its own isolate.
describeDifferential("the same API under /ajax-api", (r) => r.path.startsWith("/ajax-api/"));
