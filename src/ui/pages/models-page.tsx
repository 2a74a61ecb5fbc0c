import type { RegisteredModel } from "../../domain/model";
import { Aliases, Empty, modelHref, StageBadge, Tags, Time, versionHref } from "../components";

export interface ModelsPageProps {
  query: string;
  models: RegisteredModel[];
  nextPageToken: string | null;
  /** Whether this is a later page (a "first page" link is offered). */
  paged: boolean;
}

const pageHref = (query: string, token?: string) => {
  const params = new URLSearchParams();
  if (query) params.set("q", query);
  if (token) params.set("page_token", token);
  const text = params.toString();
  return text ? `/?${text}` : "/";
};

function StageCell(props: { model: RegisteredModel; stage: "Production" | "Staging" }) {
  const version = props.model.latestVersions.find((v) => v.currentStage === props.stage);
  if (!version) return <span class="muted">—</span>;
  return (
    <a href={versionHref(props.model.name, version.version)}>
      <StageBadge stage={props.stage} /> v{version.version}
    </a>
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
          <Empty>
            <p>No models are registered yet.</p>
            <p>Register one from a training job with the MLflow client:</p>
            <pre>{`mlflow.sklearn.log_model(model, "model", registered_model_name="HousePricePredictor")`}</pre>
          </Empty>
        )
      ) : (
        <div class="scroll">
          <table class="stack">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Production</th>
                <th scope="col">Staging</th>
                <th scope="col">Aliases</th>
                <th scope="col">Tags</th>
                <th scope="col">Last update</th>
              </tr>
            </thead>
            <tbody>
              {models.map((m) => (
                <tr>
                  <td data-label="Name">
                    <a href={modelHref(m.name)}>
                      <strong>{m.name}</strong>
                    </a>
                    {m.description && <div class="muted">{m.description.length > 140 ? `${m.description.slice(0, 140)}…` : m.description}</div>}
                  </td>
                  <td data-label="Production">
                    <StageCell model={m} stage="Production" />
                  </td>
                  <td data-label="Staging">
                    <StageCell model={m} stage="Staging" />
                  </td>
                  <td data-label="Aliases">
                    <Aliases aliases={m.aliases} />
                  </td>
                  <td data-label="Tags">
                    <Tags tags={m.tags} limit={4} />
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
