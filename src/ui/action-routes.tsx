import { Hono, type Context } from "hono";
import { RegistryError } from "../errors";
import { parseVersion, validateAlias } from "../domain/limits";
import { parseStage } from "../domain/stages";
import { STATUS_BY_CODE } from "../http/error-codes";
import type { AppEnv } from "../http/context";
import { mayPerform, type UiAction } from "./access";
import { actionHref, modelHref, versionHref } from "./components";
import { KEY_METRICS_TAG, MAX_PINNED_METRICS, pinnedValue } from "./metrics";
import { CSRF_FIELD, csrfToken, verifyCsrf } from "./csrf";
import { setFlash } from "./flash";
import { renderPage } from "./layout";
import { ConfirmPage, type Confirmation } from "./pages/confirm-page";

// The targets of the UI's forms: guard (same scope as the API), CSRF check, one service call,
// then POST-redirect-GET back to the model with a message. Actions that change what Production
// serves, or remove something, first answer with a confirmation page; only its form (carrying
// confirmed=yes) performs them.

type Form = Record<string, string>;
type Outcome = { done: string } | { confirm: Omit<Confirmation, "action" | "fields" | "cancelHref"> };

export const actionRoutes = new Hono<AppEnv>();

/** A field sent more than once (a group of checkboxes) arrives as its values joined by newlines. */
const LIST_SEPARATOR = "\n";

async function readForm(c: Context<AppEnv>): Promise<Form> {
  const body = await c.req.parseBody({ all: true });
  const form: Form = {};
  for (const [key, value] of Object.entries(body)) {
    if (typeof value === "string") form[key] = value;
    else if (Array.isArray(value))
      form[key] = value.filter((v): v is string => typeof v === "string").join(LIST_SEPARATOR);
  }
  return form;
}

/**
 * Where the person goes after the action: the version page the form was on (`back=<version>`), or
 * the model page. Only a version number is accepted, so the field cannot send anyone elsewhere.
 */
function backTo(model: string, form: Form): string {
  if (form.back && /^[1-9]\d{0,9}$/.test(form.back)) return versionHref(model, form.back);
  return modelHref(model);
}

const confirmed = (form: Form) => form.confirmed === "yes";
const optionalComment = (form: Form) => (form.comment?.trim() ? form.comment.trim() : undefined);

/**
 * Registers one action: `run` either performs it (returning the message to show) or asks for
 * confirmation. Refusals by the registry's rules come back as a message on the model page; a
 * model or version that does not exist is a 404 page; anything else is a 500.
 */
function action(
  path: string,
  name: UiAction,
  run: (c: Context<AppEnv>, model: string, form: Form) => Promise<Outcome>,
) {
  actionRoutes.post(`/ui/actions/models/:name/${path}`, mayPerform(name), verifyCsrf, async (c) => {
    const model = c.req.param("name");
    const form = await readForm(c);
    let outcome: Outcome;
    try {
      outcome = await run(c, model, form);
    } catch (error) {
      if (!(error instanceof RegistryError) || STATUS_BY_CODE[error.code] >= 500 || STATUS_BY_CODE[error.code] === 404)
        throw error;
      setFlash(c, { kind: "error", text: error.message });
      return c.redirect(backTo(model, form), 303);
    }
    if ("done" in outcome) {
      setFlash(c, { kind: "ok", text: outcome.done });
      return c.redirect(backTo(model, form), 303);
    }
    const fields = Object.fromEntries(
      Object.entries(form).filter(([k]) => k !== CSRF_FIELD && k !== "confirmed" && k !== "comment"),
    );
    const confirmation: Confirmation = {
      ...outcome.confirm,
      action: actionHref(model, path),
      fields,
      cancelHref: backTo(model, form),
    };
    return renderPage(
      c,
      { title: outcome.confirm.title, crumbs: [["Models", "/"], [model, modelHref(model)], ["confirm"]] },
      <ConfirmPage {...confirmation} csrf={await csrfToken(c)} />,
    );
  });
}

const productionWarning = (model: string) =>
  `${model} will have no version in Production: anything that loads models:/${model}/Production fails until another version is promoted.`;

action("stage", "stage", async (c, model, form) => {
  const { registry } = c.var.services;
  const stage = parseStage(form.stage ?? "");
  const number = parseVersion(form.version ?? "");
  const [version, [production]] = await Promise.all([
    registry.getVersion(model, String(number)),
    registry.getLatestVersions(model, ["Production"]),
  ]);
  const leavesProduction = version.currentStage === "Production" && stage !== "Production";
  if ((stage === "Production" || stage === "Archived" || leavesProduction) && !confirmed(form)) {
    const verb = stage === "Archived" ? "Archive" : stage === "Production" ? "Promote" : "Move";
    return {
      confirm: {
        title: `${verb} version ${number} of ${model}${stage === "Archived" ? "" : ` to ${stage}`}?`,
        confirmLabel: stage === "Archived" ? `Archive version ${number}` : `${verb} version ${number} to ${stage}`,
        comment: true,
        consequences: (
          <>
            <p>
              Version {number} moves from {version.currentStage} to {stage}.
            </p>
            {stage === "Production" && (
              <p>
                models:/{model}/Production and /v1/models/{model}/Production resolve to version {number} from now on
                (other edge locations within the resolution TTL).{" "}
                {production && production.version !== number
                  ? `Version ${production.version}, in Production now, will be archived.`
                  : !production && `${model} has no Production version now.`}
              </p>
            )}
            {leavesProduction && <p>{productionWarning(model)}</p>}
          </>
        ),
      },
    };
  }
  const moved = await registry.transitionStage({
    name: model,
    version: String(number),
    stage,
    archiveExisting: false,
    actor: c.var.actor,
    comment: optionalComment(form),
    caller: c.var.principal,
  });
  const archived =
    stage === "Production" && production && production.version !== number
      ? ` Version ${production.version} was archived.`
      : "";
  return { done: `Version ${number} moved from ${version.currentStage} to ${moved.currentStage}.${archived}` };
});

action("rollback", "rollback", async (c, model, form) => {
  const expected = form.expected ? parseVersion(form.expected) : undefined;
  if (!confirmed(form)) {
    const plan = await c.var.services.registry.previewRollback(model);
    if (expected !== undefined && plan.current !== expected) {
      throw new RegistryError(
        "RESOURCE_CONFLICT",
        `Production of '${model}' changed since the page was loaded: version ${plan.current} is in Production now. Nothing was rolled back.`,
      );
    }
    form.expected = String(plan.current);
    return {
      confirm: {
        title: `Roll back Production of ${model} to version ${plan.target}?`,
        confirmLabel: `Roll back to version ${plan.target}`,
        comment: true,
        consequences: (
          <>
            <p>
              Version {plan.target}, the previous Production version, is promoted back to Production; version{" "}
              {plan.current}, in Production now, is archived.
            </p>
            <p>The history records it as “rollback to version {plan.target}”.</p>
          </>
        ),
      },
    };
  }
  const done = await c.var.services.registry.rollback({
    name: model,
    actor: c.var.actor,
    expectedCurrent: expected,
    comment: optionalComment(form),
    caller: c.var.principal,
  });
  return {
    done: `Rolled back: version ${done.restored.version} is in Production again; version ${done.archived} was archived.`,
  };
});

action("aliases", "setAlias", async (c, model, form) => {
  const { registry } = c.var.services;
  const alias = validateAlias((form.alias ?? "").trim());
  const number = parseVersion(form.version ?? "");
  const existing = (await registry.getModel(model)).aliases.find((a) => a.alias === alias);
  if (existing && existing.version !== number && !confirmed(form)) {
    form.alias = alias;
    return {
      confirm: {
        title: `Move @${alias} from version ${existing.version} to version ${number}?`,
        confirmLabel: `Move @${alias} to version ${number}`,
        consequences: (
          <p>
            Anything that loads models:/{model}@{alias} gets version {number} instead of version {existing.version} from
            now on.
          </p>
        ),
      },
    };
  }
  await registry.setAlias(model, alias, String(number), c.var.actor);
  return {
    done: `@${alias} now points at version ${number}${existing && existing.version !== number ? ` (it pointed at version ${existing.version})` : ""}.`,
  };
});

action("aliases/delete", "deleteAlias", async (c, model, form) => {
  const { registry } = c.var.services;
  const alias = form.alias ?? "";
  const existing = (await registry.getModel(model)).aliases.find((a) => a.alias === alias);
  if (!existing) throw new RegistryError("INVALID_PARAMETER_VALUE", `${model} has no alias @${alias}.`);
  if (!confirmed(form)) {
    return {
      confirm: {
        title: `Remove alias @${alias}?`,
        confirmLabel: `Remove @${alias}`,
        consequences: (
          <p>
            @{alias} points at version {existing.version}. Once removed, anything that loads models:/{model}@{alias}{" "}
            fails.
          </p>
        ),
      },
    };
  }
  await registry.deleteAlias(model, alias, c.var.actor);
  return { done: `Alias @${alias} removed (it pointed at version ${existing.version}).` };
});

action("description", "description", async (c, model, form) => {
  await c.var.services.registry.updateModel(model, (form.description ?? "").replace(/\r\n/g, "\n"));
  return { done: "Description saved." };
});

action("tags", "setTag", async (c, model, form) => {
  const key = (form.key ?? "").trim();
  await c.var.services.registry.setModelTag(model, { key, value: form.value ?? "" }, c.var.actor);
  return { done: `Tag ${key} set.` };
});

action("tags/delete", "deleteTag", async (c, model, form) => {
  const key = form.key ?? "";
  const tag = (await c.var.services.registry.getModel(model)).tags.find((t) => t.key === key);
  if (!tag) throw new RegistryError("INVALID_PARAMETER_VALUE", `${model} has no tag ${key}.`);
  if (!confirmed(form)) {
    return {
      confirm: {
        title: `Remove tag ${key}?`,
        confirmLabel: `Remove tag ${key}`,
        consequences: (
          <p>
            The tag {key}
            {tag.value ? `=${tag.value}` : ""} is removed from {model}.
          </p>
        ),
      },
    };
  }
  await c.var.services.registry.deleteModelTag(model, key, c.var.actor);
  return { done: `Tag ${key} removed.` };
});

action("key-metrics", "pinMetrics", async (c, model, form) => {
  const { registry } = c.var.services;
  const keys = (form.metric ?? "").split(LIST_SEPARATOR).filter((k) => k.trim() !== "");
  if (keys.length > MAX_PINNED_METRICS)
    throw new RegistryError(
      "INVALID_PARAMETER_VALUE",
      `Pin at most ${MAX_PINNED_METRICS} metrics; ${keys.length} were chosen.`,
    );
  const value = pinnedValue(keys);
  if (value === "") {
    const pinned = (await registry.getModel(model)).tags.some((t) => t.key === KEY_METRICS_TAG);
    if (pinned) await registry.deleteModelTag(model, KEY_METRICS_TAG, c.var.actor);
    return { done: "No metrics pinned: the versions table shows the most-logged metrics." };
  }
  await registry.setModelTag(model, { key: KEY_METRICS_TAG, value }, c.var.actor);
  return { done: `Key metrics pinned: ${value.split(",").join(", ")}.` };
});
