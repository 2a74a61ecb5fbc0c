import { Hono } from "hono";
import { InvalidParameterError, RegistryError } from "../errors";
import { MAX_MODEL_NAME_LENGTH } from "../domain/limits";
import { defaultScanPolicy } from "../domain/promotion-policy";
import { filePath } from "../services/delivery-service";
import type { RegistryService } from "../services/registry-service";
import type { AppEnv } from "../http/context";
import { allowedActions, mayView } from "./access";
import { parseVersionList } from "./compare";
import { compareHref, modelHref } from "./components";
import { csrfToken } from "./csrf";
import { renderPage } from "./layout";
import { ComparePage, ComparePicker } from "./pages/compare-page";
import { ModelPage, type RollbackOffer } from "./pages/model-page";
import { ModelsPage, type ModelSummary } from "./pages/models-page";
import { keyMetrics, mostLogged, parseSort, pinnedMetrics, rankCounts, sortVersions } from "./metrics";
import { VersionPage } from "./pages/version-page";
import { nameContains, versionsOf } from "./queries";

// The pages. Each reads through the same services as the API and renders; nothing here queries
// storage or decides a registry rule.

const MODELS_PAGE = 25;
const HISTORY_PAGE = 50;
/** Download links on a version page stay valid this long when they must be signed. */
const SIGNED_LINK_SECONDS = 3600;

export const pageRoutes = new Hono<AppEnv>();

pageRoutes.get("/", mayView(false), async (c) => {
  const query = (c.req.query("q") ?? "").trim();
  if (query.length > MAX_MODEL_NAME_LENGTH) {
    throw new InvalidParameterError(
      `Search text longer than ${MAX_MODEL_NAME_LENGTH} characters cannot match a model name.`,
    );
  }
  const pageToken = c.req.query("page_token") || undefined;
  const page = await c.var.services.registry.searchModels({
    visibleTo: c.var.principal!,
    filter: query ? nameContains(query) : undefined,
    orderBy: ["name ASC"],
    maxResults: MODELS_PAGE,
    pageToken,
  });
  const data = c.var.services.runData;
  const ids = page.items.map((m) => m.id);
  const liveRunIds = page.items.flatMap((m) => m.latestVersions.map((v) => v.runId)).filter((id): id is string => !!id);
  const [counts, usage, runs] = await Promise.all([
    data.versionCounts(ids),
    data.metricUsage(ids),
    data.runSummaries(liveRunIds),
  ]);
  const summaries: ModelSummary[] = page.items.map((model) => {
    const key = keyMetrics(pinnedMetrics(model.tags), rankCounts(usage.get(model.id) ?? new Map()), 1)[0] ?? null;
    const live = (stage: "Production" | "Staging") => {
      const version = model.latestVersions.find((v) => v.currentStage === stage);
      if (!version) return null;
      const run = version.runId ? runs.get(version.runId) : undefined;
      return { version: version.version, value: key !== null ? (run?.metrics.get(key) ?? null) : null };
    };
    return {
      model,
      versions: counts.get(model.id) ?? 0,
      keyMetric: key,
      production: live("Production"),
      staging: live("Staging"),
    };
  });
  return renderPage(
    c,
    { title: query ? `Models matching ${query}` : "Models", query },
    <ModelsPage
      query={query}
      models={summaries}
      nextPageToken={page.nextPageToken}
      paged={pageToken !== undefined}
      origin={new URL(c.req.url).origin}
      authEnabled={c.var.services.config.authEnabled}
    />,
  );
});

pageRoutes.get("/models", mayView(false), (c) => c.redirect("/", 301));

pageRoutes.get("/models/:name", mayView(true), async (c) => {
  const name = c.req.param("name");
  const { registry } = c.var.services;
  const model = await registry.getModel(name);
  const versionsPage = c.req.query("versions_page") || undefined;
  const historyPage = c.req.query("history") || undefined;
  const sort = parseSort(c.req.query("sort"), c.req.query("order"));
  const allowed = allowedActions(c, name);
  const [versions, history, rollback, csrf, policy] = await Promise.all([
    versionsOf(registry, c.var.principal!, name, versionsPage),
    registry.listTransitions({ name, pageToken: historyPage, maxResults: HISTORY_PAGE }),
    allowed.has("rollback") ? rollbackOffer(registry, name) : Promise.resolve({ unavailable: "" }),
    csrfToken(c),
    c.var.services.policies.getPolicy(name),
  ]);
  // Runs of this page's versions and of the live ones (which may be on another page), read at once.
  const runIds = [...versions.items, ...model.latestVersions].map((v) => v.runId).filter((id): id is string => !!id);
  const [runs, scans] = await Promise.all([
    c.var.services.runData.runSummaries(runIds),
    c.var.services.scans.statusOf(versions.items),
  ]);
  const rows = versions.items.map((version) => ({
    version,
    run: version.runId ? (runs.get(version.runId) ?? null) : null,
  }));
  const ranked = mostLogged(rows.map((r) => (r.run ? r.run.metrics.keys() : [])));
  const pinned = pinnedMetrics(model.tags);
  const keys = keyMetrics(pinned, ranked);
  const sorted = sortVersions(
    rows.map((r) => ({
      ...r,
      number: r.version.version,
      creationTime: r.version.creationTime,
      runName: r.run?.name ?? null,
      metrics: r.run?.metrics ?? new Map<string, number>(),
    })),
    sort,
  );
  return renderPage(
    c,
    { title: name, crumbs: [["Models", "/"], [name]] },
    <ModelPage
      model={model}
      rows={sorted}
      liveRuns={runs}
      keyMetrics={keys}
      pinned={pinned.length > 0}
      allMetrics={[...ranked].sort((a, b) => a.localeCompare(b))}
      sort={sort}
      versionsNext={versions.nextPageToken}
      versionsPage={versionsPage}
      history={history.items}
      historyNext={history.nextPageToken}
      historyPage={historyPage}
      rollback={rollback}
      policy={policy}
      defaultPolicy={defaultScanPolicy(c.env.MODELGATE_DEFAULT_SCAN_POLICY)}
      scans={scans}
      allowed={allowed}
      csrf={csrf}
    />,
  );
});

async function rollbackOffer(registry: RegistryService, name: string): Promise<RollbackOffer> {
  try {
    return await registry.previewRollback(name);
  } catch (error) {
    if (error instanceof RegistryError && error.code === "RESOURCE_CONFLICT") return { unavailable: error.message };
    throw error;
  }
}

pageRoutes.get("/models/:name/versions/:version", mayView(true), async (c) => {
  const { lineage, delivery, config } = c.var.services;
  const name = c.req.param("name");
  const found = await lineage.versionLineage(name, c.req.param("version"));
  const { version, files } = found;
  const origin = new URL(c.req.url).origin;
  const downloads = new Map<string, string>();
  if (files.length > 0 && config.authEnabled) {
    // With access control on, a plain link would need the token; a signed link carries its own right.
    const signed = await delivery.signedUrls({
      name,
      version: String(version.version),
      origin,
      viaR2: false,
      expiresIn: SIGNED_LINK_SECONDS,
    });
    for (const s of signed) downloads.set(s.path, s.url);
  } else {
    for (const f of files) downloads.set(f.path, filePath(name, version.version, f.path));
  }
  const archiveUrl =
    files.length > 0 && !config.authEnabled
      ? `/v1/models/${encodeURIComponent(name)}/versions/${version.version}/archive.tar`
      : null;
  const runId = found.run?.run.runId;
  const [histories, csrf, scan] = await Promise.all([
    runId ? c.var.services.runData.histories([runId]) : Promise.resolve(null),
    csrfToken(c),
    c.var.services.scans.versionScan(name, String(version.version)),
  ]);
  return renderPage(
    c,
    {
      title: `${name} version ${version.version}`,
      crumbs: [["Models", "/"], [name, modelHref(name)], [`version ${version.version}`]],
    },
    <VersionPage
      lineage={found}
      history={runId ? (histories?.get(runId) ?? null) : null}
      downloads={downloads}
      archiveUrl={archiveUrl}
      origin={origin}
      allowed={allowedActions(c, name)}
      csrf={csrf}
      scan={scan}
    />,
  );
});

pageRoutes.get("/models/:name/compare", mayView(true), async (c) => {
  const name = c.req.param("name");
  const { registry, lineage } = c.var.services;
  const requested = [...(c.req.queries("versions") ?? []), ...(c.req.queries("v") ?? [])];
  const crumbs: [string, string?][] = [["Models", "/"], [name, modelHref(name)], ["compare"]];
  let numbers: number[];
  try {
    numbers = parseVersionList(requested);
  } catch (error) {
    if (!(error instanceof RegistryError) || error.code !== "INVALID_PARAMETER_VALUE") throw error;
    await registry.getModel(name); // an unknown model is a 404, not a picker
    const versions = await versionsOf(registry, c.var.principal!, name, undefined, 100);
    const problem = requested.length === 0 ? null : error.message;
    return renderPage(
      c,
      { title: `Compare ${name}`, crumbs },
      <ComparePicker name={name} versions={versions.items} problem={problem} />,
      problem ? 400 : 200,
    );
  }
  // A checkbox form sends v=2&v=1 (table order, newest first): answer with the one shareable URL,
  // oldest first, versions=1,2. An explicit versions= list keeps the order it asks for.
  if (c.req.queries("v") || (c.req.queries("versions")?.length ?? 0) > 1) {
    const ordered = c.req.queries("v") ? [...numbers].sort((a, b) => a - b) : numbers;
    const only = c.req.query("only") === "differences" ? "&only=differences" : "";
    return c.redirect(`${compareHref(name, ordered, c.req.query("metric") || undefined)}${only}`, 302);
  }
  const compared = await Promise.all(numbers.map((v) => lineage.versionLineage(name, String(v))));
  // Every metric's curves are in the page, so choosing another metric needs no reload.
  const runIds = compared.map((v) => v.run?.run.runId).filter((id): id is string => !!id);
  const histories = await c.var.services.runData.histories(runIds);
  return renderPage(
    c,
    { title: `Compare ${name} ${numbers.map((n) => `v${n}`).join(", ")}`, crumbs },
    <ComparePage
      name={name}
      compared={compared}
      histories={histories}
      metric={c.req.query("metric") || undefined}
      onlyDifferences={c.req.query("only") === "differences"}
    />,
  );
});

// Anything else under the UI's paths is a page that does not exist (rendered by the error pages).
const missing = (what: string) => {
  throw new RegistryError("ENDPOINT_NOT_FOUND", `There is no page at ${what}.`);
};
pageRoutes.get("/models/*", mayView(false), (c) => missing(new URL(c.req.url).pathname));
pageRoutes.get("/ui/*", mayView(false), (c) => missing(new URL(c.req.url).pathname));
