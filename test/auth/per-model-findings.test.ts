import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { uniqueName } from "../helpers";
import { ADMIN, ORIGIN, bearer, createToken, send, type Reply } from "./helpers";
import { modelSnapshot, seedModel } from "./seed";

// One test per finding of the per-model access review (issue 13): each failed before the guard
// authorized the parsed input it hands to the handler.

const MLFLOW = "/api/2.0/mlflow";
const AJAX = "/ajax-api/2.0/mlflow";
const MODELGATE = "/api/2.0/modelgate";

async function raw(method: string, path: string, body: string, authorization: string): Promise<Reply> {
  const res = await exports.default.fetch(
    new Request(`${ORIGIN}${path}`, { method, body, headers: { "content-type": "application/json", authorization } }),
  );
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {} };
}

/** Two models and tokens narrowed to the first: the attacker holds A and aims at B. */
async function twoTeams(scope: string) {
  const a = await seedModel(uniqueName("team-a"));
  const b = await seedModel(uniqueName("team-b"));
  const token = bearer(await createToken({ name: uniqueName(`a-${scope}`), scopes: [scope], models: [a.name] }));
  return { a, b, token };
}

describe("a body encoded twice is checked as the handler reads it (finding 1)", () => {
  it("refuses JSON-in-a-string aimed at another model on every mutation, in both trees, and changes nothing", async () => {
    const { a, b, token } = await twoTeams("promote");
    const before = await modelSnapshot(b);
    const attempts: [string, string, Record<string, unknown>][] = [
      ["POST", `${MLFLOW}/registered-models/set-tag`, { name: b.name, key: "k", value: "v" }],
      ["POST", `${MLFLOW}/model-versions/transition-stage`, { name: b.name, version: "1", stage: "Archived" }],
      ["POST", `${AJAX}/model-versions/transition-stage`, { name: b.name, version: "1", stage: "Archived" }],
      ["POST", `${MLFLOW}/registered-models/alias`, { name: b.name, alias: "taken", version: "1" }],
      ["DELETE", `${MLFLOW}/registered-models/alias`, { name: b.name, alias: "champion" }],
      ["PATCH", `${MLFLOW}/model-versions/update`, { name: b.name, version: "1", description: "mine" }],
      ["POST", `${MLFLOW}/model-versions/set-tag`, { name: b.name, version: "1", key: "k", value: "v" }],
      ["POST", `${MODELGATE}/registered-models/rollback`, { name: b.name }],
    ];
    for (const [method, path, params] of attempts) {
      const twice = await raw(method, path, JSON.stringify(JSON.stringify(params)), token);
      expect(twice.status, `${method} ${path}`).toBe(403);
      expect(twice.body.error_code).toBe("PERMISSION_DENIED");
    }
    expect(await modelSnapshot(b)).toEqual(before);
    // The same encoding aimed at its own model works, and its audit row names the model and token.
    const own = await raw(
      "POST",
      `${MLFLOW}/registered-models/set-tag`,
      JSON.stringify(JSON.stringify({ name: a.name, key: "k", value: "v" })),
      token,
    );
    expect(own.status).toBe(200);
    const audit = await send("GET", `${MODELGATE}/audit`, { model: a.name }, bearer(ADMIN));
    expect(audit.body.events[0]).toMatchObject({
      model: a.name,
      action: `POST ${MLFLOW}/registered-models/set-tag`,
      token_id: expect.any(String),
    });
  });

  it("refuses renaming another model to a name the token holds, and its own model to a name it does not hold", async () => {
    const { a, b, token } = await twoTeams("promote");
    const before = await modelSnapshot(b);
    const takeOver = await raw(
      "POST",
      `${MLFLOW}/registered-models/rename`,
      JSON.stringify(JSON.stringify({ name: b.name, new_name: a.name })),
      token,
    );
    expect(takeOver.status).toBe(403);
    const giveAway = await send(
      "POST",
      `${MLFLOW}/registered-models/rename`,
      { name: a.name, new_name: uniqueName("elsewhere") },
      token,
    );
    expect(giveAway.status).toBe(403);
    expect(await modelSnapshot(b)).toEqual(before);
  });
});

describe("a version copied from another model needs read on that model (finding 2)", () => {
  it("refuses models:/B/1 and models:/B@champion as a source for A, and registers nothing", async () => {
    const { a, b, token } = await twoTeams("write");
    const before = await modelSnapshot(a);
    for (const source of [`models:/${b.name}/1`, `models:/${b.name}@champion`]) {
      const copy = await send("POST", `${MLFLOW}/model-versions/create`, { name: a.name, source }, token);
      expect(copy.status, source).toBe(403);
      expect(copy.body.error_code).toBe("PERMISSION_DENIED");
    }
    expect(await modelSnapshot(a)).toEqual(before);
    // Copying within its own model stays allowed.
    expect(
      (await send("POST", `${MLFLOW}/model-versions/create`, { name: a.name, source: `models:/${a.name}/1` }, token))
        .status,
    ).toBe(200);
  });
});

describe("an admin narrowed to a model stays in it (finding 3)", () => {
  it("lists and revokes only tokens of its models, never another model's or an unrestricted one", async () => {
    const { a, b, token } = await twoTeams("admin");
    const ownTeam = await send(
      "POST",
      `${MODELGATE}/tokens`,
      { name: uniqueName("a-reader"), scopes: ["read"], models: [a.name] },
      token,
    );
    expect(ownTeam.status).toBe(200);
    const others = await send(
      "POST",
      `${MODELGATE}/tokens`,
      { name: uniqueName("b-reader"), scopes: ["read"], models: [b.name] },
      bearer(ADMIN),
    );
    const global = await send(
      "POST",
      `${MODELGATE}/tokens`,
      { name: uniqueName("global"), scopes: ["admin"] },
      bearer(ADMIN),
    );
    const listed = await send("GET", `${MODELGATE}/tokens`, {}, token);
    expect(listed.status).toBe(200);
    const ids = listed.body.tokens.map((t: { id: string }) => t.id);
    expect(ids).toContain(ownTeam.body.token.id);
    expect(ids).not.toContain(others.body.token.id);
    expect(ids).not.toContain(global.body.token.id);
    for (const t of listed.body.tokens) expect(t.models.every((m: string) => m === a.name)).toBe(true);
    for (const id of [others.body.token.id, global.body.token.id]) {
      const revoke = await send("DELETE", `${MODELGATE}/tokens/${id}`, {}, token);
      expect(revoke.status).toBe(404);
    }
    const stillLive = await env.DB.prepare(
      "SELECT count(*) AS n FROM api_tokens WHERE id IN (?, ?) AND revoked_at IS NULL",
    )
      .bind(others.body.token.id, global.body.token.id)
      .first<{ n: number }>();
    expect(stillLive?.n).toBe(2);
    expect((await send("DELETE", `${MODELGATE}/tokens/${ownTeam.body.token.id}`, {}, token)).status).toBe(200);
  });

  it("reads only its models' audit rows", async () => {
    const { a, b, token } = await twoTeams("admin");
    expect((await send("GET", `${MODELGATE}/audit`, { model: b.name }, token)).status).toBe(403);
    const mine = await send("GET", `${MODELGATE}/audit`, { max_results: 1000 }, token);
    expect(mine.status).toBe(200);
    expect(mine.body.events.length).toBeGreaterThan(0);
    for (const event of mine.body.events) expect(event.model).toBe(a.name);
  });
});

describe("search and lists answer only what the token may read (finding 4)", () => {
  it("pages registered models and versions of its own models only, with no short pages", async () => {
    const prefix = uniqueName("shared");
    const mine = [`${prefix}-a1`, `${prefix}-a3`, `${prefix}-a5`];
    const theirs = [`${prefix}-a2`, `${prefix}-a4`];
    for (const name of [...mine, ...theirs]) {
      expect((await send("POST", `${MLFLOW}/registered-models/create`, { name }, bearer(ADMIN))).status).toBe(200);
      expect(
        (await send("POST", `${MLFLOW}/model-versions/create`, { name, source: `s3://bucket/${name}` }, bearer(ADMIN)))
          .status,
      ).toBe(200);
    }
    const token = bearer(await createToken({ name: uniqueName("reader"), scopes: ["read"], models: mine }));
    for (const [path, key] of [
      [`${MLFLOW}/registered-models/search`, "registered_models"],
      [`${MLFLOW}/model-versions/search`, "model_versions"],
    ] as const) {
      const seen: string[] = [];
      let pageToken: string | undefined;
      do {
        const page = await send(
          "GET",
          path,
          {
            filter: `name LIKE '${prefix}%'`,
            max_results: 1,
            order_by: "name ASC",
            ...(pageToken ? { page_token: pageToken } : {}),
          },
          token,
        );
        expect(page.status).toBe(200);
        if (page.body.next_page_token) expect(page.body[key]).toHaveLength(1);
        seen.push(...(page.body[key] ?? []).map((m: { name: string }) => m.name));
        pageToken = page.body.next_page_token;
      } while (pageToken);
      expect(seen.sort()).toEqual(mine);
    }
  });

  it("shows the UI's model list without other models", async () => {
    const { a, b, token } = await twoTeams("read");
    const page = await exports.default.fetch(
      new Request(`${ORIGIN}/?q=${encodeURIComponent("team-")}`, { headers: { authorization: token } }),
    );
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain(a.name);
    expect(html).not.toContain(b.name);
  });
});

describe("the failed-authentication limit (finding 7)", () => {
  it("never refuses a valid token, however many guesses came from its address", async () => {
    const { token } = await twoTeams("read");
    const address = { "cf-connecting-ip": "203.0.113.77" };
    for (let i = 0; i < 25; i++)
      await send("GET", `${MLFLOW}/registered-models/search`, {}, bearer(`mg_guess_${i}`), address);
    const guess = await send("GET", `${MLFLOW}/registered-models/search`, {}, bearer("mg_guess_again"), address);
    expect(guess.status).toBe(429);
    const valid = await send("GET", `${MLFLOW}/registered-models/search`, {}, token, address);
    expect(valid.status).toBe(200);
  });

  it("locally, counts every client as the loopback socket whatever CF-Connecting-IP it sends", async () => {
    const app = createApp();
    const local = { ...env, MODELGATE_RUNTIME: "local" };
    const ctx = {
      waitUntil: () => undefined,
      passThroughOnException: () => undefined,
      props: {},
    } as unknown as ExecutionContext;
    const guess = (i: number) =>
      app.fetch(
        new Request(`${ORIGIN}${MLFLOW}/registered-models/search`, {
          headers: { authorization: `Bearer mg_local_${i}`, "cf-connecting-ip": `192.0.2.${i}` },
        }),
        local,
        ctx,
      );
    const statuses: number[] = [];
    for (let i = 1; i <= 21; i++) statuses.push((await guess(i)).status);
    expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(statuses[20]).toBe(429);
  });
});
