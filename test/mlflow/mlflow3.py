"""What only an MLflow 3 client does: logged models, the prompt registry, webhooks, run search by
dataset, and the 3.x error codes and limits. Run with the 3.5.1 client only."""

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression

import harness as h
import mlflow
from mlflow import MlflowClient
from mlflow.entities.webhook import VALID_ENTITY_ACTIONS

checks = h.Checks("mlflow3")
client = MlflowClient()
X = np.array([[0.0], [1.0], [2.0], [3.0]])
PROBE = np.array([[10.0]])

# name: (slope, params, metric acc, tags); created in this order
LOGGED = {
    "lm-a": (1.0, {"alpha": "0.1"}, 0.7, {"stage": "dev"}),
    "lm-b": (2.0, {"alpha": "0.5"}, 0.9, {"stage": "prod"}),
    "lm-c": (3.0, {"alpha": "0.5"}, 0.8, {"stage": "dev"}),
}


def names(models):
    return [m.name for m in models]


# --- logged models ------------------------------------------------------------------------------
@checks.check("log_model(name=...) creates READY logged models (m-...) with params, tags and model metrics", key="logged")
def _():
    exp = mlflow.set_experiment(h.name("logged-models"))
    ids, runs = {}, {}
    for lm, (slope, params, acc, tags) in LOGGED.items():
        # one run each: log_model copies the run's metrics onto the model it logs
        with mlflow.start_run() as run:
            model = LinearRegression().fit(X, slope * X[:, 0])
            info = mlflow.sklearn.log_model(model, name=lm, params=params, tags=tags)
            mlflow.log_metric("acc", acc, model_id=info.model_id)
        ids[lm], runs[lm] = info.model_id, run.info.run_id
    checks.ctx.update(exp=exp.experiment_id, ids=ids, runs=runs)
    for lm, model_id in ids.items():
        h.expect(model_id.startswith("m-"), f"model_id of {lm}: {model_id!r}")
        got = client.get_logged_model(model_id)
        h.expect_eq(got.name, lm, "name")
        h.expect_eq(str(got.status), "READY", f"status of {lm}")
        h.expect_eq(got.source_run_id, runs[lm], f"source_run_id of {lm}")
        h.expect_eq(got.params, LOGGED[lm][1], f"params of {lm}")
        h.expect_eq({k: v for k, v in got.tags.items() if not k.startswith("mlflow.")}, LOGGED[lm][3], f"tags of {lm}")
        h.expect_eq([(m.key, m.value) for m in got.metrics or []], [("acc", LOGGED[lm][2])], f"metrics of {lm}")


@checks.check("log_model copies the metrics the run logged before it onto the logged model")
def _():
    mlflow.set_experiment(h.name("logged-models-copy"))
    with mlflow.start_run():
        mlflow.log_metric("rmse", 0.25)
        info = mlflow.sklearn.log_model(LinearRegression().fit(X, X[:, 0]), name="lm-copy")
    got = client.get_logged_model(info.model_id)
    h.expect_eq([(m.key, m.value) for m in got.metrics or []], [("rmse", 0.25)], "metrics of the logged model")


def search(**kwargs):
    return names(mlflow.search_logged_models(experiment_ids=[checks.ctx["exp"]], output_format="list", **kwargs))


@checks.check("search_logged_models with one condition on params, metrics, tags, name, and IN", requires=["logged"])
def _():
    def found(f):
        return sorted(search(filter_string=f))

    h.expect_eq(found("params.alpha = '0.5'"), ["lm-b", "lm-c"], "params.alpha = '0.5'")
    h.expect_eq(found("metrics.acc > 0.75"), ["lm-b", "lm-c"], "metrics.acc > 0.75")
    h.expect_eq(found("tags.stage = 'prod'"), ["lm-b"], "tags.stage = 'prod'")
    h.expect_eq(found("name = 'lm-a'"), ["lm-a"], "name = 'lm-a'")
    h.expect_eq(found("params.alpha IN ('0.1', '0.9')"), ["lm-a"], "params.alpha IN (...)")
    h.expect_eq(found("tags.stage IN ('dev', 'qa')"), ["lm-a", "lm-c"], "tags.stage IN (...)")


# MLflow 3.5.1's own server, on this machine's Debian packages, refuses every AND here
# ("Expected a list of comparisons separated by 'AND'"): its bug, not the contract.
@checks.check("search_logged_models with conditions joined by AND", requires=["logged"])
def _():
    h.expect_eq(sorted(search(filter_string="params.alpha = '0.5' AND metrics.acc < 0.85")), ["lm-c"], "params AND metrics")


@checks.check("search_logged_models order_by attributes (creation_time, name) and paging with max_results", requires=["logged"])
def _():
    h.expect_eq(search(order_by=[{"field_name": "creation_time", "ascending": True}]), ["lm-a", "lm-b", "lm-c"], "order by creation_time ASC")
    h.expect_eq(search(order_by=[{"field_name": "name", "ascending": False}]), ["lm-c", "lm-b", "lm-a"], "order by name DESC")
    exp = [checks.ctx["exp"]]
    first = client.search_logged_models(exp, max_results=2, order_by=[{"field_name": "name"}])
    h.expect_eq(names(first), ["lm-a", "lm-b"], "first page of 2")
    h.expect(first.token, "first page has no next page token")
    second = client.search_logged_models(exp, max_results=2, order_by=[{"field_name": "name"}], page_token=first.token)
    h.expect_eq(names(second), ["lm-c"], "second page")


# MLflow 3.5.1's own server, on Debian's SQLAlchemy 1.4, answers this with BAD_REQUEST
# ("Column expression or FROM clause expected"): its bug, not the contract.
@checks.check("search_logged_models order_by a metric", requires=["logged"])
def _():
    h.expect_eq(search(order_by=[{"field_name": "metrics.acc", "ascending": False}]), ["lm-b", "lm-c", "lm-a"], "order by metrics.acc DESC")


@checks.check("logged-model tags and params: set_logged_model_tags, delete_logged_model_tag, log_model_params", requires=["logged"])
def _():
    model_id = checks.ctx["ids"]["lm-a"]
    client.set_logged_model_tags(model_id, {"reviewed": "yes", "owner": "ana"})
    client.delete_logged_model_tag(model_id, "owner")
    client.log_model_params(model_id, {"extra": "1"})
    got = client.get_logged_model(model_id)
    h.expect_eq(got.tags.get("reviewed"), "yes", "tag set")
    h.expect("owner" not in got.tags, "deleted tag still there")
    h.expect_eq(got.params, {"alpha": "0.1", "extra": "1"}, "params")


@checks.check("models:/m-<id> loads; register_model(models:/m-<id>) gives a version that loads", requires=["logged"])
def _():
    model_id = checks.ctx["ids"]["lm-b"]
    h.expect_eq(float(mlflow.pyfunc.load_model(f"models:/{model_id}").predict(PROBE)[0]), 20.0, "prediction of models:/m-<id>")
    n = h.name("from-logged")
    mv = mlflow.register_model(f"models:/{model_id}", n)
    h.expect_eq((mv.version, mv.status), ("1", "READY"), "registered version")
    got = client.get_model_version(n, "1")
    h.expect_eq(got.source, f"models:/{model_id}", "source of the version")  # MLflow's server leaves model_id out
    h.expect_eq(got.run_id, checks.ctx["runs"]["lm-b"], "run_id filled from the logged model")
    h.expect_eq(float(mlflow.pyfunc.load_model(f"models:/{n}/1").predict(PROBE)[0]), 20.0, "prediction of models:/<name>/1")


# --- prompt registry ----------------------------------------------------------------------------
SHORT = "Summarize {{text}} in {{n}} words."
SHORT_V2 = "Summarize {{text}} in at most {{n}} words, politely."
LONG = "You are a careful assistant. " * 200 + "Answer about {{topic}}."  # 5,800+ characters


@checks.check("register_prompt: a short prompt, then a second version; load_prompt by version", key="prompt")
def _():
    p = h.name("prompt-short")
    v1 = mlflow.genai.register_prompt(p, SHORT, commit_message="first")
    v2 = mlflow.genai.register_prompt(p, SHORT_V2, commit_message="second")
    h.expect_eq((v1.version, v2.version), (1, 2), "versions")
    h.expect_eq(mlflow.genai.load_prompt(f"prompts:/{p}/1").template, SHORT, "template of version 1")
    loaded = mlflow.genai.load_prompt(p, version=2)
    h.expect_eq(loaded.template, SHORT_V2, "template of version 2")
    h.expect_eq(loaded.format(text="the report", n=5), "Summarize the report in at most 5 words, politely.", "formatted")
    checks.ctx["prompt"] = p


@checks.check("register_prompt of a prompt longer than 5,000 characters; it loads back whole")
def _():
    h.expect(len(LONG) > 5000, "the long prompt is not long")
    p = h.name("prompt-long")
    mlflow.genai.register_prompt(p, LONG)
    h.expect_eq(mlflow.genai.load_prompt(f"prompts:/{p}/1").template, LONG, "template")


@checks.check("prompt aliases: set, load by @alias, move, delete", requires=["prompt"])
def _():
    p = checks.ctx["prompt"]
    mlflow.genai.set_prompt_alias(p, "production", 1)
    h.expect_eq(mlflow.genai.load_prompt(f"prompts:/{p}@production").template, SHORT, "@production -> 1")
    mlflow.genai.set_prompt_alias(p, "production", 2)
    h.expect_eq(mlflow.genai.load_prompt(f"prompts:/{p}@production").version, 2, "@production -> 2")
    mlflow.genai.delete_prompt_alias(p, "production")
    h.expect_eq(mlflow.genai.load_prompt(f"prompts:/{p}@production", allow_missing=True), None, "load by a deleted alias")


@checks.check("search_prompts finds the prompts by name", requires=["prompt"])
def _():
    found = names(mlflow.genai.search_prompts(filter_string=f"name LIKE '{h.PREFIX}-prompt-%'"))
    h.expect(checks.ctx["prompt"] in found, f"{checks.ctx['prompt']} not in {found}")


@checks.check("prompts are hidden from search_registered_models (a plain model beside them is found)", requires=["prompt"])
def _():
    model = h.name("prompt-not-a-prompt")  # a plain model the same search must find
    client.create_registered_model(model)
    found = names(client.search_registered_models(filter_string=f"name LIKE '{h.PREFIX}-prompt-%'"))
    h.expect_eq(found, [model], "registered models found by name LIKE '<prefix>-prompt-%'")


@checks.check("prompt versions are hidden from search_model_versions", requires=["prompt"])
def _():
    found = [(m.name, m.version) for m in client.search_model_versions(f"name = '{checks.ctx['prompt']}'")]
    h.expect_eq(found, [], "model versions of the prompt found")


# --- webhooks -----------------------------------------------------------------------------------
HOOK_URL = "https://127.0.0.1:9/modelgate-check"  # MLflow's server takes https only; nothing listens there
EVENTS = sorted(f"{entity.value}.{action.value}" for entity, actions in VALID_ENTITY_ACTIONS.items() for action in actions)


@checks.check(f"create_webhook for each of MLflow 3.5.1's {len(EVENTS)} events, and one with all of them; get, list, update, delete")
def _():
    h.expect_eq(len(VALID_ENTITY_ACTIONS), 9, "entities MLflow 3.5.1 defines")
    created, refused, first_refusal = [], [], None
    try:
        for event in EVENTS:
            try:
                wh = client.create_webhook(name=h.name(f"wh-{event}"), url=HOOK_URL, events=[event])
            except Exception as e:
                refused.append(event)
                first_refusal = first_refusal or f"{getattr(e, 'error_code', type(e).__name__)}: {getattr(e, 'message', e)}"
                continue
            created.append(wh.webhook_id)
            h.expect_eq([f"{e.entity}.{e.action}" for e in wh.events], [event], "events of the created webhook")
            h.expect_eq(str(wh.status), "ACTIVE", "status")
        h.expect(not refused, f"refused {len(refused)} of {len(EVENTS)} events: {', '.join(refused)} (first refusal: {first_refusal})")
        everything = client.create_webhook(name=h.name("wh-all"), url=HOOK_URL, events=EVENTS,
                                           description="every event", secret="s3cret")
        created.append(everything.webhook_id)
        h.expect_eq(sorted(f"{e.entity}.{e.action}" for e in client.get_webhook(everything.webhook_id).events), EVENTS, "events read back")
        listed = {w.webhook_id for w in client.list_webhooks(max_results=100)}
        h.expect(set(created) <= listed, "list_webhooks misses created webhooks")
        updated = client.update_webhook(everything.webhook_id, status="DISABLED", description="off")
        h.expect_eq((str(updated.status), updated.description), ("DISABLED", "off"), "after update")
    finally:
        for webhook_id in created:
            client.delete_webhook(webhook_id)
    h.expect_error("RESOURCE_DOES_NOT_EXIST", lambda: client.get_webhook(created[-1]), "get of a deleted webhook")


# --- datasets -----------------------------------------------------------------------------------
@checks.check("log_input of a dataset; search_runs by dataset.name, dataset.digest and dataset.context")
def _():
    exp = mlflow.set_experiment(h.name("datasets"))
    train = mlflow.data.from_pandas(pd.DataFrame({"x": [1, 2, 3], "y": [2, 4, 6]}), name=h.name("houses-train"), targets="y")
    other = mlflow.data.from_pandas(pd.DataFrame({"x": [9], "y": [9]}), name=h.name("houses-other"), targets="y")
    with mlflow.start_run() as run:
        mlflow.log_input(train, context="training")
    with mlflow.start_run():
        mlflow.log_input(other, context="eval")
    got = client.get_run(run.info.run_id).inputs.dataset_inputs
    h.expect_eq([(d.dataset.name, d.dataset.digest) for d in got], [(train.name, train.digest)], "the run's dataset inputs")

    def found(f):
        return [r.info.run_id for r in mlflow.search_runs([exp.experiment_id], filter_string=f, output_format="list")]

    h.expect_eq(found(f"dataset.name = '{train.name}'"), [run.info.run_id], "dataset.name")
    h.expect_eq(found(f"dataset.digest = '{train.digest}'"), [run.info.run_id], "dataset.digest")
    h.expect_eq(found(f"dataset.context = 'training'"), [run.info.run_id], "dataset.context")


# --- 3.x error codes and limits -----------------------------------------------------------------
@checks.check("errors (3.x): RESOURCE_DOES_NOT_EXIST for a missing logged model, webhook and prompt version")
def _():
    h.expect_error("RESOURCE_DOES_NOT_EXIST", lambda: client.get_logged_model("m-0123456789abcdef0123456789abcdef"), "get_logged_model")
    h.expect_error("RESOURCE_DOES_NOT_EXIST", lambda: client.get_webhook("0123456789abcdef0123456789abcdef"), "get_webhook")
    p = h.name("prompt-errors")
    mlflow.genai.register_prompt(p, "Hi {{x}}")
    h.expect_error("RESOURCE_DOES_NOT_EXIST", lambda: mlflow.genai.load_prompt(f"prompts:/{p}/7"), "load_prompt of a missing version")


@checks.check("errors (3.x): INVALID_PARAMETER_VALUE for bad logged-model and dataset filters and a webhook event MLflow does not define")
def _():
    exp = mlflow.set_experiment(h.name("errors3")).experiment_id
    h.expect_error("INVALID_PARAMETER_VALUE", lambda: client.search_logged_models([exp], filter_string="params.alpha ~ 'x'"), "search_logged_models bad filter")
    h.expect_error("INVALID_PARAMETER_VALUE", lambda: mlflow.search_runs([exp], filter_string="dataset.colour = 'red'"), "search_runs on dataset.colour")
    # The client refuses such an event itself; MLflow's server answers 400 for an action the entity lacks.
    status, body = h.raw("POST", "/api/2.0/mlflow/webhooks", json={"name": h.name("bad-wh"), "url": HOOK_URL,
                                                                    "events": [{"entity": "MODEL_VERSION_TAG", "action": "CREATED"}]})
    h.expect_eq((status, body.get("error_code") if isinstance(body, dict) else body), (400, "INVALID_PARAMETER_VALUE"), "raw create_webhook with model_version_tag.created")


@checks.check("limits (3.x): a 100,000-character model-version tag value is accepted, 100,001 is INVALID_PARAMETER_VALUE")
def _():
    n = h.name("limits")
    client.create_registered_model(n)
    mlflow.set_experiment(h.name("limits"))
    with mlflow.start_run() as run:
        mlflow.log_text("x", "m/file.txt")
    client.create_model_version(n, f"{run.info.artifact_uri}/m", run.info.run_id)
    client.set_model_version_tag(n, "1", "long", "v" * 100_000)
    h.expect_eq(len(client.get_model_version(n, "1").tags["long"]), 100_000, "length read back")
    h.expect_error("INVALID_PARAMETER_VALUE", lambda: client.set_model_version_tag(n, "1", "longer", "v" * 100_001), "a 100,001-character value")


checks.run()
