import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createModel, createModelWith, createVersionWith, transitionTo, uniqueName } from "../helpers";
import { Browser, ORIGIN, ok, registerTrained, sha256Hex, textOf } from "./browser";

const enc = encodeURIComponent;

describe("models page", () => {
  it("lists models with their Production and Staging versions, aliases, tags and last update", async () => {
    const name = uniqueName("Listed");
    await createModelWith({ name, description: "house prices", tags: [{ key: "team", value: "pricing" }] });
    for (let i = 0; i < 3; i++) await createVersionWith(name);
    await transitionTo(name, "2", "Production");
    await transitionTo(name, "3", "Staging");
    await ok("POST", "/registered-models/alias", { name, alias: "champion", version: "2" });

    const page = await new Browser().get(`/?q=${enc(name)}`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    const row = textOf(page.html.slice(page.html.indexOf(`href="/models/${enc(name)}"`)));
    expect(row).toContain(`${name} house prices Production v2 Staging v3 @champion → v2 team=pricing`);
    expect(row).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d UTC/);
  });

  it("searches names case-insensitively and says so when nothing matches", async () => {
    const prefix = uniqueName("Search");
    await createModel(`${prefix}-Alpha`);
    await createModel(`${prefix}-beta`);
    const browser = new Browser();
    const hit = await browser.get(`/?q=${enc(`${prefix}-ALPHA`.toLowerCase())}`);
    expect(textOf(hit.html)).toContain(`${prefix}-Alpha`);
    expect(textOf(hit.html)).not.toContain(`${prefix}-beta`);
    const miss = await browser.get(`/?q=${enc(`${prefix}-gamma`)}`);
    expect(miss.status).toBe(200);
    expect(textOf(miss.html)).toContain(`No model name contains “${prefix}-gamma”`);
    // Quotes cannot break the search filter.
    const quoted = await browser.get(`/?q=${enc(`it's "odd"`)}`);
    expect(quoted.status).toBe(200);
  });

  it("pages through many models with page tokens, keeping the search", async () => {
    const prefix = uniqueName("Paged");
    for (let i = 0; i < 27; i++) await createModel(`${prefix}-${String(i).padStart(2, "0")}`);
    const browser = new Browser();
    const first = await browser.get(`/?q=${enc(prefix)}`);
    expect(first.html.match(new RegExp(`href="/models/${prefix}-\\d\\d"`, "g"))).toHaveLength(25);
    const next = /href="(\/\?q=[^"]+&amp;page_token=[^"]+)" rel="next"/.exec(first.html);
    expect(next).not.toBeNull();
    const second = await browser.get(next![1].replaceAll("&amp;", "&"));
    const names = [...second.html.matchAll(new RegExp(`href="/models/(${prefix}-\\d\\d)"`, "g"))].map((m) => m[1]);
    expect(names).toEqual([`${prefix}-25`, `${prefix}-26`]);
    expect(second.html).not.toContain('rel="next"');
    expect(textOf(second.html)).toContain("First page");
  });

  it("answers a bad page token with an error page, not a crash", async () => {
    const page = await new Browser().get("/?page_token=not-a-token");
    expect(page.status).toBe(400);
    expect(textOf(page.html)).toContain("That request could not be handled");
  });
});

describe("model page", () => {
  it("shows versions with stage badges, aliases, source runs and status, and the transition history", async () => {
    const name = uniqueName("Shown");
    await createModelWith({ name, description: "first model", tags: [{ key: "owner", value: "ml" }] });
    const trained = await registerTrained(name, { alpha: "0.5" }, { rmse: 0.8 });
    await createVersionWith(name);
    await transitionTo(name, "1", "Staging", false, "looks good");
    await ok("POST", "/registered-models/alias", { name, alias: "challenger", version: "2" });

    const page = await new Browser().get(`/models/${enc(name)}`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("script-src 'nonce-");
    expect(page.headers.get("cache-control")).toBe("no-store");
    const text = textOf(page.html);
    expect(text).toContain("first model");
    expect(page.html).toContain('<span class="badge stage-Staging">Staging</span>');
    expect(page.html).toContain(`<code>${trained.runId.slice(0, 8)}</code>`);
    expect(text).toContain("@challenger → version 2");
    expect(text).toMatch(/version 1 : None → Staging by \S+ — looks good/);
    expect(page.html).toContain(`action="/ui/actions/models/${enc(name)}/description"`);
    expect(page.html).toContain(`action="/ui/actions/models/${enc(name)}/tags"`);
    expect(text).toContain("owner");
    // Rollback is offered only when it is possible.
    expect(text).toContain(`Model '${name}' has no version in Production, so there is nothing to roll back.`);
  });

  it("shows clear empty states for a model without versions", async () => {
    const name = await createModel(uniqueName("Bare"));
    const text = textOf((await new Browser().get(`/models/${enc(name)}`)).html);
    expect(text).toContain("No versions yet.");
    expect(text).toContain("No stage transitions yet.");
    expect(text).toContain("No description.");
  });

  it("renders a 404 page for an unknown model, and JSON for API clients", async () => {
    const missing = uniqueName("Missing");
    const page = await new Browser().get(`/models/${enc(missing)}`);
    expect(page.status).toBe(404);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(textOf(page.html)).toContain(`Not found Registered Model with name=${missing} not found`);
    const api = await exports.default.fetch(new Request(`${ORIGIN}/models/${enc(missing)}`));
    expect(api.status).toBe(404);
    expect(await api.json()).toMatchObject({ error_code: "RESOURCE_DOES_NOT_EXIST" });
  });

  it("renders a 404 page for a path that is no page", async () => {
    const page = await new Browser().get("/models/x/versions/1/nothing-here");
    expect(page.status).toBe(404);
    expect(textOf(page.html)).toContain("There is no page at /models/x/versions/1/nothing-here");
  });

  it("serves names with spaces, quotes and Unicode", async () => {
    const name = `Ünïcode "q" it's ${uniqueName("n")}`;
    await createModel(name);
    await createVersionWith(name);
    const page = await new Browser().get(`/models/${enc(name)}`);
    expect(page.status).toBe(200);
    expect(textOf(page.html)).toContain("Version 1");
  });
});

describe("version page", () => {
  it("shows lineage, the manifest with sizes and sha256, download links and snippets", async () => {
    const name = uniqueName("Lineage");
    await createModel(name);
    const weights = "weights-".repeat(300);
    const trained = await registerTrained(name, { alpha: "0.5", layers: "3" }, { rmse: 0.78, r2: 0.91 }, { MLmodel: "flavors: {}", "model.pkl": weights });
    const page = await new Browser().get(`/models/${enc(name)}/versions/1`);
    expect(page.status).toBe(200);
    const text = textOf(page.html);
    expect(text).toContain(trained.runId);
    expect(text).toMatch(/Experiment exp-\S+ \(id \d+\)/);
    expect(text).toContain("alpha 0.5");
    expect(text).toContain("layers 3");
    expect(text).toContain("rmse 0.78");
    expect(text).toContain("r2 0.91");
    expect(text).toContain("model.pkl 2.3 KiB");
    expect(page.html).toContain(`title="${weights.length} bytes"`);
    expect(text).toContain(await sha256Hex(weights));
    expect(text).toContain(`mlflow.pyfunc.load_model("models:/${name}/1")`);
    expect(text).toContain(`${ORIGIN}/v1/models/${name}/1`);
    expect(text).toContain(`npx modelgate pull ${name}@1 ./model`);

    const link = `/v1/models/${enc(name)}/versions/1/files/model.pkl`;
    expect(page.html).toContain(`href="${link}"`);
    const download = await exports.default.fetch(new Request(`${ORIGIN}${link}`));
    expect(download.status).toBe(200);
    expect(new TextDecoder().decode(await download.arrayBuffer())).toBe(weights);
  });

  it("explains a version without a run or files", async () => {
    const name = uniqueName("Outside");
    await createModel(name);
    await createVersionWith(name, { source: "s3://bucket/outside/model" });
    const text = textOf((await new Browser().get(`/models/${enc(name)}/versions/1`)).html);
    expect(text).toContain("This version has no files in Modelgate's store.");
    expect(text).toContain("This version names no run.");
    expect(text).toContain("s3://bucket/outside/model");
  });

  it("quotes a name with spaces in the CLI snippet", async () => {
    const name = `Two words ${uniqueName("w")}`;
    await createModel(name);
    await createVersionWith(name);
    const text = textOf((await new Browser().get(`/models/${enc(name)}/versions/1`)).html);
    expect(text).toContain(`npx modelgate pull '${name}@1' ./model`);
  });

  it("answers an unknown version with a 404 page", async () => {
    const name = await createModel(uniqueName("NoVersion"));
    const page = await new Browser().get(`/models/${enc(name)}/versions/7`);
    expect(page.status).toBe(404);
    expect(textOf(page.html)).toContain(`Model Version (name=${name}, version=7) not found`);
  });
});

describe("compare page", () => {
  async function twoTrained() {
    const name = uniqueName("Compared");
    await createModel(name);
    await registerTrained(name, { alpha: "0.5", layers: "3" }, { rmse: 0.9, r2: 0.8 });
    await registerTrained(name, { alpha: "0.1", layers: "3", dropout: "0.2" }, { rmse: 0.7, r2: 0.8 });
    return name;
  }

  it("puts params and metrics side by side and highlights differences", async () => {
    const name = await twoTrained();
    const page = await new Browser().get(`/models/${enc(name)}/compare?versions=1,2`);
    expect(page.status).toBe(200);
    const rows = [...page.html.matchAll(/<tr( class="differs")?><th scope="row"><code>([^<]+)<\/code>/g)].map((m) => [m[2], m[1] !== undefined]);
    expect(rows).toEqual([
      ["alpha", true],
      ["dropout", true],
      ["layers", false],
      ["r2", false],
      ["rmse", true],
    ]);
    expect(textOf(page.html)).toContain("3 rows differ between these versions");
  });

  it("draws an SVG chart of the chosen metric across the versions", async () => {
    const name = await twoTrained();
    const page = await new Browser().get(`/models/${enc(name)}/compare?versions=2,1&metric=rmse`);
    const svg = page.html.slice(page.html.indexOf("<svg"), page.html.indexOf("</svg>") + 6);
    expect(svg).toContain('role="img"');
    expect(svg).toContain("<title id=\"chart-title\">rmse by version: v2: 0.7; v1: 0.9</title>");
    expect(svg.match(/<circle /g)).toHaveLength(2);
    expect(svg).toContain("<polyline");
    // Version 2 comes first, as asked, and its lower rmse is drawn lower.
    const ys = [...svg.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)"/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(ys[0][0]).toBeLessThan(ys[1][0]);
    expect(ys[0][1]).toBeGreaterThan(ys[1][1]);
    expect(page.html).toContain('<option value="rmse" selected="">rmse</option>');
  });

  it("shows only differences when asked", async () => {
    const name = await twoTrained();
    const page = await new Browser().get(`/models/${enc(name)}/compare?versions=1,2&only=differences`);
    expect(page.html).not.toContain("<code>layers</code>");
    expect(page.html).toContain("<code>alpha</code>");
  });

  it("redirects a checkbox form's v=2&v=1 to the shareable versions=1,2 URL", async () => {
    const name = await twoTrained();
    const page = await new Browser().get(`/models/${enc(name)}/compare?v=2&v=1`);
    expect(page.status).toBe(302);
    expect(page.headers.get("location")).toBe(`/models/${enc(name)}/compare?versions=1,2`);
  });

  it("offers a picker when fewer than two versions are named", async () => {
    const name = await twoTrained();
    const bare = await new Browser().get(`/models/${enc(name)}/compare`);
    expect(bare.status).toBe(200);
    expect(textOf(bare.html)).toContain("Pick two or more versions");
    const one = await new Browser().get(`/models/${enc(name)}/compare?versions=1`);
    expect(one.status).toBe(400);
    expect(textOf(one.html)).toContain("Pick at least 2 versions to compare.");
  });

  it("answers a missing version with a 404 page", async () => {
    const name = await twoTrained();
    const page = await new Browser().get(`/models/${enc(name)}/compare?versions=1,9`);
    expect(page.status).toBe(404);
  });
});
