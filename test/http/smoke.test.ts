import { describe, expect, it } from "vitest";
import { call, createModel, createVersion } from "../helpers";

describe("smoke", () => {
  it("creates a model and a version", async () => {
    const name = await createModel();
    const v = await createVersion(name);
    expect(v.version).toBe("1");
    const got = await call("GET", "/registered-models/get", { name });
    expect(got.status).toBe(200);
    expect(got.body.registered_model.latest_versions[0].version).toBe("1");
  });
});
