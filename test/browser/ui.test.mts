// The web UI in a real browser (Debian's Chromium through playwright-core) against the real
// `npm start`: a first visit to an empty registry, then register through the API and promote, roll
// back, pin metrics, sort and compare through the pages. Each test saves a screenshot under
// test-output/browser/; UPDATE_SCREENSHOTS=1 also refreshes the README's docs/screenshots/
// (home, model, version, compare, each at 1400 and 375 px wide, and home-empty).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { rmSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import type { Page } from "playwright-core";
import { freePort, freshStateDir, type Registry, startServer } from "../e2e/server";
import { type Browser, docScreenshot, openBrowser, screenshot } from "./chromium.mjs";
import { EPOCHS, ok, seedChurn, seedHousePrices } from "./seed.mjs";

const NAME = "HousePricePredictor";
const WIDE = { width: 1400, height: 900 };
const NARROW = { width: 375, height: 740 };

/** Boxes of every label in the visible charts that overlap another label or a bar: none expected. */
async function overlappingLabels(page: Page) {
  // No named functions inside: the callback runs in the page, and tsx (esbuild's keepNames) wraps a
  // named function in a __name() helper that exists only in Node.
  return page.evaluate(() => {
    const problems: string[] = [];
    for (const svg of [...document.querySelectorAll("svg.chart")].filter((el) => el.getClientRects().length > 0)) {
      const texts = [...svg.querySelectorAll("text")].map((t) => ({
        what: t.textContent,
        box: t.getBoundingClientRect(),
      }));
      const bars = [...svg.querySelectorAll("rect")].map((r) => ({ what: "bar", box: r.getBoundingClientRect() }));
      texts.forEach((a, i) => {
        for (const b of [...texts.slice(i + 1), ...bars]) {
          const [p, q] = [a.box, b.box];
          if (p.left < q.right - 0.5 && q.left < p.right - 0.5 && p.top < q.bottom - 0.5 && q.top < p.bottom - 0.5)
            problems.push(`${a.what} / ${b.what}`);
        }
      });
    }
    return problems;
  });
}

const scrollWidth = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth);

describe("the web UI with access control off (npm start's default)", () => {
  const stateDir = freshStateDir();
  let server: Registry;
  let browser: Browser;
  let page: Page;

  before(async () => {
    server = await startServer({ port: await freePort(), stateDir });
    browser = await openBrowser({ viewport: WIDE });
    page = browser.page;
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  const row = (version: number) =>
    page.locator("table.versions tbody tr", { has: page.locator(`a[href$="/versions/${version}"]`) });
  const badgeOf = (version: number) => row(version).locator("td[data-label=Stage] .badge");
  const newestTransition = () => page.locator("ol.timeline li").first();
  const versionOrder = async () =>
    (await page.locator("table.versions tbody td[data-label=Version] strong").allInnerTexts()).map((t) =>
      Number(t.replace("Version ", "")),
    );

  test("shows a first-time user the exact MLFLOW_TRACKING_URI and a three-line example", async () => {
    await page.goto(`${server.base}/`);
    await page.getByText("No models are registered yet.").waitFor();
    assert.equal(await page.locator("#snippet-tracking-uri").innerText(), `export MLFLOW_TRACKING_URI=${server.base}`);
    assert.deepEqual((await page.locator("#snippet-register").innerText()).split("\n"), [
      "import mlflow",
      "with mlflow.start_run():",
      '    mlflow.sklearn.log_model(model, "model", registered_model_name="my-model")',
    ]);
    assert.equal(await page.locator('button[data-copy="snippet-tracking-uri"]').isVisible(), true);
    await screenshot(page, "home-empty");
    await docScreenshot(page, "home-empty");
    await seedHousePrices(server.base, NAME);
    await seedChurn(server.base);
  });

  test("lists the models with their version count, live versions and key metric, and finds one by search", async () => {
    await ok(server.base, "POST", "mlflow/model-versions/transition-stage", {
      name: "ChurnClassifier",
      version: "2",
      stage: "Production",
      archive_existing_versions: false,
    });
    await page.goto(`${server.base}/`);
    assert.equal(await page.title(), "Models · Modelgate");
    const churn = page.locator("tbody tr", { hasText: "ChurnClassifier" });
    await churn.waitFor();
    assert.equal(await churn.locator("td[data-label=Versions]").innerText(), "2");
    // accuracy, auc and f1 are logged by both runs: accuracy comes first by name.
    assert.match(await churn.locator("td[data-label=Production]").innerText(), /Production\s+v2\s+accuracy 0\.89/);
    const house = page.locator("tbody tr", { hasText: NAME });
    assert.equal(await house.locator("td[data-label=Versions]").innerText(), "3");
    assert.equal(await house.locator("td[data-label=Production]").innerText(), "—");
    assert.match(await house.innerText(), /team=pricing/);
    await screenshot(page, "models");
    await page.fill("#q", "houseprice");
    await page.press("#q", "Enter");
    await page.waitForURL(/\?q=houseprice$/);
    assert.equal(await page.locator("tbody tr").count(), 1);
    await page.fill("#q", "no-such-model");
    await page.press("#q", "Enter");
    await page.getByText("No model name contains").waitFor();
  });

  test("shows what is live and the versions with run, status and key metrics before anything else", async () => {
    await page.goto(`${server.base}/models/${NAME}`);
    const live = page.locator("section.live-grid");
    assert.match(
      await live.locator(".live-Production").innerText(),
      new RegExp(`${NAME} has no version in Production`),
    );
    const versionsTop = await page.locator("#versions").evaluate((h) => h.getBoundingClientRect().top);
    assert.ok(versionsTop < 450, `the versions table starts ${versionsTop}px down`);
    const headers = await page
      .locator("table.versions thead th")
      .evaluateAll((ths) => ths.map((th) => (th.querySelector("a")?.firstChild ?? th).textContent?.trim()));
    // The metric columns: the most-logged (all three runs log all four; the first three by name).
    assert.deepEqual(headers, [
      "Compare",
      "Version",
      "Stage",
      "Scan",
      "Run",
      "mae",
      "r2",
      "rmse",
      "Created",
      "Source",
      "Actions",
    ]);
    // Version 2 has the best of all three (lower mae and rmse, higher r2): marked for the eye and in words.
    assert.match(
      await row(2).innerText(),
      /gbr-tuned\s+finished\s+0\.49\s+\(best\)\s+0\.84\s+\(best\)\s+0\.71\s+\(best\)/,
    );
    assert.equal(await row(2).locator("td.best").count(), 3);
    // The source is short; the full URI is in its title.
    const source = row(2).locator("td[data-label=Source] .mono");
    assert.match(await source.innerText(), /^runs:\/[0-9a-f]{8}…\/model$/);
    assert.match((await source.getAttribute("title")) ?? "", /^runs:\/[0-9a-f]{32}\/model$/);
    // Nothing to roll back: no rollback section. No policy of its own: the policy section shows only
    // the deployment's default scan rule (wrangler.toml's MODELGATE_DEFAULT_SCAN_POLICY).
    assert.equal(await page.getByRole("button", { name: /Roll back/ }).count(), 0);
    assert.match(await page.locator("section[aria-labelledby=policy]").innerText(), /deployment's default/);
  });

  test("sorts the versions by a metric column and pins the key metrics", async () => {
    await page.goto(`${server.base}/models/${NAME}`);
    assert.deepEqual(await versionOrder(), [3, 2, 1]);
    await page.locator("table.versions thead a", { hasText: "rmse" }).click();
    await page.waitForURL(/sort=metric%3Armse&order=asc/);
    assert.deepEqual(await versionOrder(), [2, 3, 1]);
    assert.equal(
      await page.locator("table.versions th[aria-sort=ascending] a").evaluate((a) => a.firstChild?.textContent),
      "rmse",
    );
    await page.locator("table.versions thead a", { hasText: "rmse" }).click();
    await page.waitForURL(/order=desc/);
    assert.deepEqual(await versionOrder(), [1, 3, 2]);

    await page.goto(`${server.base}/models/${NAME}`);
    await page.locator("details.pin summary").click();
    for (const key of ["rmse", "r2", "train_loss"]) await page.check(`details.pin input[value="${key}"]`);
    await page.getByRole("button", { name: "Pin these metrics" }).click();
    await page.locator(".flash.ok", { hasText: "Key metrics pinned: r2, rmse, train_loss." }).waitFor();
    assert.deepEqual(
      await row(3)
        .locator("td[data-metric]")
        .evaluateAll((cells) => cells.map((c) => (c as HTMLElement).dataset.metric)),
      ["r2", "rmse", "train_loss"],
    );
    // train_loss: lower is better, so version 3's is marked the best.
    assert.equal(await row(3).locator('td[data-metric="train_loss"]').getAttribute("class"), "num best");
  });

  test("promotes through the UI: confirmation, then the live card, badges and the timeline change", async () => {
    await page.goto(`${server.base}/models/${NAME}`);
    assert.equal(await badgeOf(1).innerText(), "None");
    assert.equal(await page.locator("ol.timeline li").count(), 0);

    await page.selectOption("#stage-1", "Production");
    await page.click('button[aria-label="Move version 1"]');
    await page.getByRole("heading", { name: `Promote version 1 of ${NAME} to Production?` }).waitFor();
    await page.fill("#comment", "baseline goes live");
    await page.getByRole("button", { name: "Promote version 1 to Production" }).click();

    await page.waitForURL(`${server.base}/models/${NAME}`);
    await page.locator(".flash.ok", { hasText: "Version 1 moved from None to Production." }).waitFor();
    assert.equal(await badgeOf(1).innerText(), "Production");
    assert.match(await page.locator(".live-Production").innerText(), /Production\s+version 1\s+run gbr-baseline/);
    assert.match(await newestTransition().innerText(), /version 1: None → Production by \S+ — “?baseline goes live/);
    // Only one version has ever been in Production: no rollback offered.
    assert.equal(await page.getByRole("button", { name: /Roll back/ }).count(), 0);

    // Promoting version 2 archives version 1: one Production version, always.
    await page.selectOption("#stage-2", "Production");
    await page.click('button[aria-label="Move version 2"]');
    await page.locator(".panel", { hasText: "Version 1, in Production now, will be archived." }).waitFor();
    await page.getByRole("button", { name: "Promote version 2 to Production" }).click();
    await page.waitForURL(`${server.base}/models/${NAME}`);
    assert.equal(await badgeOf(2).innerText(), "Production");
    assert.equal(await badgeOf(1).innerText(), "Archived");
    const timeline = await page.locator("ol.timeline").innerText();
    assert.match(timeline, /version 2: None → Production/);
    assert.match(timeline, /version 1: Production → Archived/);
    await screenshot(page, "promoted");
  });

  test("rolls Production back to the previous Production version", async () => {
    await page.goto(`${server.base}/models/${NAME}`);
    await page.getByText("Version 2 is in Production; the previous Production version is 1.").waitFor();
    await page.getByRole("button", { name: "Roll back to version 1…" }).click();
    await page.getByRole("heading", { name: `Roll back Production of ${NAME} to version 1?` }).waitFor();
    await page.fill("#comment", "v2 latency regression");
    await page.getByRole("button", { name: "Roll back to version 1" }).click();

    await page.waitForURL(`${server.base}/models/${NAME}`);
    await page
      .locator(".flash.ok", { hasText: "Rolled back: version 1 is in Production again; version 2 was archived." })
      .waitFor();
    assert.equal(await badgeOf(1).innerText(), "Production");
    assert.equal(await badgeOf(2).innerText(), "Archived");
    assert.match(await page.locator("ol.timeline").innerText(), /rollback to version 1: v2 latency regression/);
  });

  test("shows a version's lineage first, with per-step curves, and promotes and aliases from there", async () => {
    const versionPage = `${server.base}/models/${NAME}/versions/2`;
    await page.goto(versionPage);
    const top = async (selector: string) => page.locator(selector).evaluate((el) => el.getBoundingClientRect().top);
    assert.ok((await top("#lineage")) < (await top("#files")), "lineage comes before the files");
    assert.match(await page.locator("#run").innerText(), /gbr-tuned/);
    // rmse, r2 and train_loss were logged every epoch: one curve each; mae once: a number.
    const curves = page.locator("figure.metric-card svg.chart");
    assert.equal(await curves.count(), 3);
    assert.equal(
      await curves
        .first()
        .locator("polyline")
        .getAttribute("points")
        .then((p) => p?.split(" ").length),
      EPOCHS,
    );
    assert.match(
      await page.locator("figure.metric-card", { hasText: "rmse" }).locator("figcaption").innerText(),
      new RegExp(`rmse 0\\.71 · ${EPOCHS} steps \\(0–${EPOCHS - 1}\\)`),
    );
    assert.deepEqual(await overlappingLabels(page), []);

    // Version 2 is Archived: it may go back to Staging from here, and the page comes back here.
    await page.selectOption("#stage", "Staging");
    await page.getByRole("button", { name: "Move version 2" }).click();
    await page.waitForURL(versionPage);
    await page.locator(".flash.ok", { hasText: "Version 2 moved from Archived to Staging." }).waitFor();
    await page.fill("#alias-name", "champion");
    await page.getByRole("button", { name: "Point alias here" }).click();
    await page.waitForURL(versionPage);
    await page.locator(".flash.ok", { hasText: "@champion now points at version 2." }).waitFor();

    const weights = "v2-weights-".repeat(5000);
    const file = page.locator("tr", { hasText: "model.pkl" });
    assert.match(await file.innerText(), new RegExp(createHash("sha256").update(weights).digest("hex")));
    const download = await page.request.get(`${server.base}${await file.locator("a").getAttribute("href")}`);
    assert.equal(download.status(), 200);
    assert.equal(await download.text(), weights);
    assert.equal(await page.locator("#snippet-python").innerText(), `mlflow.pyfunc.load_model("models:/${NAME}/2")`);
    assert.equal(await page.locator("#snippet-cli").innerText(), `npx modelgate pull ${NAME}@2 ./model`);
    // The copy buttons exist only where the script runs, and it does here.
    assert.equal(await page.locator('button[data-copy="snippet-cli"]').isVisible(), true);
    await screenshot(page, "version");
  });

  test("compares versions: overlaid per-step curves, bars for final values, another metric without a reload", async () => {
    await page.goto(`${server.base}/models/${NAME}`);
    for (const v of [1, 2, 3]) await page.check(`input[aria-label="Compare version ${v}"]`);
    await page.getByRole("button", { name: "Compare selected versions" }).click();
    await page.waitForURL(`${server.base}/models/${NAME}/compare?versions=1,2,3`);

    const differing = await page.locator("tr.differs th code").allInnerTexts();
    assert.deepEqual(differing, ["learning_rate", "max_depth", "n_estimators", "mae", "r2", "rmse", "train_loss"]);
    // mae is the first metric by name; it was logged once per version, so bars only.
    const shown = page.locator(".metric-panel:visible");
    assert.equal(await shown.count(), 1);
    assert.equal(await shown.getAttribute("data-value"), "mae");
    assert.equal(await shown.locator("polyline").count(), 0);
    assert.equal(await shown.locator("rect").count(), 3);

    // Choosing rmse switches the charts in place: the page is not loaded again.
    // A mark on the page's window: gone if the page is loaded again.
    await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
    assert.equal(await page.getByRole("button", { name: "Show" }).isVisible(), false);
    await page.selectOption("#metric", "rmse");
    await page.waitForURL(/metric=rmse/);
    await page.locator('.metric-panel[data-value="rmse"]').waitFor({ state: "visible" });
    assert.equal(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded), true);
    assert.equal(await page.locator('.metric-panel[data-value="mae"]').isVisible(), false);
    const rmse = page.locator('.metric-panel[data-value="rmse"]');
    assert.equal(await rmse.locator("polyline").count(), 3, "one curve per version, on one chart");
    assert.equal(await rmse.locator("svg.chart").first().locator("polyline").count(), 3);
    assert.equal(await rmse.locator("rect").count(), 3, "final values as bars");
    assert.match(
      (await rmse.locator("svg.chart").nth(1).locator("title").textContent()) ?? "",
      /^Final rmse by version: v1: 0\.78 after 40 steps; v2: 0\.71 after 40 steps; v3: 0\.74 after 40 steps$/,
    );
    assert.match(await rmse.locator("ul.legend").innerText(), /v2 gbr-tuned: 0\.71 after 40 steps/);
    assert.deepEqual(await overlappingLabels(page), []);
    // The URL carries the choice: loading it shows rmse.
    await page.reload();
    assert.equal(await page.locator(".metric-panel:visible").getAttribute("data-value"), "rmse");
    await screenshot(page, "compare");
  });

  test("is keyboard-usable: the skip link comes first and a focused control shows an outline", async () => {
    await page.goto(`${server.base}/models/${NAME}`);
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), "Skip to content");
    await page.keyboard.press("Enter");
    assert.match(page.url(), /#main$/);
    await page.focus("#alias-name");
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    assert.equal(outline, "solid");
  });

  test("answers unknown pages with a 404 page", async () => {
    const res = await page.goto(`${server.base}/models/NoSuchModel`);
    assert.equal(res?.status(), 404);
    await page.getByRole("heading", { name: "Not found" }).waitFor();
    assert.match(await page.locator("main").innerText(), /Registered Model with name=NoSuchModel not found/);
    await screenshot(page, "not-found");
  });

  test("fits 1400 px and 375 px screens without sideways scrolling or overlapping chart labels (the README's screenshots)", async () => {
    const pages = {
      home: "/",
      model: `/models/${NAME}`,
      version: `/models/${NAME}/versions/2`,
      compare: `/models/${NAME}/compare?versions=1,2,3&metric=rmse`,
    };
    for (const [viewport, suffix] of [
      [WIDE, ""],
      [NARROW, "-narrow"],
    ] as const) {
      const view = await openBrowser({ viewport });
      try {
        for (const [name, path] of Object.entries(pages)) {
          await view.page.goto(`${server.base}${path}`);
          const width = await scrollWidth(view.page);
          assert.ok(width <= viewport.width, `${path} is ${width}px wide on a ${viewport.width}px screen`);
          assert.deepEqual(await overlappingLabels(view.page), [], `${path} at ${viewport.width}px`);
          await screenshot(view.page, `${name}${suffix}`);
          await docScreenshot(view.page, `${name}${suffix}`);
        }
      } finally {
        await view.close();
      }
    }
  });
});

describe("the web UI with access control on", () => {
  const stateDir = freshStateDir();
  const ADMIN = `mg_browser_admin_${Date.now()}`;
  const OTHER = "ChurnClassifier";
  let server: Registry;
  let readToken: string;
  let narrowToken: string;

  before(async () => {
    server = await startServer({
      port: await freePort(),
      stateDir,
      env: { MODELGATE_AUTH: "on", MODELGATE_ADMIN_TOKEN: ADMIN },
    });
    const admin = { url: server.base, token: ADMIN };
    await seedHousePrices(admin, NAME);
    await seedChurn(admin, OTHER);
    await ok(admin, "POST", "mlflow/model-versions/transition-stage", {
      name: OTHER,
      version: "2",
      stage: "Production",
      archive_existing_versions: false,
    });
    readToken = (await ok(admin, "POST", "modelgate/tokens", { name: "viewer", scopes: ["read"] })).secret;
    narrowToken = (
      await ok(admin, "POST", "modelgate/tokens", { name: "pricing-team", scopes: ["read", "promote"], models: [NAME] })
    ).secret;
  });

  after(async () => {
    await server?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  /** Signs in through the sign-in page; the session cookie carries the token from then on. */
  async function signIn(page: Page, token: string) {
    await page.goto(`${server.base}/ui/sign-in`);
    await page.fill("#token", token);
    await Promise.all([
      page.waitForURL((url) => !url.pathname.startsWith("/ui/sign-in")),
      page.getByRole("button", { name: "Sign in" }).click(),
    ]);
  }

  test("signs in with a token through the sign-in page, and offers a read-only token no actions", async () => {
    const anonymous = await openBrowser();
    try {
      // Without credentials a UI page sends the browser to the sign-in page, which keeps the token
      // in an HttpOnly session cookie.
      await anonymous.page.goto(`${server.base}/models/${NAME}`);
      assert.match(anonymous.page.url(), /\/ui\/sign-in\?next=/);
      await anonymous.page.fill("#token", readToken);
      await Promise.all([
        anonymous.page.waitForURL(`${server.base}/models/${NAME}`),
        anonymous.page.getByRole("button", { name: "Sign in" }).click(),
      ]);
      assert.match(await anonymous.page.locator("header").innerText(), /signed in as viewer/);
      const cookies = await anonymous.context.cookies();
      const session = cookies.find((c) => c.name === "mg_session");
      assert.ok(session?.httpOnly, "the session cookie is HttpOnly");
      assert.equal(session.sameSite, "Lax");
      await screenshot(anonymous.page, "signed-in");
    } finally {
      await anonymous.close();
    }

    const viewer = await openBrowser();
    try {
      await signIn(viewer.page, readToken);
      const res = await viewer.page.goto(`${server.base}/models/${NAME}`);
      assert.equal(res?.status(), 200);
      assert.match(await viewer.page.locator("header .who").innerText(), /signed in as viewer/);
      assert.equal(
        await viewer.page.locator('main form[method="post"]').count(),
        0,
        "a read-only token is offered no forms (the header's sign-out form aside)",
      );
      await screenshot(viewer.page, "read-only");
      await viewer.page.goto(`${server.base}/models/${NAME}/versions/2`);
      assert.equal(await viewer.page.locator("#actions").count(), 0, "no actions section for a read-only token");
      // With access control on, download links are signed: they work without any credentials.
      const href = (await viewer.page.locator("tr", { hasText: "MLmodel" }).locator("a").getAttribute("href")) ?? "";
      assert.match(
        href,
        /^http:\/\/127\.0\.0\.1:\d+\/v1\/models\/HousePricePredictor\/versions\/2\/files\/MLmodel\?expires=\d+&kid=[^&]+&sig=[0-9a-f]{64}$/,
      );
      const signed = await fetch(href);
      assert.equal(signed.status, 200);
      assert.match(await signed.text(), /^artifact_path: model/);
      assert.equal((await fetch(href.replace(/\?.*$/, ""))).status, 401, "the same URL unsigned needs a token");
    } finally {
      await viewer.close();
    }

    const admin = await openBrowser();
    try {
      await signIn(admin.page, ADMIN);
      await admin.page.goto(`${server.base}/models/${NAME}`);
      await admin.page.selectOption("#stage-1", "Staging");
      await admin.page.click('button[aria-label="Move version 1"]');
      await admin.page.locator(".flash.ok", { hasText: "Version 1 moved from None to Staging." }).waitFor();
      assert.match(await admin.page.locator("ol.timeline li").first().innerText(), /None → Staging by admin/);
    } finally {
      await admin.close();
    }
  });

  test("shows a token narrowed to one model nothing of another model on any page", async () => {
    const team = await openBrowser();
    try {
      await signIn(team.page, narrowToken);
      const pageText = async (path: string) => {
        const res = await team.page.goto(`${server.base}${path}`);
        return {
          status: res?.status(),
          text: await team.page.locator("main").innerText(),
          html: await team.page.content(),
        };
      };
      const home = await pageText("/");
      assert.equal(home.status, 200);
      assert.match(home.text, new RegExp(NAME));
      for (const page of [
        home,
        await pageText(`/models/${NAME}`),
        await pageText(`/models/${NAME}/versions/1`),
        await pageText(`/models/${NAME}/compare?versions=1,2,3`),
      ]) {
        assert.equal(page.status, 200);
        // Nothing of the other model: its name, its runs, its metrics.
        for (const foreign of [OTHER, "xgb-1", "xgb-2", "accuracy", "XGBClassifier"])
          assert.ok(!page.html.includes(foreign), `${foreign} shown to a token for ${NAME} only`);
      }
      for (const path of [`/models/${OTHER}`, `/models/${OTHER}/versions/2`, `/models/${OTHER}/compare?versions=1,2`]) {
        const refused = await pageText(path);
        assert.equal(refused.status, 403, `${path} answered ${refused.status}`);
        for (const foreign of ["xgb-1", "xgb-2", "accuracy"])
          assert.ok(!refused.html.includes(foreign), `${foreign} shown on ${path}`);
      }
      // Its own model's actions are offered: promote scope.
      await team.page.goto(`${server.base}/models/${NAME}/versions/3`);
      assert.equal(await team.page.locator("#actions").count(), 1);
    } finally {
      await team.close();
    }
  });
});
