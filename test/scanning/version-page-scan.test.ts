import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { PolicySection } from "../../src/ui/pages/policy-section";
import { VersionPage } from "../../src/ui/pages/version-page";
import { defaultScanPolicy } from "../../src/domain/promotion-policy";
import { openDatabase } from "../../src/repositories/database";
import { ScanGate } from "../../src/scanning/scan-gate";
import { servicesFor } from "../../src/services";
import { ORIGIN, textOf } from "../ui/browser";
import { fixtureBytes } from "./fixture-bytes";
import { registeredVersion } from "./registered-version";

async function page(name: string, version: string, withScan = true): Promise<string> {
  const services = servicesFor(env);
  const lineage = await services.lineage.versionLineage(name, version);
  const scan = withScan ? await services.scans.versionScan(name, version) : undefined;
  const html = await VersionPage({
    lineage,
    history: null,
    downloads: new Map(),
    archiveUrl: null,
    origin: "https://registry.example.com",
    allowed: new Set(),
    csrf: "x",
    scan,
  }).toString();
  return html;
}

describe("the scan on the version page", () => {
  it("shows the badge, and per file the globals it imports with the unsafe ones first and the reasons", async () => {
    const { name, modelId } = await registeredVersion({
      MLmodel: "flavors: {}\n",
      "model.pkl": fixtureBytes("evil-importlib-getattr.pkl"),
      "tree.pkl": fixtureBytes("sklearn-tree-protocol4.pkl"),
    });
    const pending = textOf(await page(name, "1"));
    expect(pending).toContain("Pickle scan scan: pending");

    await servicesFor(env).scans.scanVersion(modelId, 1);
    const html = await page(name, "1");
    expect(html).toContain('class="badge scan-unsafe status-FAILED_REGISTRATION"');
    const text = textOf(html);
    expect(text).toContain("Pickle scan scan: unsafe");
    // The malicious file: what it reaches through the resolver, flagged.
    expect(text).toMatch(/model\.pkl .* scan: unsafe pickle inspect\.getattr_static unsafe/);
    expect(text).toMatch(/os(\.system)? unsafe/);
    // The real model: its sklearn and numpy globals, all clean.
    expect(text).toMatch(/tree\.pkl .* scan: clean pickle .*sklearn\.tree/);
    expect(text).toMatch(/MLmodel .* scan: clean text/);
  });

  it("says whose override lets a version through, and why", async () => {
    const { name, modelId } = await registeredVersion({ "model.pkl": fixtureBytes("evil-eval.pkl") });
    // Scanned and its verdict recorded, as the coordinator does: only a final verdict is overridden.
    await new ScanGate(openDatabase(env.DB), env.ARTIFACTS).fact({ modelId, version: 1 }, name);
    await servicesFor(env).scans.recordOverride(name, "1", "accepted after review, SEC-3", "alice");
    expect(textOf(await page(name, "1"))).toContain(
      "scan: unsafe — promotion allowed by alice's override: accepted after review, SEC-3",
    );
  });

  it("shows no scan column or badge when the page is given no scan", async () => {
    const { name } = await registeredVersion({ "model.pkl": fixtureBytes("evil-eval.pkl") });
    const html = await page(name, "1", false);
    expect(html).not.toContain("scan:");
    expect(html).not.toContain('<th scope="col">Scan</th>');
  });
});

describe("the deployment's default policy on the model page", () => {
  it("is shown, in words, while the model has no policy of its own, and beside the model's own rules", async () => {
    const fallback = defaultScanPolicy("Production");
    const text = textOf(await PolicySection({ name: "m", policy: null, fallback }).toString());
    expect(text).toContain(
      "Before a version moves to Production : its pickle scan must be clean (the deployment's default)",
    );
    expect(text).toContain("The deployment's default applies to every model, on top of its own policy");
    const own = textOf(
      await PolicySection({
        name: "m",
        policy: { policy: { Staging: [{ type: "tag", key: "x" }] }, updatedBy: "bob", updatedTime: 0 },
        fallback,
      }).toString(),
    );
    expect(own).toContain("Before a version moves to Staging : tag x must be set");
    expect(own).toContain(
      "Before a version moves to Production : its pickle scan must be clean (the deployment's default)",
    );
    expect(own).toContain("Set by bob");
  });

  it("does not mark a scan rule of the model's own as the default, nor show it twice", async () => {
    const text = textOf(
      await PolicySection({
        name: "m",
        policy: { policy: { Production: [{ type: "scan", status: "clean" }] }, updatedBy: "bob", updatedTime: 0 },
        fallback: defaultScanPolicy("Production"),
      }).toString(),
    );
    expect(text.match(/its pickle scan must be clean/g)).toHaveLength(1);
    expect(text).not.toContain("(the deployment's default)");
  });
});

describe("the version page as served", () => {
  it("shows the scan badge and the imported globals through the real route", async () => {
    const { name, modelId } = await registeredVersion({
      MLmodel: "flavors: {}\n",
      "model.pkl": fixtureBytes("evil-importlib-getattr.pkl"),
    });
    await servicesFor(env).scans.scanVersion(modelId, 1);
    const res = await exports.default.fetch(new Request(`${ORIGIN}/models/${encodeURIComponent(name)}/versions/1`));
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("badge scan-unsafe");
    expect(textOf(html)).toContain("importlib");
  });
});
