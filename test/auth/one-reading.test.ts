import { exports } from "cloudflare:workers";
import { Hono } from "hono";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import type { AppEnv } from "../../src/http/context";
import { readInput, requestParameters } from "../../src/http/input";
import { uniqueName } from "../helpers";
import { ADMIN, ORIGIN, bearer, createToken, send } from "./helpers";

// One reading of a request (issue 15: the body was parsed by the guard and again by the handler,
// the root of an earlier hole). A request that two parsers could read differently (repeated JSON
// keys, a name in the query and another in the body, JSON inside a JSON string, escapes, a form
// body, both API trees) is authorized on exactly the model the handler then acts on: either it is
// refused and no model changes, or it succeeds and the model it changed is the one the token may
// write. The token here may write model A only.

const TREES = ["/api/2.0/mlflow", "/ajax-api/2.0/mlflow"] as const;

let a: string;
let b: string;
let token: string;

async function tagsOf(name: string): Promise<Record<string, string>> {
  const res = await send("GET", "/api/2.0/mlflow/registered-models/get", { name }, bearer(ADMIN));
  expect(res.status).toBe(200);
  const tags = (res.body.registered_model.tags ?? []) as { key: string; value: string }[];
  return Object.fromEntries(tags.map((t) => [t.key, t.value]));
}

async function raw(method: string, path: string, body: string, contentType = "application/json") {
  const res = await exports.default.fetch(
    new Request(`${ORIGIN}${path}`, { method, body, headers: { authorization: token, "content-type": contentType } }),
  );
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const json = (...pairs: [string, string][]) =>
  `{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(",")}}`;

beforeAll(async () => {
  a = uniqueName("reading-a");
  b = uniqueName("reading-b");
  for (const name of [a, b]) {
    const res = await send("POST", "/api/2.0/mlflow/registered-models/create", { name }, bearer(ADMIN));
    expect(res.status).toBe(200);
  }
  token = bearer(await createToken({ name: uniqueName("reading"), scopes: ["write"], models: [a] }));
});

/** Each attempt sets the tag `probe` to its own value; `acts` is the model the one reading names (null: none). */
type Attempt = { what: string; send: (tree: string, value: string) => ReturnType<typeof raw>; acts: "a" | "b" | null };

const attempts = (): Attempt[] => [
  {
    what: "repeated JSON key, B then A (the last one counts)",
    send: (tree, value) =>
      raw(
        "POST",
        `${tree}/registered-models/set-tag`,
        json(["name", b], ["key", "probe"], ["value", value], ["name", a]),
      ),
    acts: "a",
  },
  {
    what: "repeated JSON key, A then B",
    send: (tree, value) =>
      raw(
        "POST",
        `${tree}/registered-models/set-tag`,
        json(["name", a], ["key", "probe"], ["value", value], ["name", b]),
      ),
    acts: "b",
  },
  {
    what: "A in the query string, B in the body",
    send: (tree, value) =>
      raw(
        "POST",
        `${tree}/registered-models/set-tag?name=${encodeURIComponent(a)}`,
        JSON.stringify({ name: b, key: "probe", value }),
      ),
    acts: "b",
  },
  {
    what: "B in the query string, A in the body",
    send: (tree, value) =>
      raw(
        "POST",
        `${tree}/registered-models/set-tag?name=${encodeURIComponent(b)}`,
        JSON.stringify({ name: a, key: "probe", value }),
      ),
    acts: "a",
  },
  {
    what: "B inside a JSON string",
    send: (tree, value) =>
      raw(
        "POST",
        `${tree}/registered-models/set-tag`,
        JSON.stringify(JSON.stringify({ name: b, key: "probe", value })),
      ),
    acts: "b",
  },
  {
    what: "A inside a JSON string",
    send: (tree, value) =>
      raw(
        "POST",
        `${tree}/registered-models/set-tag`,
        JSON.stringify(JSON.stringify({ name: a, key: "probe", value })),
      ),
    acts: "a",
  },
  {
    what: "B spelt with \\u escapes",
    send: (tree, value) => {
      const escaped = [...b].map((ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`).join("");
      return raw(
        "POST",
        `${tree}/registered-models/set-tag`,
        `{"name":"${escaped}","key":"probe","value":${JSON.stringify(value)}}`,
      );
    },
    acts: "b",
  },
  {
    what: "a form body naming A, with B in the query string",
    send: (tree, value) =>
      raw(
        "POST",
        `${tree}/registered-models/set-tag?name=${encodeURIComponent(b)}&key=probe&value=${value}`,
        new URLSearchParams({ name: a, key: "probe", value }).toString(),
        "application/x-www-form-urlencoded",
      ),
    acts: null,
  },
  {
    what: "a list of names, A and B",
    send: (tree, value) =>
      raw("POST", `${tree}/registered-models/set-tag`, JSON.stringify({ name: [a, b], key: "probe", value })),
    acts: null,
  },
];

describe("the guard and the handler read a request once, the same way", () => {
  for (const tree of TREES) {
    for (const [i, attempt] of attempts().entries()) {
      it(`${tree}: ${attempt.what}`, async () => {
        const value = `v-${i}-${crypto.randomUUID()}`;
        const res = await attempt.send(tree, value);
        const [tagsA, tagsB] = [await tagsOf(a), await tagsOf(b)];
        // Whatever the answer, B (which the token may not write) never changes.
        expect(tagsB.probe).toBeUndefined();
        if (attempt.acts === "a") {
          expect(res.status).toBe(200);
          expect(tagsA.probe).toBe(value);
        } else {
          expect(tagsA.probe).not.toBe(value);
          if (attempt.acts === "b") {
            expect(res.status).toBe(403);
            expect(res.body.error_code).toBe("PERMISSION_DENIED");
          } else {
            expect(res.status).toBe(400);
            expect(res.body.error_code).toBe("INVALID_PARAMETER_VALUE");
          }
        }
      });
    }
  }

  it("a GET reads only its query string: one name there is the one checked and answered", async () => {
    const res = await exports.default.fetch(
      new Request(`${ORIGIN}/api/2.0/mlflow/registered-models/get?name=${encodeURIComponent(a)}`, {
        headers: { authorization: token },
      }),
    );
    expect(res.status).toBe(200);
    expect(((await res.json()) as { registered_model: { name: string } }).registered_model.name).toBe(a);
    const both = await exports.default.fetch(
      new Request(
        `${ORIGIN}/api/2.0/mlflow/registered-models/get?name=${encodeURIComponent(a)}&name=${encodeURIComponent(b)}`,
        {
          headers: { authorization: token },
        },
      ),
    );
    expect(both.status).toBe(400);
  });
});

describe("requestParameters", () => {
  it("decodes a request once: every later read, with any schema, gets the first reading", async () => {
    const app = new Hono<AppEnv>();
    app.post("/", async (c) => {
      const first = await requestParameters(c);
      const named = await readInput(c, z.object({ name: z.string() }));
      const all = await readInput(c, z.looseObject({}));
      return c.json({ same: first === (await requestParameters(c)), named: named.name, all });
    });
    const res = await app.request("/", { method: "POST", body: '{"name":"x","name":"y","n":1}' });
    expect(await res.json()).toEqual({ same: true, named: "y", all: { name: "y", n: 1 } });
  });
});
