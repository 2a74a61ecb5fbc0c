import type { ModelVersion, RegisteredModel, StageTransition } from "../../domain/model";
import { STAGES } from "../../domain/stages";
import type { UiAction } from "../access";
import { actionHref, CsrfField, Empty, modelHref, StageBadge, StatusBadge, Time, versionHref } from "../components";
import { shortId } from "../format";
import type { PolicyRecord } from "../../domain/promotion-policy";
import { PolicySection } from "./policy-section";

export type RollbackOffer = { current: number; target: number } | { unavailable: string };

export interface ModelPageProps {
  model: RegisteredModel;
  versions: ModelVersion[];
  versionsNext: string | null;
  historyPage: string | undefined;
  history: StageTransition[];
  historyNext: string | null;
  versionsPage: string | undefined;
  rollback: RollbackOffer;
  /** The model's promotion policy (undefined: not shown). */
  policy?: PolicyRecord | null;
  allowed: Set<UiAction>;
  csrf: string;
}

function pageLink(name: string, params: Record<string, string | undefined>) {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) query.set(k, v);
  const text = query.toString();
  return `${modelHref(name)}${text ? `?${text}` : ""}`;
}

function VersionRow(props: { model: RegisteredModel; version: ModelVersion; allowed: Set<UiAction>; csrf: string }) {
  const { model, version: v, allowed } = props;
  const stageAction = actionHref(model.name, "stage");
  return (
    <tr>
      <td data-label="Compare">
        <input type="checkbox" name="v" value={String(v.version)} form="compare-form" aria-label={`Compare version ${v.version}`} />
      </td>
      <td data-label="Version">
        <a href={versionHref(model.name, v.version)}>
          <strong>Version {v.version}</strong>
        </a>
      </td>
      <td data-label="Stage">
        <StageBadge stage={v.currentStage} />
      </td>
      <td data-label="Aliases">
        {v.aliases.length === 0 ? <span class="muted">—</span> : v.aliases.map((a) => <span class="chip alias">@{a}</span>)}
      </td>
      <td data-label="Source run">
        {v.runId ? (
          <a href={`${versionHref(model.name, v.version)}#lineage`} title={v.runId}>
            <code>{shortId(v.runId)}</code>
          </a>
        ) : (
          <span class="muted">none</span>
        )}
        <div class="muted mono hash">{v.source}</div>
      </td>
      <td data-label="Created">
        <Time ms={v.creationTime} />
      </td>
      <td data-label="Status">
        <StatusBadge version={v} />
      </td>
      {allowed.has("stage") && (
        <td data-label="Actions">
          <form method="post" action={stageAction} class="inline">
            <CsrfField token={props.csrf} />
            <input type="hidden" name="version" value={String(v.version)} />
            <label class="sr" for={`stage-${v.version}`}>
              New stage for version {v.version}
            </label>
            <select id={`stage-${v.version}`} name="stage" required>
              <option value="" disabled selected>
                Move to…
              </option>
              {STAGES.filter((s) => s !== v.currentStage && s !== "Archived").map((s) => (
                <option value={s}>{s}</option>
              ))}
            </select>
            <button type="submit" aria-label={`Move version ${v.version}`}>
              Move
            </button>
          </form>{" "}
          {v.currentStage !== "Archived" && (
            <form method="post" action={stageAction} class="inline">
              <CsrfField token={props.csrf} />
              <input type="hidden" name="version" value={String(v.version)} />
              <input type="hidden" name="stage" value="Archived" />
              <button type="submit" class="danger" aria-label={`Archive version ${v.version}`}>
                Archive
              </button>
            </form>
          )}
        </td>
      )}
    </tr>
  );
}

function Timeline(props: { history: StageTransition[] }) {
  return (
    <ol class="timeline" aria-label="Stage transitions, newest first">
      {props.history.map((t) => (
        <li class={`to-${t.toStage}`}>
          <Time ms={t.timestamp} /> · <strong>version {t.version}</strong>: <StageBadge stage={t.fromStage} /> → <StageBadge stage={t.toStage} /> by{" "}
          <strong>{t.actor}</strong>
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
  const { model, versions, allowed, csrf } = props;
  const name = model.name;
  const production = model.latestVersions.find((v) => v.currentStage === "Production");
  const staging = model.latestVersions.find((v) => v.currentStage === "Staging");
  const anyAction = allowed.has("stage");
  return (
    <>
      <h1>{name}</h1>
      <p>
        Production:{" "}
        {production ? (
          <a href={versionHref(name, production.version)}>
            <StageBadge stage="Production" /> version {production.version}
          </a>
        ) : (
          <span class="muted">none</span>
        )}
        {" · "}Staging:{" "}
        {staging ? (
          <a href={versionHref(name, staging.version)}>
            <StageBadge stage="Staging" /> version {staging.version}
          </a>
        ) : (
          <span class="muted">none</span>
        )}
        {" · "}
        <span class="muted">
          created <Time ms={model.creationTime} />, updated <Time ms={model.lastUpdatedTime} />
        </span>
      </p>

      <section aria-labelledby="about">
        <h2 id="about">Description</h2>
        {model.description ? <p>{model.description}</p> : <p class="muted">No description.</p>}
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
      </section>

      {allowed.has("rollback") && (
        <section class="panel" aria-labelledby="rollback">
          <h2 id="rollback">Roll back Production</h2>
          {"target" in props.rollback ? (
            <form method="post" action={actionHref(name, "rollback")} class="inline">
              <CsrfField token={csrf} />
              <input type="hidden" name="expected" value={String(props.rollback.current)} />
              <span>
                Version {props.rollback.current} is in Production; the previous Production version is {props.rollback.target}.
              </span>
              <button type="submit" class="danger">
                Roll back to version {props.rollback.target}…
              </button>
            </form>
          ) : (
            <p class="muted">{props.rollback.unavailable}</p>
          )}
        </section>
      )}

      {props.policy !== undefined && <PolicySection name={name} policy={props.policy} />}

      <section aria-labelledby="versions">
        <h2 id="versions">Versions</h2>
        {versions.length === 0 ? (
          <Empty>
            <p>No versions yet.</p>
            <p>
              Register one with <code>{`mlflow.register_model("runs:/<run_id>/model", ${JSON.stringify(name)})`}</code>.
            </p>
          </Empty>
        ) : (
          <>
            <form id="compare-form" method="get" action={`${modelHref(name)}/compare`}></form>
            <div class="scroll">
              <table class="stack">
                <thead>
                  <tr>
                    <th scope="col">
                      <span class="sr">Compare</span>
                    </th>
                    <th scope="col">Version</th>
                    <th scope="col">Stage</th>
                    <th scope="col">Aliases</th>
                    <th scope="col">Source run</th>
                    <th scope="col">Created</th>
                    <th scope="col">Status</th>
                    {anyAction && <th scope="col">Actions</th>}
                  </tr>
                </thead>
                <tbody>
                  {versions.map((v) => (
                    <VersionRow model={model} version={v} allowed={allowed} csrf={csrf} />
                  ))}
                </tbody>
              </table>
            </div>
            {versions.length >= 2 && (
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
            {props.versionsPage && <a href={pageLink(name, { history: props.historyPage })}>Newest versions</a>}
            {props.versionsNext && (
              <a href={pageLink(name, { versions_page: props.versionsNext, history: props.historyPage })} rel="next">
                Older versions
              </a>
            )}
          </nav>
        )}
      </section>

      <section aria-labelledby="aliases">
        <h2 id="aliases">Aliases</h2>
        {model.aliases.length === 0 ? (
          <p class="muted">No aliases. An alias names a version for deployments: models:/{name}@champion.</p>
        ) : (
          <ul>
            {model.aliases.map((a) => (
              <li>
                <span class="chip">@{a.alias}</span> → <a href={versionHref(name, a.version)}>version {a.version}</a>{" "}
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
        {allowed.has("setAlias") && versions.length > 0 && (
          <form method="post" action={actionHref(name, "aliases")} class="inline">
            <CsrfField token={csrf} />
            <label for="alias-name">Set alias</label>
            <input id="alias-name" name="alias" required maxlength={255} placeholder="champion" />
            <label for="alias-version">to version</label>
            <select id="alias-version" name="version">
              {versions.map((v) => (
                <option value={String(v.version)}>{v.version}</option>
              ))}
            </select>
            <button type="submit">Set alias</button>
          </form>
        )}
      </section>

      <section aria-labelledby="tags">
        <h2 id="tags">Tags</h2>
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
                  <td>{t.value}</td>
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
        {props.history.length === 0 ? <p class="muted">No stage transitions yet.</p> : <Timeline history={props.history} />}
        {(props.historyNext || props.historyPage) && (
          <nav class="pager" aria-label="History pages">
            {props.historyPage && <a href={pageLink(name, { versions_page: props.versionsPage })}>Newest transitions</a>}
            {props.historyNext && (
              <a href={pageLink(name, { history: props.historyNext, versions_page: props.versionsPage })} rel="next">
                Older transitions
              </a>
            )}
          </nav>
        )}
      </section>
    </>
  );
}
