import type { RegisteredModel } from "../../domain/model";
import { Aliases, Empty, modelHref, Snippet, StageBadge, Tags, Time, versionHref } from "../components";
import { formatNumber, shellQuote } from "../format";
import { KEY_METRICS_TAG } from "../metrics";

/** A model's row: the model, how many versions it has, and its live versions with the key metric's value. */
export interface ModelSummary {
  model: RegisteredModel;
  versions: number;
  /** The model's key metric (pinned, else the most-logged), or null when its runs logged none. */
  keyMetric: string | null;
  production: LiveVersion | null;
  staging: LiveVersion | null;
}

interface LiveVersion {
  version: number;
  /** The key metric's latest value in the version's run; null when it has none. */
  value: number | null;
}

export interface ModelsPageProps {
  query: string;
  models: ModelSummary[];
  nextPageToken: string | null;
  /** Whether this is a later page (a "first page" link is offered). */
  paged: boolean;
  /** This server's origin, as the browser reached it: what MLFLOW_TRACKING_URI should be. */
  origin: string;
  authEnabled: boolean;
}

const pageHref = (query: string, token?: string) => {
  const params = new URLSearchParams();
  if (query) params.set("q", query);
  if (token) params.set("page_token", token);
  const text = params.toString();
  return text ? `/?${text}` : "/";
};

function LiveCell(props: {
  name: string;
  stage: "Production" | "Staging";
  live: LiveVersion | null;
  keyMetric: string | null;
}) {
  const live = props.live;
  if (!live) return <span class="muted">—</span>;
  return (
    <>
      <a href={versionHref(props.name, live.version)}>
        <StageBadge stage={props.stage} /> v{live.version}
      </a>
      {props.keyMetric !== null && live.value !== null && (
        <div class="metric small">
          <span class="muted">{props.keyMetric}</span> <strong>{formatNumber(live.value)}</strong>
        </div>
      )}
    </>
  );
}

/** What a first-time user needs: this server as the tracking URI, and three lines that register a model. */
function GettingStarted(props: { origin: string; authEnabled: boolean }) {
  const env = [
    `export MLFLOW_TRACKING_URI=${shellQuote(props.origin)}`,
    ...(props.authEnabled ? ["export MLFLOW_TRACKING_TOKEN=mg_…   # a token with the write scope"] : []),
  ];
  const python = [
    "import mlflow",
    "with mlflow.start_run():",
    '    mlflow.sklearn.log_model(model, "model", registered_model_name="my-model")',
  ];
  return (
    <div class="getting-started">
      <h2>Register your first model</h2>
      <p>Point the MLflow client at this server:</p>
      <Snippet id="snippet-tracking-uri" label="In the shell that runs your training script" text={env.join("\n")} />
      <p>then log a model with a registered name, and it appears here:</p>
      <Snippet
        id="snippet-register"
        label="Python, in the training script (any flavour: sklearn, pytorch, pyfunc …)"
        text={python.join("\n")}
      />
      <p class="muted">
        Already logged a run? <code>{'mlflow.register_model("runs:/<run_id>/model", "my-model")'}</code> registers it.
      </p>
    </div>
  );
}

export function ModelsPage(props: ModelsPageProps) {
  const { query, models } = props;
  return (
    <>
      <h1>{query ? `Models matching “${query}”` : "Models"}</h1>
      {models.length === 0 ? (
        query ? (
          <Empty>
            <p>No model name contains “{query}”.</p>
            <p>
              <a href="/">Show all models</a>
            </p>
          </Empty>
        ) : props.paged ? (
          <Empty>
            <p>No more models.</p>
            <p>
              <a href="/">Back to the first page</a>
            </p>
          </Empty>
        ) : (
          <>
            <p class="muted">No models are registered yet.</p>
            <GettingStarted origin={props.origin} authEnabled={props.authEnabled} />
          </>
        )
      ) : (
        <div class="scroll">
          <table class="stack models">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col" class="num">
                  Versions
                </th>
                <th scope="col">Production</th>
                <th scope="col">Staging</th>
                <th scope="col">Aliases</th>
                <th scope="col">Tags</th>
                <th scope="col">Last update</th>
              </tr>
            </thead>
            <tbody>
              {models.map(({ model: m, ...s }) => (
                <tr>
                  <td data-label="Name">
                    <a href={modelHref(m.name)}>
                      <strong>{m.name}</strong>
                    </a>
                    {m.description && (
                      <div class="muted">
                        {m.description.length > 140 ? `${m.description.slice(0, 140)}…` : m.description}
                      </div>
                    )}
                  </td>
                  <td data-label="Versions" class="num">
                    {s.versions}
                  </td>
                  <td data-label="Production">
                    <LiveCell name={m.name} stage="Production" live={s.production} keyMetric={s.keyMetric} />
                  </td>
                  <td data-label="Staging">
                    <LiveCell name={m.name} stage="Staging" live={s.staging} keyMetric={s.keyMetric} />
                  </td>
                  <td data-label="Aliases">
                    <Aliases aliases={m.aliases} />
                  </td>
                  <td data-label="Tags">
                    <Tags tags={m.tags.filter((t) => t.key !== KEY_METRICS_TAG)} limit={3} />
                  </td>
                  <td data-label="Last update">
                    <Time ms={m.lastUpdatedTime} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {(props.nextPageToken || props.paged) && (
        <nav class="pager" aria-label="Pages">
          {props.paged && <a href={pageHref(query)}>First page</a>}
          {props.nextPageToken && (
            <a href={pageHref(query, props.nextPageToken)} rel="next">
              Next page
            </a>
          )}
        </nav>
      )}
    </>
  );
}
