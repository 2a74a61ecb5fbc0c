import type { ModelVersion } from "../../domain/model";
import type { VersionLineage } from "../../services/lineage-service";
import { MetricChart } from "../chart";
import { compareRows, defaultMetric, type ComparedRow } from "../compare";
import { compareHref, Empty, HiddenFields, StageBadge, Time, versionHref } from "../components";
import { formatNumber, shortId } from "../format";

export interface ComparePageProps {
  name: string;
  compared: VersionLineage[];
  metric: string | undefined;
  onlyDifferences: boolean;
}

function usableNumber(v: number) {
  return Number.isFinite(v) && Math.abs(v) < Number.MAX_VALUE;
}

function RowsTable<T>(props: { caption: string; rows: ComparedRow<T>[]; versions: ModelVersion[]; show: (value: T) => string; onlyDifferences: boolean }) {
  const rows = props.onlyDifferences ? props.rows.filter((r) => r.differs) : props.rows;
  if (props.rows.length === 0) return <p class="muted">None of these versions' runs logged any {props.caption.toLowerCase()}.</p>;
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
  const chartRow = metrics.find((m) => m.key === metric);
  const differing = params.filter((r) => r.differs).length + metrics.filter((r) => r.differs).length;
  const toggleHref = `${compareHref(name, numbers, metric)}${props.onlyDifferences ? "" : "&only=differences"}`;
  return (
    <>
      <h1>
        Compare {name}: versions {numbers.join(", ")}
      </h1>
      <div class="scroll">
        <table>
          <caption class="sr">Versions compared</caption>
          <thead>
            <tr>
              <th scope="col"></th>
              {versions.map((v) => (
                <th scope="col">
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
                    <span title={c.run.run.runId}>
                      {c.run.run.runName || <code>{shortId(c.run.run.runId)}</code>}
                    </span>
                  ) : (
                    <span class="muted">no run</span>
                  )}
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
            <strong>{differing}</strong> {differing === 1 ? "row differs" : "rows differ"} between these versions (highlighted).
          </>
        )}{" "}
        <a href={toggleHref}>{props.onlyDifferences ? "Show all rows" : "Show only differences"}</a>
      </p>

      <section aria-labelledby="chart">
        <h2 id="chart">Metric chart</h2>
        {metrics.length === 0 ? (
          <Empty>
            <p>None of these versions has run metrics to chart.</p>
          </Empty>
        ) : (
          <>
            <form method="get" action="compare" class="inline">
              <HiddenFields fields={{ versions: numbers.join(","), only: props.onlyDifferences ? "differences" : undefined }} />
              <label for="metric">Metric</label>
              <select id="metric" name="metric">
                {metrics.map((m) => (
                  <option value={m.key} selected={m.key === metric}>
                    {m.key}
                  </option>
                ))}
              </select>
              <button type="submit">Show</button>
            </form>
            {chartRow && metric && (
              <MetricChart
                metric={metric}
                points={chartRow.cells.map((value, i) => ({ label: `v${numbers[i]}`, value: value !== null && usableNumber(value) ? value : null }))}
              />
            )}
          </>
        )}
      </section>

      <section aria-labelledby="params">
        <h2 id="params">Parameters</h2>
        <RowsTable caption="Parameters" rows={params} versions={versions} show={(v: string) => v} onlyDifferences={props.onlyDifferences} />
      </section>
      <section aria-labelledby="metrics">
        <h2 id="metrics">Metrics</h2>
        <RowsTable caption="Metrics" rows={metrics} versions={versions} show={formatNumber} onlyDifferences={props.onlyDifferences} />
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
          <p>{props.name} has {props.versions.length === 0 ? "no versions" : "only one version"}; comparing needs two.</p>
        </Empty>
      ) : (
        <form method="get" action="compare">
          <fieldset>
            <legend>Pick two or more versions</legend>
            {props.versions.map((v) => (
              <div>
                <label>
                  <input type="checkbox" name="v" value={String(v.version)} /> Version {v.version} <StageBadge stage={v.currentStage} />
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
