import { describe, expect, it } from "vitest";
import { routeTable } from "./differential";

// Every guarded route falls in exactly one part of the differential test.
const parts = [
  (p: string) => p.startsWith("/api/2.0/mlflow/"),
  (p: string) => p.startsWith("/ajax-api/"),
  (p: string) => !p.startsWith("/api/2.0/mlflow/") && !p.startsWith("/ajax-api/"),
];

describe("the differential authorization test", () => {
  it("covers the whole route table, each route in exactly one part", () => {
    const routes = routeTable();
    expect(routes.length).toBeGreaterThan(60);
    for (const route of routes) expect(parts.filter((inPart) => inPart(route.path)).length, route.path).toBe(1);
  });
});
