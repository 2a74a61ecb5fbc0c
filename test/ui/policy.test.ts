import { describe, expect, it } from "vitest";
import { createModel, createVersionWith, MODELGATE_API, transitionTo, uniqueName } from "../helpers";
import { Browser, csrfOf, hiddenFields, ok, stageOf, textOf, transitions } from "./browser";

const enc = encodeURIComponent;
const modelPage = (name: string) => `/models/${enc(name)}`;
const setPolicy = (name: string, policy: Record<string, unknown>) =>
  ok("PUT", "/registered-models/policy", { name, policy }, MODELGATE_API);

/** The text of the model page's policy section. */
function policySection(html: string): string {
  const start = html.indexOf('<h2 id="policy">');
  expect(start).toBeGreaterThan(-1);
  return textOf(html.slice(start, html.indexOf("</section>", start)));
}

describe("the promotion policy on the model page", () => {
  it("shows no policy section when the model has no rules", async () => {
    const name = await createModel(uniqueName("Unguarded"));
    const page = await new Browser().get(modelPage(name));
    expect(page.status).toBe(200);
    expect(page.html).not.toContain('<h2 id="policy">');
    await setPolicy(name, {});
    expect((await new Browser().get(modelPage(name))).html).not.toContain('<h2 id="policy">');
  });

  it("shows each guarded stage's rules in plain words, and who set them", async () => {
    const name = await createModel(uniqueName("Guarded"));
    await setPolicy(name, {
      Staging: [{ type: "tag", key: "reviewed" }],
      Production: [
        { type: "time_in_staging", min_seconds: 90_000 },
        { type: "tag", key: "validation", value: "passed" },
        { type: "metric", key: "metrics.r2", operator: ">=", value: 0.9 },
        { type: "scope", scope: "admin" },
      ],
    });
    const section = policySection((await new Browser().get(modelPage(name))).html);
    expect(section).toContain("Before a version moves to Staging : tag reviewed must be set");
    expect(section).toContain(
      "Before a version moves to Production : version must have been in Staging for at least 1d 1h " +
        "tag validation must be 'passed' metric r2 of its run must be >= 0.9 the caller needs the 'admin' scope",
    );
    expect(section).toMatch(
      /Set by local, \d{4}-\d\d-\d\d \d\d:\d\d UTC \. A rollback is held to the rules about the caller only\./,
    );
  });

  it("escapes rule text that looks like markup", async () => {
    const name = await createModel(uniqueName("Escaped"));
    await setPolicy(name, { Production: [{ type: "tag", key: "<b>x</b>", value: "<script>" }] });
    const page = await new Browser().get(modelPage(name));
    expect(page.html).not.toContain("<b>x</b>");
    expect(policySection(page.html)).toContain("tag <b>x</b> must be '<script>'");
  });
});

describe("a promotion refused by the policy in the UI", () => {
  it("shows the policy's message on the model page and changes nothing", async () => {
    const name = await createModel(uniqueName("Refused"));
    await createVersionWith(name);
    await transitionTo(name, "1", "Staging");
    await setPolicy(name, { Production: [{ type: "tag", key: "validation", value: "passed" }] });
    const browser = new Browser();
    const token = csrfOf((await browser.get(modelPage(name))).html);
    const asked = await browser.post(`/ui/actions/models/${enc(name)}/stage`, {
      _csrf: token,
      version: "1",
      stage: "Production",
    });
    expect(asked.status).toBe(200);
    const done = await browser.post(`/ui/actions/models/${enc(name)}/stage`, {
      ...hiddenFields(asked.html),
      comment: "",
    });
    expect(done.status).toBe(303);
    expect(done.headers.get("location")).toBe(modelPage(name));

    const after = await browser.get(modelPage(name));
    expect(after.html).toContain('class="flash error"');
    expect(textOf(after.html)).toContain(
      `Promotion policy of '${name}' refused version 1 → Production: tag validation must be 'passed' (it is missing).`,
    );
    expect(await stageOf(name, "1")).toBe("Staging");
    expect((await transitions(name)).map((t) => t.to_stage)).toEqual(["Staging"]);
  });

  it("promotes through the form once the rule is met (the local user passes an admin scope rule)", async () => {
    const name = await createModel(uniqueName("Allowed"));
    await createVersionWith(name, { tags: [{ key: "validation", value: "passed" }] });
    await setPolicy(name, {
      Production: [
        { type: "tag", key: "validation", value: "passed" },
        { type: "scope", scope: "admin" },
      ],
    });
    const done = await new Browser().submit(modelPage(name), `/ui/actions/models/${enc(name)}/stage`, {
      version: "1",
      stage: "Production",
    });
    expect(done.status).toBe(303);
    expect(await stageOf(name, "1")).toBe("Production");
  });
});
