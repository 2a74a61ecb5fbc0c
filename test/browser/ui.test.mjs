// The web UI in a real browser (Debian's Chromium through playwright-core) against the real
// `npm start`: register through the API, then promote, roll back and compare through the pages.
// Each test saves a screenshot under test-output/browser/; UPDATE_SCREENSHOTS=1 also refreshes
// the README's docs/screenshots/model.png and compare.png.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { rmSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { freePort, freshStateDir, startServer } from "../e2e/server.mjs";
import { docScreenshot, openBrowser, screenshot } from "./chromium.mjs";
import { seedHousePrices } from "./seed.mjs";

const NAME = "HousePricePredictor";

describe("the web UI with access control off (npm start's default)", () => {
  const stateDir = freshStateDir();
  let server;
  let browser;
  let page;

  before(async () => {
    server = await startServer({ port: await freePort(), stateDir });
    await seedHousePrices(server.base, NAME);
    browser = await openBrowser();
    page = browser.page;
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  const row = (version) => page.locator("tr", { has: page.locator(`a[href$="/versions/${version}"]`) });
  const badgeOf = (version) => row(version).locator("td[data-label=Stage] .badge");
  const newestTransition = () => page.locator("ol.timeline li").first();

  test("lists the registered model with its tags, and finds it by search", async () => {
    await page.goto(`${server.base}/`);
    assert.equal(await page.title(), "Models · Modelgate");
    const entry = page.locator("tbody tr", { hasText: NAME });
    await entry.waitFor();
    assert.match(await entry.innerText(), /team=pricing/);
    await screenshot(page, "models");
    await page.fill("#q", "houseprice");
    await page.press("#q", "Enter");
    await page.waitForURL(/\?q=houseprice$/);
    assert.equal(await page.locator("tbody tr").count(), 1);
    await page.fill("#q", "no-such-model");
    await page.press("#q", "Enter");
    await page.getByText("No model name contains").waitFor();
    await screenshot(page, "models-no-match");
  });

  test("promotes through the UI: confirmation, then the badge and the timeline change", async () => {
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
    assert.match(await newestTransition().innerText(), /version 1: None → Production by \S+ — “?baseline goes live/);

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
    await page.locator(".flash.ok", { hasText: "Rolled back: version 1 is in Production again; version 2 was archived." }).waitFor();
    assert.equal(await badgeOf(1).innerText(), "Production");
    assert.equal(await badgeOf(2).innerText(), "Archived");
    assert.match(await page.locator("ol.timeline").innerText(), /rollback to version 1: v2 latency regression/);

    // Give the README's screenshot an alias and a staged look, through the same forms.
    await page.fill("#alias-name", "champion");
    await page.selectOption("#alias-version", "1");
    await page.getByRole("button", { name: "Set alias" }).click();
    await page.locator(".flash.ok", { hasText: "@champion now points at version 1." }).waitFor();
    await page.selectOption("#stage-2", "Staging");
    await page.click('button[aria-label="Move version 2"]');
    await page.locator(".flash.ok", { hasText: "Version 2 moved from Archived to Staging." }).waitFor();
    await page.goto(`${server.base}/models/${NAME}`); // without the flash message
    await screenshot(page, "model");
    await docScreenshot(page, "model");
  });

  test("compares two versions: differences highlighted and a metric chart", async () => {
    await page.goto(`${server.base}/models/${NAME}`);
    await page.check('input[aria-label="Compare version 1"]');
    await page.check('input[aria-label="Compare version 2"]');
    await page.getByRole("button", { name: "Compare selected versions" }).click();
    await page.waitForURL(`${server.base}/models/${NAME}/compare?versions=1,2`);

    const differing = await page.locator("tr.differs th code").allInnerTexts();
    assert.deepEqual(differing, ["learning_rate", "max_depth", "n_estimators", "mae", "r2", "rmse"]);
    assert.equal(await page.locator("tr:not(.differs) th code", { hasText: "model" }).count(), 1);
    const chart = page.locator("svg.chart");
    assert.match(await chart.locator("title").textContent(), /^mae by version: v1: 0\.52; v2: 0\.49$/);

    await page.selectOption("#metric", "rmse");
    await page.getByRole("button", { name: "Show" }).click();
    await page.waitForURL(/metric=rmse/);
    assert.equal(await chart.locator("title").textContent(), "rmse by version: v1: 0.78; v2: 0.71");
    assert.equal(await chart.locator("circle").count(), 2);
    await screenshot(page, "compare");
    await docScreenshot(page, "compare");
  });

  test("shows a version's lineage, files with sha256, download links and snippets", async () => {
    await page.goto(`${server.base}/models/${NAME}/versions/2`);
    const lineage = await page.locator("#lineage + *").innerText();
    assert.match(lineage, /gbr-tuned/);
    const weights = "v2-weights-".repeat(5000);
    const row = page.locator("tr", { hasText: "model.pkl" });
    assert.match(await row.innerText(), new RegExp(createHash("sha256").update(weights).digest("hex")));
    const href = await row.locator("a").getAttribute("href");
    const download = await page.request.get(`${server.base}${href}`);
    assert.equal(download.status(), 200);
    assert.equal(await download.text(), weights);
    assert.equal(await page.locator("#snippet-python").innerText(), `mlflow.pyfunc.load_model("models:/${NAME}/2")`);
    assert.equal(await page.locator("#snippet-cli").innerText(), `npx modelgate pull ${NAME}@2 ./model`);
    // The copy buttons exist only where the script runs, and it does here.
    assert.equal(await page.locator('button[data-copy="snippet-cli"]').isVisible(), true);
    await screenshot(page, "version");
  });

  test("is keyboard-usable: the skip link comes first and a focused control shows an outline", async () => {
    await page.goto(`${server.base}/models/${NAME}`);
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), "Skip to content");
    await page.keyboard.press("Enter");
    assert.match(page.url(), /#main$/);
    await page.focus("#alias-name");
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert.equal(outline, "solid");
  });

  test("fits a narrow screen without sideways scrolling", async () => {
    const phone = await openBrowser({ viewport: { width: 375, height: 740 } });
    try {
      for (const path of ["/", `/models/${NAME}`, `/models/${NAME}/versions/1`, `/models/${NAME}/compare?versions=1,2`]) {
        await phone.page.goto(`${server.base}${path}`);
        const width = await phone.page.evaluate(() => document.documentElement.scrollWidth);
        assert.ok(width <= 375, `${path} is ${width}px wide on a 375px screen`);
      }
      await phone.page.goto(`${server.base}/models/${NAME}`);
      await screenshot(phone.page, "model-narrow");
    } finally {
      await phone.close();
    }
  });

  test("answers unknown pages with a 404 page", async () => {
    const res = await page.goto(`${server.base}/models/NoSuchModel`);
    assert.equal(res.status(), 404);
    await page.getByRole("heading", { name: "Not found" }).waitFor();
    assert.match(await page.locator("main").innerText(), /Registered Model with name=NoSuchModel not found/);
    await screenshot(page, "not-found");
  });
});

describe("the web UI with access control on", () => {
  const stateDir = freshStateDir();
  const ADMIN = `mg_browser_admin_${Date.now()}`;
  let server;
  let readToken;

  before(async () => {
    server = await startServer({ port: await freePort(), stateDir, env: { MODELGATE_AUTH: "on", MODELGATE_ADMIN_TOKEN: ADMIN } });
    const headers = { "content-type": "application/json", authorization: `Bearer ${ADMIN}` };
    const call = async (route, body) => {
      const res = await fetch(`${server.base}/api/2.0/${route}`, { method: "POST", headers, body: JSON.stringify(body) });
      const text = await res.text();
      assert.equal(res.status, 200, `${route}: ${text}`);
      return JSON.parse(text);
    };
    await call("mlflow/registered-models/create", { name: NAME });
    await call("mlflow/model-versions/create", { name: NAME, source: "s3://bucket/model" });
    const put = await fetch(`${server.base}/api/2.0/mlflow-artifacts/artifacts/0/run-a/artifacts/model/MLmodel`, {
      method: "PUT",
      headers: { authorization: `Bearer ${ADMIN}` },
      body: "flavors: {}",
    });
    assert.equal(put.status, 200);
    await call("mlflow/model-versions/create", { name: NAME, source: "mlflow-artifacts:/0/run-a/artifacts/model" });
    readToken = (await call("modelgate/tokens", { name: "viewer", scopes: ["read"] })).secret;
  });

  after(async () => {
    await server?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  /** Signs in through the sign-in page; the session cookie carries the token from then on. */
  async function signIn(page, token) {
    await page.goto(`${server.base}/ui/sign-in`);
    await page.fill("#token", token);
    await Promise.all([page.waitForURL((url) => !url.pathname.startsWith("/ui/sign-in")), page.getByRole("button", { name: "Sign in" }).click()]);
  }

  test("signs in with a token through the sign-in page, and offers a read-only token no actions", async () => {
    const anonymous = await openBrowser();
    try {
      // Without credentials a UI page sends the browser to the sign-in page, which keeps the token
      // in an HttpOnly session cookie.
      await anonymous.page.goto(`${server.base}/models/${NAME}`);
      assert.match(anonymous.page.url(), /\/ui\/sign-in\?next=/);
      await anonymous.page.fill("#token", readToken);
      await Promise.all([anonymous.page.waitForURL(`${server.base}/models/${NAME}`), anonymous.page.getByRole("button", { name: "Sign in" }).click()]);
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
      assert.equal(res.status(), 200);
      assert.match(await viewer.page.locator("header .who").innerText(), /signed in as viewer/);
      assert.equal(await viewer.page.locator('main form[method="post"]').count(), 0, "a read-only token is offered no forms (the header's sign-out form aside)");
      await screenshot(viewer.page, "read-only");
      // With access control on, download links are signed: they work without any credentials.
      await viewer.page.goto(`${server.base}/models/${NAME}/versions/2`);
      const href = await viewer.page.locator("tr", { hasText: "MLmodel" }).locator("a").getAttribute("href");
      assert.match(href, /^http:\/\/127\.0\.0\.1:\d+\/v1\/models\/HousePricePredictor\/versions\/2\/files\/MLmodel\?expires=\d+&kid=[^&]+&sig=[0-9a-f]{64}$/);
      const signed = await fetch(href);
      assert.equal(signed.status, 200);
      assert.equal(await signed.text(), "flavors: {}");
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
});
