import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createModel, createModelWith, createVersionWith, transitionTo, uniqueName } from "../helpers";
import { ModelsPage } from "../../src/ui/pages/models-page";
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
    expect(row).toContain(`${name} house prices 3 Production v2 Staging v3 @champion → v2 team=pricing`);
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
    const second = await browser.get(next![1]!.replaceAll("&amp;", "&"));
    const names = [...second.html.matchAll(new RegExp(`href="/models/(${prefix}-\\d\\d)"`, "g"))].map((m) => m[1]);
    expect(names).toEqual([`${prefix}-25`, `${prefix}-26`]);
    expect(second.html).not.toContain('rel="next"');
    expect(textOf(second.html)).toContain("First page");
  });

  it("shows each model's live versions with its key metric (the most-logged, or the pinned one)", async () => {
    const name = uniqueName("KeyMetric");
    await createModel(name);
    await registerTrained(name, {}, { rmse: 0.9, r2: 0.7 });
    await registerTrained(name, {}, { rmse: 0.8, r2: 0.75, mae: 0.5 });
    await registerTrained(name, {}, { rmse: 0.85 });
    await transitionTo(name, "2", "Production");
    await transitionTo(name, "1", "Staging");
    const row = async () => {
      const html = (await new Browser().get(`/?q=${enc(name)}`)).html;
      return textOf(
        html.slice(
          html.indexOf(`href="/models/${enc(name)}"`),
          html.indexOf("</tr>", html.indexOf(`href="/models/${enc(name)}"`)),
        ),
      );
    };
    // rmse is logged by all three runs: the key metric.
    expect(await row()).toContain(`${name} 3 Production v2 rmse 0.8 Staging v1 rmse 0.9`);
    await ok("POST", "/registered-models/set-tag", { name, key: "modelgate.key_metrics", value: "r2,rmse" });
    expect(await row()).toContain(`${name} 3 Production v2 r2 0.75 Staging v1 r2 0.7`);
  });

  it("tells a first-time user how to point the MLflow client at this server when nothing is registered", async () => {
    const html = await ModelsPage({
      query: "",
      models: [],
      nextPageToken: null,
      paged: false,
      origin: "https://registry.example.com",
      authEnabled: true,
    }).toString();
    const text = textOf(html);
    expect(text).toContain("No models are registered yet.");
    expect(text).toContain("export MLFLOW_TRACKING_URI=https://registry.example.com");
    expect(text).toContain("export MLFLOW_TRACKING_TOKEN=");
    expect(text).toContain(
      'import mlflow with mlflow.start_run(): mlflow.sklearn.log_model(model, "model", registered_model_name="my-model")',
    );
    const local = textOf(
      await ModelsPage({
        query: "",
        models: [],
        nextPageToken: null,
        paged: false,
        origin: "http://127.0.0.1:8787",
        authEnabled: false,
      }).toString(),
    );
    expect(local).toContain("export MLFLOW_TRACKING_URI=http://127.0.0.1:8787");
    expect(local).not.toContain("MLFLOW_TRACKING_TOKEN");
  });

  it("answers a bad page token with an error page, not a crash", async () => {
    const page = await new Browser().get("/?page_token=not-a-token");
    expect(page.status).toBe(400);
    expect(textOf(page.html)).toContain("That request could not be handled");
  });
});

describe("model page", () => {
  it("puts what is live first, then the versions with run name, status and key metric columns", async () => {
    const name = uniqueName("Shown");
    await createModelWith({ name, description: "first model", tags: [{ key: "owner", value: "ml" }] });
    const v1 = await registerTrained(name, { alpha: "0.5" }, { rmse: 0.8, r2: 0.7 }, undefined, {
      runName: "baseline",
    });
    await registerTrained(name, { alpha: "0.1" }, { rmse: 0.7, r2: 0.75, mae: 0.4 }, undefined, { runName: "tuned" });
    await createVersionWith(name);
    await transitionTo(name, "2", "Production");
    await transitionTo(name, "1", "Staging", false, "looks good");
    await ok("POST", "/registered-models/alias", { name, alias: "challenger", version: "1" });

    const page = await new Browser().get(`/models/${enc(name)}`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("script-src 'nonce-");
    expect(page.headers.get("cache-control")).toBe("no-store");
    const html = page.html;
    const live = textOf(html.slice(html.indexOf('id="live-heading"'), html.indexOf('id="versions"')));
    expect(live).toContain("Production: Production version 2 run tuned");
    expect(live).toMatch(/r2 0\.75 rmse 0\.7 mae 0\.4/);
    expect(live).toContain("Staging: Staging version 1 run baseline");
    expect(live).toContain("@challenger → version 1");
    // The versions table comes before everything else about the model.
    for (const later of ['id="about"', 'id="history"', 'id="tags"'])
      expect(html.indexOf('id="versions"')).toBeLessThan(html.indexOf(later));

    // Key metric columns, most-logged first: r2 and rmse (by two runs), then mae (by one).
    const head = html.slice(
      html.indexOf('<table class="stack versions">'),
      html.indexOf("</thead>", html.indexOf('<table class="stack versions">')),
    );
    const headers = [...head.matchAll(/<th scope="col"[^>]*>(?:<a[^>]*>)?([^<]+)</g)].map((m) => m[1]!.trim());
    expect(headers).toEqual(["Version", "Stage", "Scan", "Run", "r2", "rmse", "mae", "Created", "Source", "Actions"]);
    const row = (version: number) => {
      const start = html.indexOf(`<strong>Version ${version}</strong>`);
      return textOf(html.slice(html.lastIndexOf("<tr>", start), html.indexOf("</tr>", start)));
    };
    expect(row(2)).toMatch(/Version 2 Production scan: \w+ tuned running 0\.75 \(best\) 0\.7 \(best\) 0\.4 /);
    expect(row(1)).toMatch(/Version 1 @challenger Staging scan: \w+ baseline running 0\.7 0\.8 — /);
    expect(row(3)).toMatch(/Version 3 None scan: \w+ — — — — /);
    // The best value of a metric whose name says which way is better is marked (lower rmse, higher r2).
    expect(html).toMatch(/<td data-label="rmse" class="num best" data-metric="rmse">0\.7/);
    // The source is short; the full URI is its title.
    expect(row(1)).toContain(`runs:/${v1.runId.slice(0, 8)}…/model`);
    expect(html).toContain(`title="runs:/${v1.runId}/model"`);
    expect(textOf(html)).toContain("first model");
    expect(textOf(html)).toMatch(/version 1 : None → Staging by \S+ — looks good/);
    expect(html).toContain(`action="/ui/actions/models/${enc(name)}/description"`);
    expect(html).toContain(`action="/ui/actions/models/${enc(name)}/tags"`);
  });

  it("sorts the versions by any metric column, either way, with versions lacking it last", async () => {
    const name = uniqueName("Sorted");
    await createModel(name);
    await registerTrained(name, {}, { rmse: 0.8 });
    await registerTrained(name, {}, { rmse: 0.6 });
    await createVersionWith(name);
    await registerTrained(name, {}, { rmse: 0.7 });
    const order = async (query: string) => {
      const html = (await new Browser().get(`/models/${enc(name)}${query}`)).html;
      return [...html.matchAll(/<strong>Version (\d+)<\/strong>/g)].map((m) => Number(m[1]));
    };
    expect(await order("")).toEqual([4, 3, 2, 1]);
    expect(await order("?sort=metric:rmse&order=asc")).toEqual([2, 4, 1, 3]);
    expect(await order("?sort=metric:rmse&order=desc")).toEqual([1, 4, 2, 3]);
    expect(await order("?sort=version&order=asc")).toEqual([1, 2, 3, 4]);
    // The header links toggle the order and say which column is sorted.
    const html = (await new Browser().get(`/models/${enc(name)}?sort=metric:rmse&order=asc`)).html;
    expect(html).toContain(`aria-sort="ascending"`);
    expect(html).toContain(`href="/models/${enc(name)}?sort=metric%3Armse&amp;order=desc"`);
  });

  it("offers rollback only when there is an earlier Production version to roll back to", async () => {
    const name = uniqueName("Rollback");
    await createModel(name);
    await createVersionWith(name);
    await createVersionWith(name);
    const rollbackForm = `action="/ui/actions/models/${enc(name)}/rollback"`;
    const none = await new Browser().get(`/models/${enc(name)}`);
    expect(none.html).not.toContain(rollbackForm);
    expect(none.html).not.toContain("Roll back");
    expect(textOf(none.html)).toContain(`${name} has no version in Production.`);

    await transitionTo(name, "1", "Production");
    const first = await new Browser().get(`/models/${enc(name)}`);
    expect(first.html).not.toContain(rollbackForm);
    expect(textOf(first.html)).toContain("version 1 is the only one that has been in Production");

    await transitionTo(name, "2", "Production");
    const second = await new Browser().get(`/models/${enc(name)}`);
    expect(second.html).toContain(rollbackForm);
    expect(textOf(second.html)).toContain(
      "Version 2 is in Production; the previous Production version is 1. Roll back to version 1…",
    );
  });

  it("offers Staging, Production and aliases only for READY versions", async () => {
    const name = uniqueName("Failed");
    await createModel(name);
    await createVersionWith(name);
    const failed = await createVersionWith(name, {
      source: `mlflow-artifacts:/1/${uniqueName("run")}/artifacts/missing`,
    });
    expect(failed.status).toBe("FAILED_REGISTRATION");
    const html = (await new Browser().get(`/models/${enc(name)}`)).html;
    const options = (version: number) => {
      const start = html.indexOf(`id="stage-${version}"`);
      return [...html.slice(start, html.indexOf("</select>", start)).matchAll(/<option value="(\w+)"/g)].map(
        (m) => m[1],
      );
    };
    expect(options(1)).toEqual(["Staging", "Production", "Archived"]);
    expect(options(2)).toEqual(["Archived"]);
    const aliasable = html.slice(
      html.indexOf('id="alias-version"'),
      html.indexOf("</select>", html.indexOf('id="alias-version"')),
    );
    expect(aliasable).toContain('<option value="1">');
    expect(aliasable).not.toContain('<option value="2">');
    expect(textOf(html)).toContain("Failed");
  });

  it("shows clear empty states for a model without versions", async () => {
    const name = await createModel(uniqueName("Bare"));
    const text = textOf((await new Browser().get(`/models/${enc(name)}`)).html);
    expect(text).toContain("No versions yet.");
    expect(text).toContain("No stage transitions yet.");
    expect(text).toContain("No description.");
    expect(text).toContain(`${name} has no version in Production.`);
    expect(text).toContain(`${name} has no version in Staging.`);
    // Nothing to roll back and no policy: neither section is shown.
    expect(text).not.toContain("Roll back");
    expect(text).not.toContain("Promotion policy");
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
  it("shows lineage first (params, metrics, run tags), then snippets and the manifest with sizes, sha256 and download links", async () => {
    const name = uniqueName("Lineage");
    await createModel(name);
    const weights = "weights-".repeat(300);
    const trained = await registerTrained(
      name,
      { alpha: "0.5", layers: "3" },
      { rmse: 0.78, r2: 0.91 },
      { MLmodel: "flavors: {}", "model.pkl": weights },
    );
    await ok("POST", "/runs/set-tag", { run_id: trained.runId, key: "owner", value: "pricing-team" });
    const page = await new Browser().get(`/models/${enc(name)}/versions/1`);
    expect(page.status).toBe(200);
    const html = page.html;
    expect(html.indexOf('id="lineage"')).toBeLessThan(html.indexOf('id="use"'));
    expect(html.indexOf('id="use"')).toBeLessThan(html.indexOf('id="files"'));
    const text = textOf(html);
    expect(text).toContain(trained.runId);
    expect(text).toMatch(/Experiment exp-\S+ \(id \d+\)/);
    expect(text).toContain("alpha 0.5");
    expect(text).toContain("layers 3");
    expect(text).toContain("rmse 0.78 0");
    expect(text).toContain("r2 0.91 0");
    expect(text).toContain("owner pricing-team");
    expect(text).toContain("model.pkl 2.3 KiB");
    expect(html).toContain(`title="${weights.length} bytes"`);
    expect(text).toContain(await sha256Hex(weights));
    expect(text).toContain(`mlflow.pyfunc.load_model("models:/${name}/1")`);
    expect(text).toContain(`mlflow.get_run("${trained.runId}")`);
    expect(text).toContain(`${ORIGIN}/v1/models/${name}/1`);
    expect(text).toContain(`npx modelgate pull ${name}@1 ./model`);
    // The run is a link from the facts at the top to its lineage.
    expect(html).toContain('<a href="#run">');
    expect(html).toContain('id="run"');

    const link = `/v1/models/${enc(name)}/versions/1/files/model.pkl`;
    expect(html).toContain(`href="${link}"`);
    const download = await exports.default.fetch(new Request(`${ORIGIN}${link}`));
    expect(download.status).toBe(200);
    expect(new TextDecoder().decode(await download.arrayBuffer())).toBe(weights);
  });

  it("draws each metric logged at several steps as a per-step curve", async () => {
    const name = uniqueName("Curves");
    await createModel(name);
    await registerTrained(name, {}, { mae: 0.4 }, undefined, {
      history: { loss: [2, 1.5, 1.1, 0.9, 0.8], accuracy: [0.5, 0.7, 0.8] },
    });
    const html = (await new Browser().get(`/models/${enc(name)}/versions/1`)).html;
    const svgs = [...html.matchAll(/<svg class="chart small"[\s\S]*?<\/svg>/g)].map((m) => m[0]);
    expect(svgs).toHaveLength(2);
    const loss = svgs.find((svg) => svg.includes("loss by step"))!;
    expect(loss).toContain('<title id="metric-1-title">loss by step: 5 steps from 0 to 4, first 2, last 0.8</title>');
    const points = /<polyline points="([^"]+)"/
      .exec(loss)![1]!
      .split(" ")
      .map((p) => p.split(",").map(Number));
    expect(points).toHaveLength(5);
    // Steps go right, falling loss goes down the page (larger y).
    for (let i = 1; i < points.length; i++) {
      expect(points[i]![0]).toBeGreaterThan(points[i - 1]![0]!);
      expect(points[i]![1]).toBeGreaterThan(points[i - 1]![1]!);
    }
    const text = textOf(html);
    expect(text).toContain("loss 0.8 · 5 steps (0–4) · min 0.8 · max 2");
    // A metric logged once is a number in the table, not a chart.
    expect(text).toContain("mae 0.4 0");
  });

  it("offers the stage moves and aliases this version may take, and comes back here after them", async () => {
    const name = uniqueName("Promoted");
    await createModel(name);
    await createVersionWith(name);
    const browser = new Browser();
    const page = `/models/${enc(name)}/versions/1`;
    const html = (await browser.get(page)).html;
    const select = html.slice(html.indexOf('id="stage"'), html.indexOf("</select>", html.indexOf('id="stage"')));
    expect([...select.matchAll(/<option value="(\w+)"/g)].map((m) => m[1])).toEqual([
      "Staging",
      "Production",
      "Archived",
    ]);
    expect(html).toContain(`action="/ui/actions/models/${enc(name)}/aliases"`);

    const staged = await browser.submit(
      page,
      `/ui/actions/models/${enc(name)}/stage`,
      { version: "1", stage: "Staging", back: "1" },
      false,
    );
    expect(staged.status).toBe(303);
    expect(staged.headers.get("location")).toBe(page);
    const aliased = await browser.submit(
      page,
      `/ui/actions/models/${enc(name)}/aliases`,
      { version: "1", alias: "champion", back: "1" },
      false,
    );
    expect(aliased.headers.get("location")).toBe(page);
    const after = textOf((await browser.get(page)).html);
    expect(after).toContain("@champion now points at version 1.");
    expect(after).toMatch(/Aliases @champion/);
    // A promotion to Production asks first; cancelling returns here too.
    const asked = await browser.post(`/ui/actions/models/${enc(name)}/stage`, {
      _csrf: await browser.token(page),
      version: "1",
      stage: "Production",
      back: "1",
    });
    expect(asked.html).toContain(`href="${page}"`);
    // Only a version number is accepted as the way back.
    const elsewhere = await browser.submit(
      page,
      `/ui/actions/models/${enc(name)}/aliases`,
      { version: "1", alias: "other", back: "//evil.example" },
      false,
    );
    expect(elsewhere.headers.get("location")).toBe(`/models/${enc(name)}`);
  });

  it("offers a version that is not READY no way into Staging, Production or an alias", async () => {
    const name = uniqueName("NotReady");
    await createModel(name);
    const failed = await createVersionWith(name, {
      source: `mlflow-artifacts:/1/${uniqueName("run")}/artifacts/missing`,
    });
    const html = (await new Browser().get(`/models/${enc(name)}/versions/${failed.version}`)).html;
    const select = html.slice(html.indexOf('id="stage"'), html.indexOf("</select>", html.indexOf('id="stage"')));
    expect([...select.matchAll(/<option value="(\w+)"/g)].map((m) => m[1])).toEqual(["Archived"]);
    expect(html).not.toContain(`action="/ui/actions/models/${enc(name)}/aliases"`);
    expect(textOf(html)).toContain(
      "Only a READY version may enter Staging or Production or take an alias; this one is FAILED_REGISTRATION.",
    );
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
    await registerTrained(name, { alpha: "0.5", layers: "3" }, { r2: 0.8 }, undefined, {
      history: { rmse: [1.5, 1.1, 0.9] },
    });
    await registerTrained(name, { alpha: "0.1", layers: "3", dropout: "0.2" }, { r2: 0.8 }, undefined, {
      history: { rmse: [1.4, 1.0, 0.8, 0.7] },
    });
    return name;
  }
  const panel = (html: string, metric: string) => {
    const start = html.indexOf(`data-value="${metric}"`);
    return html.slice(html.lastIndexOf("<div", start), html.indexOf('<ul class="legend"', start));
  };

  it("puts params and metrics side by side and highlights differences", async () => {
    const name = await twoTrained();
    const page = await new Browser().get(`/models/${enc(name)}/compare?versions=1,2`);
    expect(page.status).toBe(200);
    const rows = [...page.html.matchAll(/<tr( class="differs")?><th scope="row"><code>([^<]+)<\/code>/g)].map((m) => [
      m[2],
      m[1] !== undefined,
    ]);
    expect(rows).toEqual([
      ["alpha", true],
      ["dropout", true],
      ["layers", false],
      ["r2", false],
      ["rmse", true],
    ]);
    expect(textOf(page.html)).toContain("3 rows differ between these versions");
  });

  it("overlays the versions' per-step curves of a metric and draws the final values as bars", async () => {
    const name = await twoTrained();
    const html = (await new Browser().get(`/models/${enc(name)}/compare?versions=2,1&metric=rmse`)).html;
    const rmse = panel(html, "rmse");
    expect(rmse).not.toContain(" hidden");
    // One line per version, in the order asked (version 2 first), in its own colour.
    const lines = [
      ...rmse.matchAll(/<g data-series="(v\d)"><polyline points="([^"]+)" fill="none" stroke="(#[0-9A-Fa-f]+)"/g),
    ];
    expect(lines.map((m) => [m[1], m[2]!.split(" ").length])).toEqual([
      ["v2", 4],
      ["v1", 3],
    ]);
    expect(lines[0]![3]).not.toBe(lines[1]![3]);
    expect(rmse).toContain("rmse per step, one line per version: v2: 0.7 after 4 steps; v1: 0.9 after 3 steps");
    // Bars, not a line, for the final values; version 2's lower rmse is the shorter bar.
    const bars = [
      ...rmse.matchAll(/<g data-bar="(v\d)"><rect x="[\d.]+" y="([\d.]+)" width="[\d.]+" height="([\d.]+)"/g),
    ].map((m) => [m[1], Number(m[3])]);
    expect(bars.map((b) => b[0])).toEqual(["v2", "v1"]);
    expect(bars[0]![1]).toBeLessThan(bars[1]![1] as number);
    expect(rmse.slice(rmse.indexOf("Final"))).not.toContain("<polyline");
    expect(html).toContain('<option value="rmse" selected="">rmse</option>');
  });

  it("holds every metric's charts in the page, only the chosen one shown, so switching needs no reload", async () => {
    const name = await twoTrained();
    const html = (await new Browser().get(`/models/${enc(name)}/compare?versions=1,2&metric=rmse`)).html;
    expect(panel(html, "rmse")).not.toMatch(/^<div[^>]* hidden/);
    expect(panel(html, "r2")).toMatch(/^<div[^>]* hidden/);
    // r2 was logged once per version: no curves, and the page says so; its bars are there.
    expect(textOf(panel(html, "r2"))).toContain("Each version logged r2 at one step only: the bars show the values.");
    expect(panel(html, "r2")).toContain('data-bar="v1"');
    // The select switches panels by script; its Show button is only for browsers without one.
    expect(html).toContain('<select id="metric" name="metric" data-switch="metric">');
    expect(html).toContain('<button type="submit" data-noscript="true">Show</button>');
  });

  it("writes no value label over another: each bar's label stays inside its own column", async () => {
    const name = uniqueName("ManyBars");
    await createModel(name);
    for (let i = 0; i < 10; i++) await registerTrained(name, {}, { loss: 0.123456789 + i / 1000 });
    const html = (await new Browser().get(`/models/${enc(name)}/compare?versions=1,2,3,4,5,6,7,8,9,10`)).html;
    const labels = [
      ...panel(html, "loss").matchAll(
        /<text x="([\d.]+)" y="[\d.]+" text-anchor="middle" font-size="(\d+)" font-weight="600"[^>]*>([^<]+)<\/text>/g,
      ),
    ].map((m) => ({
      x: Number(m[1]),
      font: Number(m[2]),
      text: m[3]!,
    }));
    expect(labels).toHaveLength(10);
    for (let i = 1; i < labels.length; i++) {
      const [left, right] = [labels[i - 1]!, labels[i]!];
      const gap = right.x - left.x;
      const widest = Math.max(right.text.length, left.text.length) * right.font * 0.62;
      expect(widest).toBeLessThan(gap);
    }
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
