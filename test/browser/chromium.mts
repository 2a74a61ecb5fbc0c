// Debian's Chromium, driven by playwright-core: never a downloaded browser.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type BrowserContextOptions, chromium, type Page } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** The one line `npm test` prints (before running anything) and the browser tests fail with when Chromium is missing. */
export const MISSING_CHROMIUM = `The browser tests need Chromium at ${CHROMIUM}; install it with \`sudo apt-get install chromium\` (or set CHROMIUM_PATH), then run npm test again.`;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const OUTPUT = path.join(root, "test-output", "browser");
export const DOC_SCREENSHOTS = path.join(root, "docs", "screenshots");

const ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * A fresh headless browser profile (its own --user-data-dir, removed by close()). Options are
 * Playwright's context options: viewport, httpCredentials, ...
 */
export async function openBrowser(options: BrowserContextOptions = {}) {
  if (!existsSync(CHROMIUM)) throw new Error(MISSING_CHROMIUM);
  const profile = mkdtempSync(path.join(tmpdir(), "modelgate-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 900 },
    ...options,
  });
  context.setDefaultTimeout(15_000);
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A headless browser with its first page; close() removes its profile. */
export type Browser = Awaited<ReturnType<typeof openBrowser>>;

/** Saves a full-page screenshot under test-output/browser/ (git-ignored). */
export async function screenshot(page: Page, name: string) {
  mkdirSync(OUTPUT, { recursive: true });
  const file = path.join(OUTPUT, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** With UPDATE_SCREENSHOTS=1, also refreshes the README's screenshot docs/screenshots/<name>.png. */
export async function docScreenshot(page: Page, name: string) {
  if (process.env.UPDATE_SCREENSHOTS !== "1") return null;
  mkdirSync(DOC_SCREENSHOTS, { recursive: true });
  const file = path.join(DOC_SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

// `node --import tsx test/browser/chromium.mts --check` (npm's pretest): a missing Chromium is reported up front,
// in one line, before the type check and the suites spend minutes on the way to the browser tests.
if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.includes("--check") && !existsSync(CHROMIUM)) {
  console.error(MISSING_CHROMIUM);
  process.exit(1);
}
