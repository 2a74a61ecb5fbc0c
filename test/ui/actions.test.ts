import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createModel, createModelWith, createVersionWith, transitionTo, uniqueName } from "../helpers";
import { Browser, csrfOf, hiddenFields, ok, ORIGIN, registerTrained, stageOf, textOf, transitions } from "./browser";

const enc = encodeURIComponent;
const modelPage = (name: string) => `/models/${enc(name)}`;
const action = (name: string, what: string) => `/ui/actions/models/${enc(name)}/${what}`;

async function modelWithVersions(count: number, prefix = "Acted") {
  const name = await createModel(uniqueName(prefix));
  for (let i = 0; i < count; i++) await createVersionWith(name);
  return name;
}

describe("promoting through the forms", () => {
  it("asks for confirmation, changes nothing until confirmed, then promotes and redirects back", async () => {
    const name = await modelWithVersions(2);
    const browser = new Browser();
    const token = csrfOf((await browser.get(modelPage(name))).html);

    const asked = await browser.post(action(name, "stage"), { _csrf: token, version: "1", stage: "Production" });
    expect(asked.status).toBe(200);
    expect(textOf(asked.html)).toContain(`Promote version 1 of ${name} to Production?`);
    expect(textOf(asked.html)).toContain(`${name} has no Production version now.`);
    expect(await stageOf(name, "1")).toBe("None");

    const done = await browser.post(action(name, "stage"), { ...hiddenFields(asked.html), comment: "ship it" });
    expect(done.status).toBe(303);
    expect(done.headers.get("location")).toBe(modelPage(name));
    expect(await stageOf(name, "1")).toBe("Production");

    const after = await browser.get(modelPage(name));
    expect(textOf(after.html)).toContain("Version 1 moved from None to Production.");
    expect(after.html).toMatch(
      /Production:<\/span> <a href="[^"]+\/versions\/1" class="live-version"><span class="badge stage-Production">Production<\/span> version 1/,
    );
    const [latest] = await transitions(name);
    expect(latest).toMatchObject({ version: "1", from_stage: "None", to_stage: "Production", comment: "ship it" });
    // The timeline shows who did it, as the history records it.
    expect(textOf(after.html)).toContain(`version 1 : None → Production by ${latest!.actor} — ship it`);
    // The message is shown once.
    expect(textOf((await browser.get(modelPage(name))).html)).not.toContain("moved from None to Production");
  });

  it("archives the previous Production version when another is promoted", async () => {
    const name = await modelWithVersions(2);
    await transitionTo(name, "1", "Production");
    const browser = new Browser();
    const asked = await browser.post(action(name, "stage"), {
      _csrf: await browser.token(modelPage(name)),
      version: "2",
      stage: "Production",
    });
    expect(textOf(asked.html)).toContain("Version 1, in Production now, will be archived.");
    const done = await browser.post(action(name, "stage"), hiddenFields(asked.html));
    expect(done.status).toBe(303);
    expect([await stageOf(name, "1"), await stageOf(name, "2")]).toEqual(["Archived", "Production"]);
    expect(textOf((await browser.get(modelPage(name))).html)).toContain(
      "Version 2 moved from None to Production. Version 1 was archived.",
    );
  });

  it("moves to Staging without a confirmation step", async () => {
    const name = await modelWithVersions(1);
    const browser = new Browser();
    const done = await browser.submit(
      modelPage(name),
      action(name, "stage"),
      { version: "1", stage: "Staging" },
      false,
    );
    expect(done.status).toBe(303);
    expect(await stageOf(name, "1")).toBe("Staging");
  });

  it("confirms archiving the Production version and warns that Production will be empty", async () => {
    const name = await modelWithVersions(1);
    await transitionTo(name, "1", "Production");
    const browser = new Browser();
    const asked = await browser.post(action(name, "stage"), {
      _csrf: await browser.token(modelPage(name)),
      version: "1",
      stage: "Archived",
    });
    expect(textOf(asked.html)).toContain(`${name} will have no version in Production`);
    expect(await stageOf(name, "1")).toBe("Production");
    await browser.post(action(name, "stage"), hiddenFields(asked.html));
    expect(await stageOf(name, "1")).toBe("Archived");
  });

  it("reports a refused input on the model page instead of failing", async () => {
    const name = await modelWithVersions(1);
    const browser = new Browser();
    const res = await browser.submit(modelPage(name), action(name, "stage"), { version: "1", stage: "Retired" }, false);
    expect(res.status).toBe(303);
    const page = await browser.get(modelPage(name));
    expect(page.html).toContain('class="flash error" role="alert"');
    expect(textOf(page.html)).toContain("Invalid Model Version stage: Retired");
  });
});

describe("rolling back through the forms", () => {
  it("promotes the previous Production version and archives the current one, with a history comment", async () => {
    const name = await modelWithVersions(3);
    await transitionTo(name, "1", "Production");
    await transitionTo(name, "2", "Staging");
    await transitionTo(name, "2", "Production");
    const browser = new Browser();
    const page = await browser.get(modelPage(name));
    expect(textOf(page.html)).toContain("Version 2 is in Production; the previous Production version is 1.");

    const asked = await browser.post(action(name, "rollback"), { _csrf: csrfOf(page.html), expected: "2" });
    expect(asked.status).toBe(200);
    expect(textOf(asked.html)).toContain(`Roll back Production of ${name} to version 1?`);
    expect(await stageOf(name, "2")).toBe("Production");

    const done = await browser.post(action(name, "rollback"), {
      ...hiddenFields(asked.html),
      comment: "latency regression",
    });
    expect(done.status).toBe(303);
    expect([await stageOf(name, "1"), await stageOf(name, "2")]).toEqual(["Production", "Archived"]);
    const history = await transitions(name);
    // One atomic write records both rows (their order within it is the registry's business).
    const rows = history.slice(0, 2);
    expect(rows.map((t) => [t.version, t.from_stage, t.to_stage])).toEqual(
      expect.arrayContaining([
        ["1", "Archived", "Production"],
        ["2", "Production", "Archived"],
      ]),
    );
    expect(rows.find((t) => t.to_stage === "Production")!.comment).toBe("rollback to version 1: latency regression");
    const after = textOf((await browser.get(modelPage(name))).html);
    expect(after).toContain("Rolled back: version 1 is in Production again; version 2 was archived.");
    // Rolling back again returns to version 2: the previous Production version is now 2.
    expect(after).toContain("Version 1 is in Production; the previous Production version is 2.");
  });

  it("refuses clearly when there is no earlier Production version", async () => {
    const name = await modelWithVersions(2);
    await transitionTo(name, "1", "Production");
    const browser = new Browser();
    const page = await browser.get(modelPage(name));
    expect(textOf(page.html)).toContain(`Model '${name}' has no earlier Production version to roll back to`);
    expect(page.html).not.toContain(`action="${action(name, "rollback")}"`);
    const res = await browser.post(action(name, "rollback"), {
      _csrf: csrfOf(page.html),
      expected: "1",
      confirmed: "yes",
    });
    expect(res.status).toBe(303);
    expect(textOf((await browser.get(modelPage(name))).html)).toContain(
      "no earlier Production version to roll back to",
    );
    expect(await stageOf(name, "1")).toBe("Production");
  });

  it("refuses a confirmed rollback when Production moved since the page was shown", async () => {
    const name = await modelWithVersions(3);
    await transitionTo(name, "1", "Production");
    await transitionTo(name, "2", "Production");
    const browser = new Browser();
    const asked = await browser.post(action(name, "rollback"), {
      _csrf: await browser.token(modelPage(name)),
      expected: "2",
    });
    await transitionTo(name, "3", "Production"); // someone else promotes meanwhile
    await browser.post(action(name, "rollback"), hiddenFields(asked.html));
    expect(await stageOf(name, "3")).toBe("Production");
    expect(textOf((await browser.get(modelPage(name))).html)).toContain(
      "changed since you looked: version 3 is in Production now, not version 2. Nothing was rolled back.",
    );
  });
});

describe("aliases, tags and description through the forms", () => {
  it("sets an alias, asks before moving it, and asks before removing it", async () => {
    const name = await modelWithVersions(2);
    const browser = new Browser();
    expect(
      (await browser.submit(modelPage(name), action(name, "aliases"), { alias: "champion", version: "1" }, false))
        .status,
    ).toBe(303);
    expect((await ok("GET", "/registered-models/alias", { name, alias: "champion" })).model_version.version).toBe("1");

    const asked = await browser.post(action(name, "aliases"), {
      _csrf: await browser.token(modelPage(name)),
      alias: "champion",
      version: "2",
    });
    expect(textOf(asked.html)).toContain("Move @champion from version 1 to version 2?");
    expect((await ok("GET", "/registered-models/alias", { name, alias: "champion" })).model_version.version).toBe("1");
    await browser.post(action(name, "aliases"), hiddenFields(asked.html));
    expect((await ok("GET", "/registered-models/alias", { name, alias: "champion" })).model_version.version).toBe("2");

    const removal = await browser.post(action(name, "aliases/delete"), {
      _csrf: await browser.token(modelPage(name)),
      alias: "champion",
    });
    expect(textOf(removal.html)).toContain("Remove alias @champion?");
    await browser.post(action(name, "aliases/delete"), hiddenFields(removal.html));
    const model = await ok("GET", "/registered-models/get", { name });
    expect(model.registered_model.aliases ?? []).toEqual([]);
  });

  it("refuses a reserved alias with the registry's message", async () => {
    const name = await modelWithVersions(1);
    const browser = new Browser();
    await browser.submit(modelPage(name), action(name, "aliases"), { alias: "latest", version: "1" }, false);
    expect(textOf((await browser.get(modelPage(name))).html)).toContain(
      "'latest' alias name (case insensitive) is reserved.",
    );
  });

  it("edits the description and tags", async () => {
    const name = uniqueName("Edited");
    await createModelWith({ name, tags: [{ key: "old", value: "x" }] });
    const browser = new Browser();
    await browser.submit(modelPage(name), action(name, "description"), { description: "new words" }, false);
    await browser.submit(modelPage(name), action(name, "tags"), { key: "team", value: "pricing" }, false);
    const removal = await browser.submit(modelPage(name), action(name, "tags/delete"), { key: "old" });
    expect(removal.status).toBe(303);
    const model = (await ok("GET", "/registered-models/get", { name })).registered_model;
    expect(model.description).toBe("new words");
    expect(model.tags).toEqual([{ key: "team", value: "pricing" }]);
    const page = textOf((await browser.get(modelPage(name))).html);
    expect(page).toContain("new words");
    expect(page).toContain("team pricing");
  });
});

describe("pinning key metrics", () => {
  it("pins the chosen metrics as the model's metric columns for everyone, and unpins them", async () => {
    const name = await createModel(uniqueName("Pinned"));
    for (const metrics of [
      { rmse: 0.8, r2: 0.7, mae: 0.5, loss: 1 },
      { rmse: 0.7, r2: 0.8, loss: 0.9 },
    ] as Record<string, number>[])
      await registerTrained(name, {}, metrics);
    const browser = new Browser();
    const columns = async () => {
      const html = (await browser.get(modelPage(name))).html;
      return [...html.matchAll(/data-metric="([^"]+)"/g)]
        .map((m) => m[1])
        .slice(0, html.match(/data-metric=/g)!.length / 2);
    };
    expect(await columns()).toEqual(["loss", "r2", "rmse"]);

    const token = await browser.token(modelPage(name));
    const pinned = await browser.post(action(name, "key-metrics"), [
      ["_csrf", token],
      ["metric", "mae"],
      ["metric", "rmse"],
    ]);
    expect(pinned.status).toBe(303);
    const tags = (await ok("GET", "/registered-models/get", { name })).registered_model.tags;
    expect(tags).toEqual([{ key: "modelgate.key_metrics", value: "mae,rmse" }]);
    expect(await columns()).toEqual(["mae", "rmse"]);
    expect(textOf((await browser.get(modelPage(name))).html)).toContain("Metric columns: pinned (mae, rmse).");

    await browser.post(action(name, "key-metrics"), [["_csrf", await browser.token(modelPage(name))]]);
    expect((await ok("GET", "/registered-models/get", { name })).registered_model.tags ?? []).toEqual([]);
    expect(await columns()).toEqual(["loss", "r2", "rmse"]);
  });

  it("refuses more than six pinned metrics and changes nothing", async () => {
    const name = await createModel(uniqueName("TooMany"));
    const browser = new Browser();
    const fields: [string, string][] = [
      ["_csrf", await browser.token(modelPage(name))],
      ...["a", "b", "c", "d", "e", "f", "g"].map((k): [string, string] => ["metric", k]),
    ];
    expect((await browser.post(action(name, "key-metrics"), fields)).status).toBe(303);
    expect(textOf((await browser.get(modelPage(name))).html)).toContain("Pin at most 6 metrics; 7 were chosen.");
    expect((await ok("GET", "/registered-models/get", { name })).registered_model.tags ?? []).toEqual([]);
  });
});

describe("CSRF protection", () => {
  async function promoteAttempt(
    name: string,
    browser: Browser,
    fields: Record<string, string>,
    headers: Record<string, string> = {},
  ) {
    const res = await browser.post(action(name, "stage"), { version: "1", stage: "Staging", ...fields }, headers);
    expect(await stageOf(name, "1")).toBe("None");
    return res;
  }

  it("refuses a form without a token", async () => {
    const name = await modelWithVersions(1);
    const browser = new Browser();
    await browser.get(modelPage(name));
    const res = await promoteAttempt(name, browser, {});
    expect(res.status).toBe(403);
    expect(textOf(res.html)).toContain("The form was refused (CSRF protection): it carries no token.");
  });

  it("refuses a token that belongs to another browser", async () => {
    const name = await modelWithVersions(1);
    const victim = new Browser();
    const attacker = new Browser();
    const attackersToken = await attacker.token(modelPage(name));
    await victim.get(modelPage(name));
    const res = await promoteAttempt(name, victim, { _csrf: attackersToken });
    expect(res.status).toBe(403);
    expect(textOf(res.html)).toContain("its token does not match this browser's session");
  });

  it("refuses a token without its cookie, and a forged token", async () => {
    const name = await modelWithVersions(1);
    const browser = new Browser();
    const token = await browser.token(modelPage(name));
    const forged = await promoteAttempt(name, browser, { _csrf: "0".repeat(64) });
    expect(forged.status).toBe(403);
    browser.cookies.clear();
    const cookieless = await promoteAttempt(name, browser, { _csrf: token });
    expect(cookieless.status).toBe(403);
  });

  it("refuses a form posted from another origin even with a valid token (hono/csrf)", async () => {
    const name = await modelWithVersions(1);
    const browser = new Browser();
    const token = await browser.token(modelPage(name));
    const res = await promoteAttempt(
      name,
      browser,
      { _csrf: token },
      { origin: "https://evil.example", "sec-fetch-site": "cross-site" },
    );
    expect(res.status).toBe(403);
    expect(textOf(res.html)).toContain("it was not sent from this site");
  });

  it("refuses a JSON body to a form target", async () => {
    const name = await modelWithVersions(1);
    const res = await exports.default.fetch(
      new Request(`${ORIGIN}${action(name, "stage")}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ version: "1", stage: "Production" }),
      }),
    );
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error_code: "PERMISSION_DENIED" });
    expect(await stageOf(name, "1")).toBe("None");
  });

  it("accepts the same token on the confirmation page's form", async () => {
    const name = await modelWithVersions(1);
    const browser = new Browser();
    const token = await browser.token(modelPage(name));
    const asked = await browser.post(action(name, "stage"), { _csrf: token, version: "1", stage: "Production" });
    expect(hiddenFields(asked.html)._csrf).toBe(token);
    expect(asked.headers.get("set-cookie") ?? "").not.toContain("mg_csrf");
  });

  it("sets the nonce cookie HttpOnly and SameSite", async () => {
    const name = await modelWithVersions(1);
    const res = await new Browser().get(modelPage(name));
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith("mg_csrf="));
    expect(cookie).toMatch(/^mg_csrf=[0-9a-f]{64}; Path=\/; HttpOnly; SameSite=Lax$/);
  });
});

describe("form limits", () => {
  it("refuses a form larger than 64 KiB before reading it into memory", async () => {
    const name = await modelWithVersions(1);
    const browser = new Browser();
    const token = await browser.token(modelPage(name));
    const res = await browser.post(action(name, "description"), { _csrf: token, description: "x".repeat(70 * 1024) });
    expect(res.status).toBe(400);
    expect(textOf(res.html)).toContain("The form is larger than 64 KiB.");
    expect((await ok("GET", "/registered-models/get", { name })).registered_model.description ?? "").toBe("");
  });

  it("refuses search text longer than any model name", async () => {
    const page = await new Browser().get(`/?q=${"a".repeat(300)}`);
    expect(page.status).toBe(400);
    expect(textOf(page.html)).toContain("cannot match a model name");
  });
});
