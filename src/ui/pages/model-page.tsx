import type { ModelVersion, RegisteredModel, StageTransition } from "../../domain/model";
import type { PolicyRecord, PromotionPolicy } from "../../domain/promotion-policy";
import { isServable, STAGES, type Stage } from "../../domain/stages";
import type { UiAction } from "../access";
import { actionHref, CsrfField, Empty, modelHref, StageBadge, StatusBadge, Time, versionHref } from "../components";
import { formatNumber, shortId, shortSource } from "../format";
import { bestValue, defaultOrder, metricDirection, type VersionSort } from "../metrics";
import type { RunSummary } from "../../domain/run-overview";
import { type VersionScanStatus, versionKey } from "../../domain/scans";
import { PolicySection, policyHasRules } from "./policy-section";
import { ScanBadge } from "./version-page";

export type RollbackOffer = { current: number; target: number } | { unavailable: string };

export interface VersionRow {
  version: ModelVersion;
  /** The version's run, when it names one that is logged here. */
  run: RunSummary | null;
}

export interface ModelPageProps {
  model: RegisteredModel;
  /** This page of versions, in the order asked for. */
  rows: VersionRow[];
  /** Runs of the live (Production, Staging, aliased) versions, by run id. */
  liveRuns: Map<string, RunSummary>;
  /** The metric columns: pinned, or the most-logged. */
  keyMetrics: string[];
  /** Whether `keyMetrics` were pinned by a user (else chosen as the most-logged). */
  pinned: boolean;
  /** Every metric the versions on this page logged, for the pin form. */
  allMetrics: string[];
  sort: VersionSort;
  versionsNext: string | null;
  versionsPage: string | undefined;
  history: StageTransition[];
  historyNext: string | null;
  historyPage: string | undefined;
  rollback: RollbackOffer;
  /** The model's promotion policy (undefined: not shown). */
  policy?: PolicyRecord | null;
  /** The deployment's default policy (MODELGATE_DEFAULT_SCAN_POLICY), in force while the model has none. */
  defaultPolicy?: PromotionPolicy | null;
  /** Each version's pickle-scan status, by versionKey (ScanService.statusOf for the page). */
  scans: ReadonlyMap<string, VersionScanStatus>;
  allowed: Set<UiAction>;
  csrf: string;
}

function pageLink(name: string, params: Record<string, string | undefined>) {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) query.set(k, v);
  const text = query.toString();
  return `${modelHref(name)}${text ? `?${text}` : ""}`;
}

/** The stages a version may be moved to from the UI: only a READY version may enter Staging or Production. */
export function stageChoices(v: ModelVersion): Stage[] {
  return STAGES.filter((s) => s !== v.currentStage && (isServable(v.status) || s === "None" || s === "Archived"));
}

function MetricValues(props: { run: RunSummary | null; keys: string[] }) {
  if (!props.run) return null;
  const shown = props.keys.filter((k) => props.run!.metrics.has(k));
  if (shown.length === 0) return null;
  return (
    <div class="metrics-line">
      {shown.map((k) => (
        <span class="metric">
          <span class="muted">{k}</span> <strong>{formatNumber(props.run!.metrics.get(k)!)}</strong>
        </span>
      ))}
    </div>
  );
}

function LiveCard(props: {
  name: string;
  stage: "Production" | "Staging";
  version: ModelVersion | undefined;
  run: RunSummary | null;
  keys: string[];
  since: number | null;
  children?: unknown;
}) {
  const { name, stage, version: v } = props;
  return (
    <div class={`live live-${stage}`}>
      {/* "Production:" is the card's name for screen readers; the badge says it to the eye. */}
      <span class="sr">{stage}:</span>{" "}
      {v ? (
        <>
          <a href={versionHref(name, v.version)} class="live-version">
            <StageBadge stage={stage} /> version {v.version}
          </a>
          {props.run && (
            <div class="muted">
              run <strong class="run-name">{props.run.name || shortId(props.run.runId)}</strong>
              {props.since !== null && (
                <>
                  {" · since "}
                  <Time ms={props.since} />
                </>
              )}
            </div>
          )}
          {!props.run && props.since !== null && (
            <div class="muted">
              since <Time ms={props.since} />
            </div>
          )}
          <MetricValues run={props.run} keys={props.keys} />
        </>
      ) : (
        <>
          <StageBadge stage={stage} /> <span class="muted">{`${name} has no version in ${stage}.`}</span>
        </>
      )}
      {props.children}
    </div>
  );
}

function RollbackBox(props: { name: string; rollback: RollbackOffer; csrf: string }) {
  const offer = props.rollback;
  if (!("target" in offer)) return null;
  return (
    <form method="post" action={actionHref(props.name, "rollback")} class="rollback">
      <CsrfField token={props.csrf} />
      <input type="hidden" name="expected" value={String(offer.current)} />
      <p class="muted">
        Version {offer.current} is in Production; the previous Production version is {offer.target}.
      </p>
      <button type="submit" class="danger">
        Roll back to version {offer.target}…
      </button>
    </form>
  );
}

function Live(props: ModelPageProps & { keys: string[] }) {
  const { model, liveRuns, keys } = props;
  const name = model.name;
  const production = model.latestVersions.find((v) => v.currentStage === "Production");
  const staging = model.latestVersions.find((v) => v.currentStage === "Staging");
  const runOf = (v: ModelVersion | undefined) => (v?.runId ? (liveRuns.get(v.runId) ?? null) : null);
  const since = (v: ModelVersion | undefined) =>
    v ? (props.history.find((t) => t.version === v.version && t.toStage === v.currentStage)?.timestamp ?? null) : null;
  const rollback = props.rollback;
  return (
    <section aria-labelledby="live-heading" class="live-grid">
      <h2 id="live-heading" class="sr">
        What is live
      </h2>
      <LiveCard
        name={name}
        stage="Production"
        version={production}
        run={runOf(production)}
        keys={keys}
        since={since(production)}
      >
        {props.allowed.has("rollback") && production && (
          <RollbackBox name={name} rollback={rollback} csrf={props.csrf} />
        )}
        {props.allowed.has("rollback") && production && "unavailable" in rollback && rollback.unavailable && (
          <p class="muted small">{rollback.unavailable}</p>
        )}
      </LiveCard>
      <LiveCard name={name} stage="Staging" version={staging} run={runOf(staging)} keys={keys} since={since(staging)} />
      <div class="live live-aliases">
        <span class="live-title">Aliases</span>
        {model.aliases.length === 0 ? (
          <div class="muted">No aliases.</div>
        ) : (
          <ul class="plain">
            {[...model.aliases]
              .sort((a, b) => a.alias.localeCompare(b.alias))
              .map((a) => (
                <li>
                  <span class="chip alias">@{a.alias}</span> →{" "}
                  <a href={versionHref(name, a.version)}>version {a.version}</a>
                </li>
              ))}
          </ul>
        )}
      </div>
    </section>
  );
}

function SortHeader(props: {
  name: string;
  label: string;
  by: string;
  sort: VersionSort;
  keep: Record<string, string | undefined>;
  title?: string;
  numeric?: boolean;
}) {
  const active = props.sort.by === props.by;
  const next = active ? (props.sort.order === "asc" ? "desc" : "asc") : defaultOrder(props.by);
  const href = pageLink(props.name, { ...props.keep, sort: props.by, order: next });
  return (
    <th
      scope="col"
      class={props.numeric ? "num" : undefined}
      aria-sort={active ? (props.sort.order === "asc" ? "ascending" : "descending") : undefined}
      title={props.title}
    >
      <a href={href} class="sort">
        {props.label}
        <span aria-hidden="true" class="arrow">
          {active ? (props.sort.order === "asc" ? " ▲" : " ▼") : ""}
        </span>
        <span class="sr">
          {active ? `, sorted ${props.sort.order === "asc" ? "ascending" : "descending"}` : ", sort"}
        </span>
      </a>
    </th>
  );
}

function VersionRowView(props: {
  model: RegisteredModel;
  row: VersionRow;
  keys: string[];
  best: Map<string, number | null>;
  allowed: Set<UiAction>;
  csrf: string;
  scan: VersionScanStatus;
}) {
  const { model, row, allowed, scan } = props;
  const v = row.version;
  const run = row.run;
  const choices = stageChoices(v);
  return (
    <tr>
      <td data-label="Compare" class="pick">
        <input
          type="checkbox"
          name="v"
          value={String(v.version)}
          form="compare-form"
          aria-label={`Compare version ${v.version}`}
        />
      </td>
      <td data-label="Version">
        <a href={versionHref(model.name, v.version)}>
          <strong>Version {v.version}</strong>
        </a>
        {v.aliases.length > 0 && (
          <div>
            {v.aliases.map((a) => (
              <span class="chip alias">@{a}</span>
            ))}
          </div>
        )}
      </td>
      <td data-label="Stage">
        <StageBadge stage={v.currentStage} />
        {v.status !== "READY" && (
          <div>
            <StatusBadge version={v} />
          </div>
        )}
      </td>
      <td data-label="Scan">
        <ScanBadge status={scan} />
      </td>
      <td data-label="Run">
        {run ? (
          <>
            <a href={`${versionHref(model.name, v.version)}#run`} title={run.runId}>
              {run.name || <code>{shortId(run.runId)}</code>}
            </a>
            <div class={`muted small run-${run.status}`}>{run.status.toLowerCase()}</div>
          </>
        ) : v.runId ? (
          <span class="muted" title={v.runId}>
            <code>{shortId(v.runId)}</code> (not logged here)
          </span>
        ) : (
          <span class="muted">—</span>
        )}
      </td>
      {props.keys.map((k) => {
        const value = run?.metrics.get(k);
        const best = props.best.get(k);
        const isBest = value !== undefined && best !== null && best !== undefined && value === best;
        return (
          <td data-label={k} class={`num${isBest ? " best" : ""}`} data-metric={k}>
            {value === undefined ? <span class="muted">—</span> : formatNumber(value)}
            {isBest && <span class="sr"> (best)</span>}
          </td>
        );
      })}
      <td data-label="Created">
        <Time ms={v.creationTime} />
      </td>
      <td data-label="Source" class="source">
        <span class="mono" title={v.source}>
          {shortSource(v.source)}
        </span>
      </td>
      {allowed.has("stage") && (
        <td data-label="Actions">
          {choices.length > 0 && (
            <form method="post" action={actionHref(model.name, "stage")} class="inline">
              <CsrfField token={props.csrf} />
              <input type="hidden" name="version" value={String(v.version)} />
              <label class="sr" for={`stage-${v.version}`}>
                New stage for version {v.version}
              </label>
              <select id={`stage-${v.version}`} name="stage" required>
                <option value="" disabled selected>
                  Move to…
                </option>
                {choices.map((s) => (
                  <option value={s}>{s}</option>
                ))}
              </select>
              <button type="submit" aria-label={`Move version ${v.version}`}>
                Move
              </button>
            </form>
          )}
        </td>
      )}
    </tr>
  );
}

function KeyMetricsForm(props: {
  name: string;
  keys: string[];
  pinned: boolean;
  all: string[];
  csrf: string;
  canPin: boolean;
}) {
  const described =
    props.keys.length === 0 ? (
      <span class="muted">No metrics: the versions' runs logged none.</span>
    ) : (
      <span class="muted">
        Metric columns: {props.pinned ? "pinned" : "the most-logged"} ({props.keys.join(", ")}).
      </span>
    );
  if (!props.canPin || props.all.length === 0) return <p class="small">{described}</p>;
  return (
    <details class="pin small">
      <summary>
        {described} <span class="link-like">Choose…</span>
      </summary>
      <form method="post" action={actionHref(props.name, "key-metrics")}>
        <CsrfField token={props.csrf} />
        <fieldset>
          <legend>Key metrics shown for everyone (up to 6; none: the most-logged)</legend>
          {props.all.map((k) => (
            <label class="check">
              <input type="checkbox" name="metric" value={k} checked={props.pinned && props.keys.includes(k)} /> {k}
            </label>
          ))}
        </fieldset>
        <button type="submit">Pin these metrics</button>
      </form>
    </details>
  );
}

function Timeline(props: { history: StageTransition[] }) {
  return (
    <ol class="timeline" aria-label="Stage transitions, newest first">
      {props.history.map((t) => (
        <li class={`to-${t.toStage}`}>
          <Time ms={t.timestamp} /> · <strong>version {t.version}</strong>: <StageBadge stage={t.fromStage} /> →{" "}
          <StageBadge stage={t.toStage} /> by <strong>{t.actor}</strong>
          {t.comment && (
            <>
              {" "}
              — <q>{t.comment}</q>
            </>
          )}
        </li>
      ))}
    </ol>
  );
}

export function ModelPage(props: ModelPageProps) {
  const { model, rows, allowed, csrf, keyMetrics: keys } = props;
  const name = model.name;
  const keep = { versions_page: props.versionsPage, history: props.historyPage };
  const sortKeep =
    props.sort.by === "version" && props.sort.order === "desc" ? {} : { sort: props.sort.by, order: props.sort.order };
  const best = new Map(
    keys.map((k) => [
      k,
      bestValue(
        k,
        rows.map((r) => r.run?.metrics.get(k)),
      ),
    ]),
  );
  const aliasable = rows.filter((r) => isServable(r.version.status));
  return (
    <>
      <h1>{name}</h1>
      {model.description && <p class="lede">{model.description}</p>}
      <Live {...props} keys={keys} />

      <section aria-labelledby="versions">
        <h2 id="versions">Versions</h2>
        {rows.length === 0 ? (
          <Empty>
            <p>No versions yet.</p>
            <p>
              Register one with <code>{`mlflow.register_model("runs:/<run_id>/model", ${JSON.stringify(name)})`}</code>.
            </p>
          </Empty>
        ) : (
          <>
            <KeyMetricsForm
              name={name}
              keys={keys}
              pinned={props.pinned}
              all={props.allMetrics}
              csrf={csrf}
              canPin={allowed.has("pinMetrics")}
            />
            <form id="compare-form" method="get" action={`${modelHref(name)}/compare`}></form>
            <div class="scroll">
              <table class="stack versions">
                <thead>
                  <tr>
                    <th scope="col">
                      <span class="sr">Compare</span>
                    </th>
                    <SortHeader name={name} label="Version" by="version" sort={props.sort} keep={keep} />
                    <th scope="col">Stage</th>
                    <th scope="col">Scan</th>
                    <SortHeader name={name} label="Run" by="run" sort={props.sort} keep={keep} />
                    {keys.map((k) => {
                      const direction = metricDirection(k);
                      return (
                        <SortHeader
                          name={name}
                          label={k}
                          by={`metric:${k}`}
                          sort={props.sort}
                          keep={keep}
                          numeric
                          title={direction ? `${direction} is better; the best value is in bold` : undefined}
                        />
                      );
                    })}
                    <SortHeader name={name} label="Created" by="created" sort={props.sort} keep={keep} />
                    <th scope="col">Source</th>
                    {allowed.has("stage") && <th scope="col">Actions</th>}
                  </tr>
                </thead>
                <tbody>
                  {rows.map((row) => (
                    <VersionRowView
                      model={model}
                      row={row}
                      keys={keys}
                      best={best}
                      allowed={allowed}
                      csrf={csrf}
                      scan={props.scans.get(versionKey(row.version)) ?? "pending"}
                    />
                  ))}
                </tbody>
              </table>
            </div>
            {rows.length >= 2 && (
              <p>
                <button type="submit" form="compare-form">
                  Compare selected versions
                </button>
              </p>
            )}
          </>
        )}
        {(props.versionsNext || props.versionsPage) && (
          <nav class="pager" aria-label="Version pages">
            {props.versionsPage && (
              <a href={pageLink(name, { history: props.historyPage, ...sortKeep })}>Newest versions</a>
            )}
            {props.versionsNext && (
              <a
                href={pageLink(name, { versions_page: props.versionsNext, history: props.historyPage, ...sortKeep })}
                rel="next"
              >
                Older versions
              </a>
            )}
          </nav>
        )}
      </section>

      {props.policy !== undefined && (policyHasRules(props.policy) || props.defaultPolicy) && (
        <PolicySection name={name} policy={props.policy} fallback={props.defaultPolicy ?? null} />
      )}

      {(allowed.has("setAlias") || allowed.has("deleteAlias")) &&
        (model.aliases.length > 0 || (allowed.has("setAlias") && aliasable.length > 0)) && (
          <section aria-labelledby="aliases">
            <h2 id="aliases">Aliases</h2>
            {model.aliases.length > 0 && (
              <ul>
                {model.aliases.map((a) => (
                  <li>
                    <span class="chip">@{a.alias}</span> →{" "}
                    <a href={versionHref(name, a.version)}>version {a.version}</a>{" "}
                    {allowed.has("deleteAlias") && (
                      <form method="post" action={actionHref(name, "aliases/delete")} class="inline">
                        <CsrfField token={csrf} />
                        <input type="hidden" name="alias" value={a.alias} />
                        <button type="submit" class="link" aria-label={`Remove alias ${a.alias}`}>
                          remove
                        </button>
                      </form>
                    )}
                  </li>
                ))}
              </ul>
            )}
            {allowed.has("setAlias") && aliasable.length > 0 && (
              <form method="post" action={actionHref(name, "aliases")} class="inline">
                <CsrfField token={csrf} />
                <label for="alias-name">Set alias</label>
                <input id="alias-name" name="alias" required maxlength={255} placeholder="champion" />
                <label for="alias-version">to version</label>
                <select id="alias-version" name="version">
                  {aliasable.map((r) => (
                    <option value={String(r.version.version)}>{r.version.version}</option>
                  ))}
                </select>
                <button type="submit">Set alias</button>
              </form>
            )}
          </section>
        )}

      <section aria-labelledby="about">
        <h2 id="about">About</h2>
        <p class="muted">
          Created <Time ms={model.creationTime} />, updated <Time ms={model.lastUpdatedTime} />.
          {!model.description && " No description."}
        </p>
        {allowed.has("description") && (
          <details>
            <summary>Edit description</summary>
            <form method="post" action={actionHref(name, "description")}>
              <CsrfField token={csrf} />
              <label class="sr" for="description">
                Description
              </label>
              <textarea id="description" name="description" rows={4}>
                {model.description ?? ""}
              </textarea>
              <p>
                <button type="submit" class="primary">
                  Save description
                </button>
              </p>
            </form>
          </details>
        )}
        <h3 id="tags">Tags</h3>
        {model.tags.length === 0 ? (
          <p class="muted">No tags.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col">Value</th>
                {allowed.has("deleteTag") && (
                  <th scope="col">
                    <span class="sr">Remove</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {model.tags.map((t) => (
                <tr>
                  <td>
                    <code>{t.key}</code>
                  </td>
                  <td class="hash">{t.value}</td>
                  {allowed.has("deleteTag") && (
                    <td>
                      <form method="post" action={actionHref(name, "tags/delete")} class="inline">
                        <CsrfField token={csrf} />
                        <input type="hidden" name="key" value={t.key} />
                        <button type="submit" class="link" aria-label={`Remove tag ${t.key}`}>
                          remove
                        </button>
                      </form>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {allowed.has("setTag") && (
          <form method="post" action={actionHref(name, "tags")} class="inline">
            <CsrfField token={csrf} />
            <label for="tag-key">Tag</label>
            <input id="tag-key" name="key" required maxlength={250} placeholder="team" />
            <label for="tag-value">value</label>
            <input id="tag-value" name="value" maxlength={5000} placeholder="pricing" />
            <button type="submit">Set tag</button>
          </form>
        )}
      </section>

      <section aria-labelledby="history">
        <h2 id="history">History</h2>
        {props.history.length === 0 ? (
          <p class="muted">No stage transitions yet.</p>
        ) : (
          <Timeline history={props.history} />
        )}
        {(props.historyNext || props.historyPage) && (
          <nav class="pager" aria-label="History pages">
            {props.historyPage && (
              <a href={pageLink(name, { versions_page: props.versionsPage, ...sortKeep })}>Newest transitions</a>
            )}
            {props.historyNext && (
              <a
                href={pageLink(name, { history: props.historyNext, versions_page: props.versionsPage, ...sortKeep })}
                rel="next"
              >
                Older transitions
              </a>
            )}
          </nav>
        )}
      </section>
    </>
  );
}
