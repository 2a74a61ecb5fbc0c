import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN, bearer, createToken, ORIGIN, send } from "./helpers";

// A held search answer (src/http/answer-memory.ts) is keyed by the models its caller may see: an
// answer computed for one token is never served to a token that sees other models, in either direction.

async function searchModels(prefix: string, secret: string) {
  const query = new URLSearchParams({ filter: `name LIKE '${prefix}%'` });
  const res = await exports.default.fetch(
    new Request(`${ORIGIN}/api/2.0/mlflow/registered-models/search?${query}`, {
      headers: { authorization: bearer(secret) },
    }),
  );
  const body = (await res.json()) as { registered_models?: { name: string }[] };
  return { cache: res.headers.get("x-modelgate-cache"), names: (body.registered_models ?? []).map((m) => m.name) };
}

describe("held search answers and narrowed tokens", () => {
  it("serves each caller only the answer computed for the models it may see", async () => {
    const prefix = `held-${crypto.randomUUID().slice(0, 8)}`;
    const [mine, theirs] = [`${prefix}-mine`, `${prefix}-theirs`];
    for (const name of [mine, theirs]) {
      expect((await send("POST", "/api/2.0/mlflow/registered-models/create", { name }, bearer(ADMIN))).status).toBe(
        200,
      );
    }
    const narrowed = await createToken({ name: "held-narrowed", scopes: ["READ"], models: [mine] });
    const other = await createToken({ name: "held-other", scopes: ["READ"], models: [theirs] });

    expect(await searchModels(prefix, narrowed)).toEqual({ cache: "miss", names: [mine] });
    expect(await searchModels(prefix, narrowed)).toEqual({ cache: "hit", names: [mine] });
    expect(await searchModels(prefix, ADMIN)).toEqual({ cache: "miss", names: [mine, theirs] });
    expect(await searchModels(prefix, other)).toEqual({ cache: "miss", names: [theirs] });
    expect(await searchModels(prefix, ADMIN)).toEqual({ cache: "hit", names: [mine, theirs] });
    expect(await searchModels(prefix, narrowed)).toEqual({ cache: "hit", names: [mine] });
  });
});
