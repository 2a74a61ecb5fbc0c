import type { ModelVersion, Tag } from "../../domain/model";
import { isServable } from "../../domain/stages";
import type { Metric } from "../../domain/tracking";
import type { VersionLineage } from "../../services/lineage-service";
import type { FileScanStatus, VersionScan, VersionScanStatus } from "../../domain/scans";
import type { UiAction } from "../access";
import { seriesColour, StepChart } from "../chart";
import { actionHref, CsrfField, Empty, modelHref, Snippet, StageBadge, StatusBadge, Tags, Time } from "../components";
import { duration, formatBytes, formatNumber, pythonString, shellQuote, shortSource } from "../format";
import { curveOf, downsample, plottable } from "../metrics";
import type { MetricHistory } from "../../domain/run-overview";
import { stageChoices } from "./model-page";

export interface VersionPageProps {
  lineage: VersionLineage;
  /** Every logged point of the run's metrics; null when the version has no run here. */
  history: MetricHistory | null;
  /** The download URL of each file, by path (signed when access control is on). */
  downloads: Map<string, string>;
  /** The tar of all files, or null when the version has none. */
  archiveUrl: string | null;
  origin: string;
  allowed: Set<UiAction>;
  csrf: string;
  /** The version's pickle scan, per file (ScanService.versionScan); absent: not shown. */
  scan?: VersionScan | null;
}

/** Reuses the stage and status colours: green clean, amber pending or unknown, red unsafe. */
const SCAN_CLASS: Record<VersionScanStatus, string> = {
  clean: "stage-Production",
  pending: "status-PENDING_REGISTRATION",
  unknown: "status-PENDING_REGISTRATION",
  unsafe: "status-FAILED_REGISTRATION",
};

const SCAN_TITLE: Record<VersionScanStatus, string> = {
  clean: "Every pickle imports only allow-listed model-building callables (or the files are not pickles)",
  pending: "Not every file has been scanned yet",
  unknown: "A pickle imports a callable on neither the allow-list nor the deny-list, or could not be fully read",
  unsafe: "A pickle imports or reaches a callable that can run code when it is loaded",
};

/** A version's (or a file's) scan status as a badge; the model page's versions table can show it too. */
export function ScanBadge(props: { status: VersionScanStatus }) {
  return (
    <span class={`badge scan-${props.status} ${SCAN_CLASS[props.status]}`} title={SCAN_TITLE[props.status]}>
      scan: {props.status}
    </span>
  );
}

/** At most this many globals per file on the page; the scan API lists them all. */
const MAX_SHOWN_IMPORTS = 30;

/** What one file imports, unsafe and unknown globals first, and why it is not clean. */
function FileScanCell(props: { file: FileScanStatus }) {
  const { file } = props;
  const result = file.result;
  if (!result) return <ScanBadge status={file.scan} />;
  const rank = { unsafe: 0, unknown: 1, clean: 2 } as const;
  const imports = [...result.imports].sort((a, b) => rank[a.verdict] - rank[b.verdict]);
  const shown = imports.slice(0, MAX_SHOWN_IMPORTS);
  return (
    <>
      <ScanBadge status={file.scan} /> <span class="muted small">{result.format}</span>
      {shown.length > 0 && (
        <ul class="scan-imports small">
          {shown.map((i) => (
            <li class={`scan-${i.verdict}`}>
              <code>{i.name}</code>
              {i.verdict !== "clean" && <strong> {i.verdict}</strong>}
              {i.via === "reach" && <span class="muted"> (reached through a resolver)</span>}
              {i.entry && <span class="muted"> in {i.entry}</span>}
            </li>
          ))}
          {imports.length > shown.length && <li class="muted">and {imports.length - shown.length} more</li>}
        </ul>
      )}
      {result.reasons.length > 0 && (
        <ul class="scan-reasons small">
          {result.reasons.map((r) => (
            <li>{r}</li>
          ))}
        </ul>
      )}
    </>
  );
}

function KeyValues(props: { rows: Tag[]; empty: string; caption: string }) {
  if (props.rows.length === 0) return <p class="muted">{props.empty}</p>;
  return (
    <table class="kv">
      <caption class="sr">{props.caption}</caption>
      <thead>
        <tr>
          <th scope="col">Key</th>
          <th scope="col">Value</th>
        </tr>
      </thead>
      <tbody>
        {props.rows.map((r) => (
          <tr>
            <th scope="row">
              <code>{r.key}</code>
            </th>
            <td class="hash">{r.value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** One metric: its latest value, and its per-step curve when more than one step was logged. */
function MetricCard(props: {
  metric: Metric;
  points: { step: number; value: number; timestamp: number }[];
  index: number;
}) {
  const { metric: m } = props;
  const curve = curveOf(props.points);
  const values = curve.map((p) => p.value);
  const drawn = downsample(curve, 160);
  const first = curve[0];
  const last = curve.at(-1);
  const stepped = curve.length > 1 && first !== undefined && last !== undefined;
  const id = `metric-${props.index}`;
  return (
    <figure class="metric-card" aria-labelledby={`${id}-caption`}>
      <figcaption id={`${id}-caption`}>
        <code>{m.key}</code> <strong>{formatNumber(m.value)}</strong>
        <span class="muted small">
          {stepped
            ? ` · ${curve.length} steps (${first.step}–${last.step}) · min ${formatNumber(Math.min(...values))} · max ${formatNumber(Math.max(...values))}`
            : ` · step ${m.step}`}
        </span>
      </figcaption>
      {stepped && (
        <StepChart
          id={id}
          small
          title={`${m.key} by step: ${curve.length} steps from ${first.step} to ${last.step}, first ${formatNumber(first.value)}, last ${formatNumber(last.value)}`}
          series={[{ label: m.key, colour: seriesColour(0), points: drawn }]}
        />
      )}
    </figure>
  );
}

function Metrics(props: { metrics: Metric[]; history: MetricHistory | null }) {
  if (props.metrics.length === 0) return <p class="muted">The run logged no metrics.</p>;
  const sorted = [...props.metrics].sort((a, b) => a.key.localeCompare(b.key));
  const pointsOf = (m: Metric) => props.history?.byKey.get(m.key) ?? [];
  // A metric logged at one step is a number, not a curve: those are listed together, first.
  const curved = sorted.filter((m) => curveOf(pointsOf(m)).length > 1);
  const single = sorted.filter((m) => !curved.includes(m));
  return (
    <>
      {single.length > 0 && (
        <table class="kv">
          <caption class="sr">Metrics logged at one step</caption>
          <thead>
            <tr>
              <th scope="col">Metric</th>
              <th scope="col">Value</th>
              <th scope="col">Step</th>
            </tr>
          </thead>
          <tbody>
            {single.map((m) => (
              <tr>
                <th scope="row">
                  <code>{m.key}</code>
                </th>
                <td class="num">{formatNumber(m.value)}</td>
                <td class="num">{m.step}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {curved.length > 0 && (
        <div class="metric-cards">
          {curved.map((m, i) => (
            <MetricCard metric={m} index={i} points={pointsOf(m)} />
          ))}
        </div>
      )}
      {props.history?.truncated && (
        <p class="muted small">The run logged more points than are drawn here; the curves end early.</p>
      )}
      {sorted.some((m) => !plottable(m.value)) && <p class="muted small">NaN and infinite values are not drawn.</p>}
    </>
  );
}

/** Promote, demote, archive and aliases for this one version; only what the person may do, and only what the version may take. */
function Actions(props: { version: ModelVersion; allowed: Set<UiAction>; csrf: string }) {
  const { version: v, allowed, csrf } = props;
  const name = v.name;
  const servable = isServable(v.status);
  const choices = allowed.has("stage") ? stageChoices(v) : [];
  const canAlias = allowed.has("setAlias") && servable;
  const canRemove = allowed.has("deleteAlias") && v.aliases.length > 0;
  if (choices.length === 0 && !canAlias && !canRemove) return null;
  return (
    <section aria-labelledby="actions" class="panel actions">
      <h2 id="actions">Actions</h2>
      {!servable && (
        <p class="muted">
          Only a READY version may enter Staging or Production or take an alias; this one is {v.status}.
        </p>
      )}
      <div class="action-row">
        {choices.length > 0 && (
          <form method="post" action={actionHref(name, "stage")} class="inline">
            <CsrfField token={csrf} />
            <input type="hidden" name="version" value={String(v.version)} />
            <input type="hidden" name="back" value={String(v.version)} />
            <label for="stage">Move to</label>
            <select id="stage" name="stage" required>
              {choices.map((s) => (
                <option value={s}>{s}</option>
              ))}
            </select>
            <button type="submit" class="primary">
              Move version {v.version}
            </button>
          </form>
        )}
        {canAlias && (
          <form method="post" action={actionHref(name, "aliases")} class="inline">
            <CsrfField token={csrf} />
            <input type="hidden" name="version" value={String(v.version)} />
            <input type="hidden" name="back" value={String(v.version)} />
            <label for="alias-name">Alias</label>
            <input id="alias-name" name="alias" required maxlength={255} placeholder="champion" size={12} />
            <button type="submit">Point alias here</button>
          </form>
        )}
      </div>
      {canRemove && (
        <p>
          {v.aliases.map((a) => (
            <form method="post" action={actionHref(name, "aliases/delete")} class="inline">
              <CsrfField token={csrf} />
              <input type="hidden" name="alias" value={a} />
              <input type="hidden" name="back" value={String(v.version)} />
              <span class="chip alias">@{a}</span>
              <button type="submit" class="link" aria-label={`Remove alias ${a}`}>
                remove
              </button>
            </form>
          ))}
        </p>
      )}
    </section>
  );
}

export function VersionPage(props: VersionPageProps) {
  const { version: v, run, files } = props.lineage;
  const name = v.name;
  const resolveUrl = `${props.origin}/v1/models/${encodeURIComponent(name)}/${v.version}`;
  const systemTags = run ? run.tags.filter((t) => t.key.startsWith("mlflow.")) : [];
  const userTags = run ? run.tags.filter((t) => !t.key.startsWith("mlflow.")) : [];
  const scans = props.scan ? new Map(props.scan.files.map((f) => [f.path, f])) : null;
  return (
    <>
      <h1>
        {name} · version {v.version} <StageBadge stage={v.currentStage} />
        {props.scan && (
          <>
            {" "}
            <ScanBadge status={props.scan.scan} />
          </>
        )}
      </h1>
      <dl class="facts">
        <dt>Status</dt>
        <dd>
          <StatusBadge version={v} />
          {v.statusMessage && <span class="muted"> — {v.statusMessage}</span>}
        </dd>
        {props.scan && (
          <>
            <dt>Pickle scan</dt>
            <dd>
              <a href="#files">
                <ScanBadge status={props.scan.scan} />
              </a>
              {props.scan.override && (
                <span class="muted">
                  {" "}
                  — promotion allowed by {props.scan.override.actor}'s override: {props.scan.override.reason}
                </span>
              )}
            </dd>
          </>
        )}
        <dt>Aliases</dt>
        <dd>
          {v.aliases.length === 0 ? (
            <span class="muted">—</span>
          ) : (
            v.aliases.map((a) => <span class="chip alias">@{a}</span>)
          )}
        </dd>
        <dt>Run</dt>
        <dd>
          {run ? (
            <a href="#run">
              <strong>{run.run.runName || run.run.runId}</strong>
            </a>
          ) : v.runId ? (
            <code>{v.runId}</code>
          ) : (
            <span class="muted">none</span>
          )}
          {run && <span class="muted"> ({run.run.status.toLowerCase()})</span>}
        </dd>
        <dt>Source</dt>
        <dd>
          <a href="#files" class="mono" title={v.source}>
            {shortSource(v.source)}
          </a>
        </dd>
        <dt>Created</dt>
        <dd>
          <Time ms={v.creationTime} />
          {v.userId && ` by ${v.userId}`}
        </dd>
        {v.description && (
          <>
            <dt>Description</dt>
            <dd>{v.description}</dd>
          </>
        )}
        {v.tags.length > 0 && (
          <>
            <dt>Version tags</dt>
            <dd>
              <Tags tags={v.tags} />
            </dd>
          </>
        )}
      </dl>

      <Actions version={v} allowed={props.allowed} csrf={props.csrf} />

      <section aria-labelledby="lineage">
        <h2 id="lineage">Lineage</h2>
        {!run ? (
          <Empty>
            <p>
              {v.runId
                ? `The run ${v.runId} is not logged in this registry, so its parameters and metrics are unknown.`
                : "This version names no run."}
            </p>
          </Empty>
        ) : (
          <>
            <dl class="facts" id="run">
              <dt>Run</dt>
              <dd>
                {run.run.runName ? <strong>{run.run.runName}</strong> : null} <code class="hash">{run.run.runId}</code>{" "}
                ({run.run.status.toLowerCase()})
              </dd>
              <dt>Experiment</dt>
              <dd>
                {run.experiment.name} <span class="muted">(id {run.experiment.experimentId})</span>
              </dd>
              <dt>Started</dt>
              <dd>
                <Time ms={run.run.startTime} />
                {run.run.userId && ` by ${run.run.userId}`}
                {run.run.endTime !== null && run.run.startTime !== null && (
                  <span class="muted"> · ran {duration(run.run.endTime - run.run.startTime)}</span>
                )}
              </dd>
            </dl>
            <div class="lineage-grid">
              <div>
                <h3>Parameters</h3>
                <KeyValues
                  rows={[...run.params].sort((a, b) => a.key.localeCompare(b.key))}
                  empty="The run logged no parameters."
                  caption="Parameters"
                />
              </div>
              <div>
                <h3>Metrics</h3>
                <Metrics metrics={run.metrics} history={props.history} />
              </div>
            </div>
            <h3>Run tags</h3>
            <KeyValues rows={userTags} empty="No tags besides MLflow's own." caption="Run tags" />
            {systemTags.length > 0 && (
              <details>
                <summary>MLflow system tags ({systemTags.length})</summary>
                <KeyValues rows={systemTags} empty="" caption="MLflow system tags" />
              </details>
            )}
          </>
        )}
      </section>

      <section aria-labelledby="use">
        <h2 id="use">Use this version</h2>
        <Snippet
          id="snippet-python"
          label="Python (MLflow client, MLFLOW_TRACKING_URI set to this registry)"
          text={`mlflow.pyfunc.load_model(${pythonString(`models:/${name}/${v.version}`)})`}
        />
        {run && (
          <Snippet
            id="snippet-run"
            label="The run that produced it, in Python"
            text={`mlflow.get_run(${pythonString(run.run.runId)})`}
          />
        )}
        <Snippet id="snippet-resolve" label="Resolve over HTTP (version and file manifest as JSON)" text={resolveUrl} />
        <Snippet
          id="snippet-cli"
          label="Download with the CLI (every sha256 verified)"
          text={`npx modelgate pull ${shellQuote(`${name}@${v.version}`)} ./model`}
        />
      </section>

      <section aria-labelledby="files">
        <h2 id="files">Files</h2>
        {files.length > 0 && (
          <p class="muted">
            Registered from <code class="hash">{v.source}</code>
            {v.storageLocation && v.storageLocation !== v.source && (
              <>
                , stored at <code class="hash">{v.storageLocation}</code>
              </>
            )}
            .
          </p>
        )}
        {files.length === 0 ? (
          <Empty>
            <p>This version has no files in Modelgate's store.</p>
            <p>
              It was registered from <code class="hash">{v.source}</code>, which Modelgate does not hold; the client
              downloads it from there.
            </p>
          </Empty>
        ) : (
          <>
            <div class="scroll">
              <table class="stack">
                <thead>
                  <tr>
                    <th scope="col">Path</th>
                    <th scope="col">Size</th>
                    <th scope="col">sha256</th>
                    {scans && <th scope="col">Scan</th>}
                  </tr>
                </thead>
                <tbody>
                  {files.map((f) => (
                    <tr>
                      <td data-label="Path">
                        <a href={props.downloads.get(f.path)} download>
                          {f.path}
                        </a>
                      </td>
                      <td data-label="Size">
                        <span title={`${f.size} bytes`}>{formatBytes(f.size)}</span>
                      </td>
                      <td data-label="sha256" class="mono hash">
                        {f.sha256}
                      </td>
                      {scans && (
                        <td data-label="Scan">
                          {scans.has(f.path) ? (
                            <FileScanCell file={scans.get(f.path)!} />
                          ) : (
                            <ScanBadge status="pending" />
                          )}
                        </td>
                      )}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <p class="muted">
              {files.length} file{files.length === 1 ? "" : "s"}, {formatBytes(files.reduce((n, f) => n + f.size, 0))}
              {props.archiveUrl && (
                <>
                  {" · "}
                  <a href={props.archiveUrl}>Download all as .tar</a>
                </>
              )}
            </p>
          </>
        )}
      </section>
      <p>
        <a href={modelHref(name)}>← All versions of {name}</a>
      </p>
    </>
  );
}
