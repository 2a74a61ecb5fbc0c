import type { Tag } from "../../domain/model";
import type { Metric } from "../../domain/tracking";
import type { VersionLineage } from "../../services/lineage-service";
import { Empty, modelHref, Snippet, StageBadge, StatusBadge, Tags, Time } from "../components";
import { formatBytes, formatNumber, pythonString, shellQuote } from "../format";

export interface VersionPageProps {
  lineage: VersionLineage;
  /** The download URL of each file, by path (signed when access control is on). */
  downloads: Map<string, string>;
  /** The tar of all files, or null when the version has none. */
  archiveUrl: string | null;
  origin: string;
}

function KeyValues(props: { rows: Tag[]; empty: string; caption: string }) {
  if (props.rows.length === 0) return <p class="muted">{props.empty}</p>;
  return (
    <table>
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

function Metrics(props: { metrics: Metric[] }) {
  if (props.metrics.length === 0) return <p class="muted">The run logged no metrics.</p>;
  return (
    <table>
      <caption class="sr">Metrics</caption>
      <thead>
        <tr>
          <th scope="col">Metric</th>
          <th scope="col">Value</th>
          <th scope="col">Step</th>
        </tr>
      </thead>
      <tbody>
        {[...props.metrics]
          .sort((a, b) => a.key.localeCompare(b.key))
          .map((m) => (
            <tr>
              <th scope="row">
                <code>{m.key}</code>
              </th>
              <td>{formatNumber(m.value)}</td>
              <td>{m.step}</td>
            </tr>
          ))}
      </tbody>
    </table>
  );
}

export function VersionPage(props: VersionPageProps) {
  const { version: v, run, files } = props.lineage;
  const name = v.name;
  const resolveUrl = `${props.origin}/v1/models/${encodeURIComponent(name)}/${v.version}`;
  const systemTags = run ? run.tags.filter((t) => t.key.startsWith("mlflow.")) : [];
  const userTags = run ? run.tags.filter((t) => !t.key.startsWith("mlflow.")) : [];
  return (
    <>
      <h1>
        {name} · version {v.version} <StageBadge stage={v.currentStage} />
      </h1>
      <dl class="facts">
        <dt>Status</dt>
        <dd>
          <StatusBadge version={v} />
          {v.statusMessage && <span class="muted"> — {v.statusMessage}</span>}
        </dd>
        <dt>Aliases</dt>
        <dd>{v.aliases.length === 0 ? <span class="muted">—</span> : v.aliases.map((a) => <span class="chip">@{a}</span>)}</dd>
        <dt>Source</dt>
        <dd class="mono hash">{v.source}</dd>
        {v.storageLocation && v.storageLocation !== v.source && (
          <>
            <dt>Stored at</dt>
            <dd class="mono hash">{v.storageLocation}</dd>
          </>
        )}
        <dt>Created</dt>
        <dd>
          <Time ms={v.creationTime} />
          {v.userId && ` by ${v.userId}`}
        </dd>
        <dt>Updated</dt>
        <dd>
          <Time ms={v.lastUpdatedTime} />
        </dd>
        <dt>Description</dt>
        <dd>{v.description || <span class="muted">none</span>}</dd>
        <dt>Version tags</dt>
        <dd>
          <Tags tags={v.tags} />
        </dd>
      </dl>

      <section aria-labelledby="use">
        <h2 id="use">Use this version</h2>
        <Snippet id="snippet-python" label="Python (MLflow client, MLFLOW_TRACKING_URI set to this registry)" text={`mlflow.pyfunc.load_model(${pythonString(`models:/${name}/${v.version}`)})`} />
        <Snippet id="snippet-resolve" label="Resolve over HTTP (version and file manifest as JSON)" text={resolveUrl} />
        <Snippet id="snippet-cli" label="Download with the CLI (every sha256 verified)" text={`npx modelgate pull ${shellQuote(`${name}@${v.version}`)} ./model`} />
      </section>

      <section aria-labelledby="files">
        <h2 id="files">Files</h2>
        {files.length === 0 ? (
          <Empty>
            <p>This version has no files in Modelgate's store.</p>
            <p>
              It was registered from <code>{v.source}</code>, which Modelgate does not hold; the client downloads it from there.
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

      <section aria-labelledby="lineage">
        <h2 id="lineage">Lineage</h2>
        {!run ? (
          <Empty>
            <p>{v.runId ? `The run ${v.runId} is not logged in this registry, so its parameters and metrics are unknown.` : "This version names no run."}</p>
          </Empty>
        ) : (
          <>
            <dl class="facts">
              <dt>Run</dt>
              <dd>
                {run.run.runName ? <strong>{run.run.runName}</strong> : null} <code>{run.run.runId}</code> ({run.run.status.toLowerCase()})
              </dd>
              <dt>Experiment</dt>
              <dd>
                {run.experiment.name} <span class="muted">(id {run.experiment.experimentId})</span>
              </dd>
              <dt>Started</dt>
              <dd>
                <Time ms={run.run.startTime} />
                {run.run.userId && ` by ${run.run.userId}`}
              </dd>
              <dt>Ended</dt>
              <dd>
                <Time ms={run.run.endTime} />
              </dd>
            </dl>
            <div class="grid">
              <div>
                <h3>Parameters</h3>
                <KeyValues rows={[...run.params].sort((a, b) => a.key.localeCompare(b.key))} empty="The run logged no parameters." caption="Parameters" />
              </div>
              <div>
                <h3>Metrics</h3>
                <Metrics metrics={run.metrics} />
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
      <p>
        <a href={modelHref(name)}>← All versions of {name}</a>
      </p>
    </>
  );
}
