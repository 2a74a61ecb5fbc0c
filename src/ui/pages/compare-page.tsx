import type { ModelVersion } from "../../domain/model";
import type { VersionLineage } from "../../services/lineage-service";
import { BarChart, seriesColour, seriesDash, StepChart, Swatch } from "../chart";
import { curveOf, downsample, metricDirection, plottable } from "../metrics";
import type { MetricHistory } from "../../domain/run-overview";
import { compareRows, defaultMetric, type ComparedRow } from "../compare";
import { compareHref, Empty, HiddenFields, StageBadge, Time, versionHref } from "../components";
import { formatNumber, shortId } from "../format";

export interface ComparePageProps {
  name: string;
  compared: VersionLineage[];
  /** Every logged point of the compared versions' runs, by run id. */
  histories: Map<string, MetricHistory>;
  metric: string | undefined;
  onlyDifferences: boolean;
}

function RowsTable<T>(props: {
  caption: string;
  rows: ComparedRow<T>[];
  versions: ModelVersion[];
  show: (value: T) => string;
  onlyDifferences: boolean;
}) {
  const rows = props.onlyDifferences ? props.rows.filter((r) => r.differs) : props.rows;
  if (props.rows.length === 0)
    return <p class="muted">None of these versions' runs logged any {props.caption.toLowerCase()}.</p>;
  if (rows.length === 0) return <p class="muted">All {props.caption.toLowerCase()} are the same.</p>;
  return (
    <div class="scroll">
      <table>
        <caption class="sr">{props.caption}</caption>
        <thead>
          <tr>
            <th scope="col">{props.caption === "Parameters" ? "Parameter" : "Metric"}</th>
            {props.versions.map((v) => (
              <th scope="col">Version {v.version}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr class={r.differs ? "differs" : undefined}>
              <th scope="row">
                <code>{r.key}</code>
                {r.differs && <span class="sr"> (differs)</span>}
              </th>
              {r.cells.map((cell) => (
                <td class="hash">{cell === null ? <span class="muted">—</span> : props.show(cell)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The chart of one metric: every compared version's per-step curve, and its final value as a bar. */
function MetricPanel(props: {
  name: string;
  metric: string;
  index: number;
  compared: VersionLineage[];
  histories: Map<string, MetricHistory>;
  finals: (number | null)[];
  hidden: boolean;
}) {
  const { metric, compared } = props;
  const series = compared.map((c, i) => {
    const runId = c.run?.run.runId;
    const points = runId ? curveOf(props.histories.get(runId)?.byKey.get(metric) ?? []) : [];
    return {
      version: c.version.version,
      label: `v${c.version.version}`,
      colour: seriesColour(i),
      dash: seriesDash(i),
      points: downsample(points, 200),
      steps: points.length,
      run: c.run?.run.runName ?? null,
    };
  });
  const curves = series.some((s) => s.steps > 1);
  const id = `m${props.index}`;
  const described = (s: (typeof series)[number], i: number) =>
    `${s.label}: ${props.finals[i] === null ? "no value" : formatNumber(props.finals[i]!)}${s.steps > 1 ? ` after ${s.steps} steps` : ""}`;
  return (
    <div class="metric-panel" data-panel="metric" data-value={metric} hidden={props.hidden}>
      <div class="chart-pair">
        <figure>
          <figcaption>
            <strong>{metric}</strong> per step
          </figcaption>
          {curves ? (
            <StepChart
              id={`${id}-steps`}
              title={`${metric} per step, one line per version: ${series.map(described).join("; ")}`}
              series={series}
            />
          ) : (
            <p class="muted chart-note">Each version logged {metric} at one step only: the bars show the values.</p>
          )}
        </figure>
        <figure>
          <figcaption>
            Final <strong>{metric}</strong> by version
            {metricDirection(metric) && <span class="muted"> ({metricDirection(metric)} is better)</span>}
          </figcaption>
          <BarChart
            id={`${id}-bars`}
            title={`Final ${metric} by version: ${series.map(described).join("; ")}`}
            bars={series.map((s, i) => ({ label: s.label, value: props.finals[i] ?? null, colour: s.colour }))}
          />
        </figure>
      </div>
      <ul class="legend" aria-label={`Versions in the ${metric} charts`}>
        {series.map((s, i) => (
          <li>
            <Swatch colour={s.colour} dash={s.dash} /> <a href={versionHref(props.name, s.version)}>{s.label}</a>
            {s.run && <span class="muted"> {s.run}</span>}:{" "}
            {props.finals[i] === null ? (
              <span class="muted">no value</span>
            ) : (
              <strong>{formatNumber(props.finals[i]!)}</strong>
            )}
            {s.steps > 1 && <span class="muted"> after {s.steps} steps</span>}
          </li>
        ))}
      </ul>
    </div>
  );
}

export function ComparePage(props: ComparePageProps) {
  const { name, compared } = props;
  const versions = compared.map((c) => c.version);
  const numbers = versions.map((v) => v.version);
  const params = compareRows(compared.map((c) => new Map((c.run?.params ?? []).map((p) => [p.key, p.value]))));
  const metrics = compareRows(
    compared.map((c) => new Map((c.run?.metrics ?? []).map((m) => [m.key, m.value]))),
    (a, b) => Object.is(a, b),
  );
  const metric = props.metric && metrics.some((m) => m.key === props.metric) ? props.metric : defaultMetric(metrics);
  const differing = params.filter((r) => r.differs).length + metrics.filter((r) => r.differs).length;
  const toggleHref = `${compareHref(name, numbers, metric)}${props.onlyDifferences ? "" : "&only=differences"}`;
  return (
    <>
      <h1>
        Compare {name}: versions {numbers.join(", ")}
      </h1>
      <div class="scroll">
        <table class="compared">
          <caption class="sr">Versions compared</caption>
          <thead>
            <tr>
              <th scope="col"></th>
              {versions.map((v, i) => (
                <th scope="col">
                  <Swatch colour={seriesColour(i)} dash={seriesDash(i)} />{" "}
                  <a href={versionHref(name, v.version)}>Version {v.version}</a>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            <tr>
              <th scope="row">Stage</th>
              {versions.map((v) => (
                <td>
                  <StageBadge stage={v.currentStage} />
                </td>
              ))}
            </tr>
            <tr>
              <th scope="row">Run</th>
              {compared.map((c) => (
                <td>
                  {c.run ? (
                    <a href={`${versionHref(name, c.version.version)}#run`} title={c.run.run.runId}>
                      {c.run.run.runName || <code>{shortId(c.run.run.runId)}</code>}
                    </a>
                  ) : (
                    <span class="muted">no run</span>
                  )}
                  {c.run && <span class="muted small"> {c.run.run.status.toLowerCase()}</span>}
                </td>
              ))}
            </tr>
            <tr>
              <th scope="row">Created</th>
              {versions.map((v) => (
                <td>
                  <Time ms={v.creationTime} />
                </td>
              ))}
            </tr>
          </tbody>
        </table>
      </div>
      <p>
        {differing === 0 ? (
          "Parameters and metrics are identical."
        ) : (
          <>
            <strong>{differing}</strong> {differing === 1 ? "row differs" : "rows differ"} between these versions
            (highlighted).
          </>
        )}{" "}
        <a href={toggleHref}>{props.onlyDifferences ? "Show all rows" : "Show only differences"}</a>
      </p>

      <section aria-labelledby="chart">
        <h2 id="chart">Metric charts</h2>
        {metrics.length === 0 ? (
          <Empty>
            <p>None of these versions has run metrics to chart.</p>
          </Empty>
        ) : (
          <>
            {/* Without script the form reloads the page; with it, the select switches the charts in place. */}
            <form method="get" action="compare" class="inline">
              <HiddenFields
                fields={{ versions: numbers.join(","), only: props.onlyDifferences ? "differences" : undefined }}
              />
              <label for="metric">Metric</label>
              <select id="metric" name="metric" data-switch="metric">
                {metrics.map((m) => (
                  <option value={m.key} selected={m.key === metric}>
                    {m.key}
                  </option>
                ))}
              </select>
              <button type="submit" data-noscript>
                Show
              </button>
            </form>
            {metrics.map((m, i) => (
              <MetricPanel
                name={name}
                metric={m.key}
                index={i}
                compared={compared}
                histories={props.histories}
                finals={m.cells.map((v) => (v !== null && plottable(v) ? v : null))}
                hidden={m.key !== metric}
              />
            ))}
          </>
        )}
      </section>

      <section aria-labelledby="params">
        <h2 id="params">Parameters</h2>
        <RowsTable
          caption="Parameters"
          rows={params}
          versions={versions}
          show={(v: string) => v}
          onlyDifferences={props.onlyDifferences}
        />
      </section>
      <section aria-labelledby="metrics">
        <h2 id="metrics">Metrics</h2>
        <RowsTable
          caption="Metrics"
          rows={metrics}
          versions={versions}
          show={formatNumber}
          onlyDifferences={props.onlyDifferences}
        />
      </section>
    </>
  );
}

/** Shown when the URL names fewer than two (or too many, or bad) versions: pick them here. */
export function ComparePicker(props: { name: string; versions: ModelVersion[]; problem: string | null }) {
  return (
    <>
      <h1>Compare versions of {props.name}</h1>
      {props.problem && (
        <p class="flash error" role="alert">
          {props.problem}
        </p>
      )}
      {props.versions.length < 2 ? (
        <Empty>
          <p>
            {props.name} has {props.versions.length === 0 ? "no versions" : "only one version"}; comparing needs two.
          </p>
        </Empty>
      ) : (
        <form method="get" action="compare">
          <fieldset>
            <legend>Pick two or more versions</legend>
            {props.versions.map((v) => (
              <div>
                <label>
                  <input type="checkbox" name="v" value={String(v.version)} /> Version {v.version}{" "}
                  <StageBadge stage={v.currentStage} />
                </label>
              </div>
            ))}
          </fieldset>
          <p>
            <button type="submit" class="primary">
              Compare
            </button>
          </p>
        </form>
      )}
    </>
  );
}
