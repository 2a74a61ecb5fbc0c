"""The seed workflow end to end, as a user runs it with the real client (2.x and 3.x)."""

import numpy as np
from sklearn.linear_model import LinearRegression

import harness as h
import mlflow
from mlflow import MlflowClient

checks = h.Checks("seed")
client = MlflowClient()
MODEL = h.name("seed")
X = np.array([[0.0], [1.0], [2.0], [3.0]])
PROBE = np.array([[10.0]])


def fitted(slope, intercept):
    return LinearRegression().fit(X, slope * X[:, 0] + intercept)


# version 1 predicts 2x+1 (21 at x=10), version 2 predicts 3x (30 at x=10)
MODELS = {"1": fitted(2.0, 1.0), "2": fitted(3.0, 0.0)}
EXPECTED = {v: float(m.predict(PROBE)[0]) for v, m in MODELS.items()}


def log_model(model):
    if h.MAJOR >= 3:
        return mlflow.sklearn.log_model(model, name="model", registered_model_name=MODEL)
    return mlflow.sklearn.log_model(model, "model", registered_model_name=MODEL)


def predicted(uri):
    return float(mlflow.pyfunc.load_model(uri).predict(PROBE)[0])


@checks.check("log_model(registered_model_name=...) twice registers versions 1 and 2, READY", key="registered")
def _():
    mlflow.set_experiment(h.name("seed-experiment"))
    runs = {}
    for version, model in MODELS.items():
        with mlflow.start_run() as run:
            mlflow.log_param("alpha", f"0.{version}")
            mlflow.log_metric("rmse", 0.5 + int(version))
            log_model(model)
            runs[version] = run.info.run_id
    checks.ctx["runs"] = runs
    found = {mv.version: mv for mv in client.search_model_versions(f"name = '{MODEL}'")}
    h.expect_eq(sorted(found), ["1", "2"], "versions found by search_model_versions")
    for version, mv in found.items():
        h.expect_eq(mv.status, "READY", f"status of version {version}")
        h.expect_eq(mv.current_stage, "None", f"stage of new version {version}")
        h.expect_eq(mv.run_id, runs[version], f"run_id of version {version}")


@checks.check("the runs' params and metrics read back", requires=["registered"])
def _():
    run = client.get_run(checks.ctx["runs"]["2"])
    h.expect_eq(run.data.params.get("alpha"), "0.2", "param alpha")
    h.expect_eq(run.data.metrics.get("rmse"), 2.5, "metric rmse")


@checks.check("stages: version 1 to Staging then Production, version 2 to Staging; get_latest_versions per stage",
              key="stages", requires=["registered"])
def _():
    client.transition_model_version_stage(MODEL, "1", "Staging")
    mv = client.transition_model_version_stage(MODEL, "1", "production")
    h.expect_eq(mv.current_stage, "Production", "stage answered by transition (stage names are case-insensitive)")
    client.transition_model_version_stage(MODEL, "2", "Staging")
    h.expect_eq([m.version for m in client.get_latest_versions(MODEL, ["Production"])], ["1"], "latest Production")
    h.expect_eq([m.version for m in client.get_latest_versions(MODEL, ["Staging"])], ["2"], "latest Staging")
    latest = {m.current_stage: m.version for m in client.get_registered_model(MODEL).latest_versions}
    h.expect_eq(latest.get("Production"), "1", "registered model's latest_versions[Production]")
    h.expect_eq(latest.get("Staging"), "2", "registered model's latest_versions[Staging]")


@checks.check("pyfunc.load_model('models:/<name>/Production') predicts with version 1",
              key="production", requires=["stages"])
def _():
    h.expect_eq(predicted(f"models:/{MODEL}/Production"), EXPECTED["1"], "prediction")


@checks.check("pyfunc.load_model('models:/<name>/1') and '/2' predict with their own version",
              requires=["registered"])
def _():
    h.expect_eq(predicted(f"models:/{MODEL}/1"), EXPECTED["1"], "prediction of /1")
    h.expect_eq(predicted(f"models:/{MODEL}/2"), EXPECTED["2"], "prediction of /2")


@checks.check("aliases: champion -> 2 reads back by alias, on the model and on the version",
              key="alias", requires=["registered"])
def _():
    client.set_registered_model_alias(MODEL, "champion", "2")
    h.expect_eq(client.get_model_version_by_alias(MODEL, "champion").version, "2", "version by alias")
    h.expect_eq(client.get_registered_model(MODEL).aliases, {"champion": "2"}, "registered model aliases")
    h.expect_eq(client.get_model_version(MODEL, "2").aliases, ["champion"], "version 2 aliases")


@checks.check("pyfunc.load_model('models:/<name>@champion') predicts with version 2",
              requires=["alias"])
def _():
    h.expect_eq(predicted(f"models:/{MODEL}@champion"), EXPECTED["2"], "prediction")


@checks.check("tags and descriptions on the model and a version: set, read back, delete",
              requires=["registered"])
def _():
    client.update_registered_model(MODEL, description="House prices, seed workflow")
    client.update_model_version(MODEL, "1", description="first fit")
    client.set_registered_model_tag(MODEL, "team", "pricing")
    client.set_model_version_tag(MODEL, "1", "validation", "passed")
    rm = client.get_registered_model(MODEL)
    h.expect_eq(rm.description, "House prices, seed workflow", "model description")
    h.expect_eq(rm.tags.get("team"), "pricing", "model tag")
    mv = client.get_model_version(MODEL, "1")
    h.expect_eq(mv.description, "first fit", "version description")
    h.expect_eq(mv.tags.get("validation"), "passed", "version tag")
    client.delete_registered_model_tag(MODEL, "team")
    client.delete_model_version_tag(MODEL, "1", "validation")
    h.expect("team" not in client.get_registered_model(MODEL).tags, "model tag still there after delete")
    h.expect("validation" not in client.get_model_version(MODEL, "1").tags, "version tag still there after delete")


@checks.check("promoting version 2 (archive_existing_versions=True): Production loads version 2, version 1 Archived",
              requires=["production"])
def _():
    client.transition_model_version_stage(MODEL, "2", "Production", archive_existing_versions=True)
    h.expect_eq(client.get_model_version(MODEL, "1").current_stage, "Archived", "version 1 stage")
    h.expect_eq(predicted(f"models:/{MODEL}/Production"), EXPECTED["2"], "prediction")


@checks.check("deleting the alias: get_model_version_by_alias answers INVALID_PARAMETER_VALUE",
              requires=["alias"])
def _():
    client.delete_registered_model_alias(MODEL, "champion")
    h.expect_error("INVALID_PARAMETER_VALUE", lambda: client.get_model_version_by_alias(MODEL, "champion"), "get by deleted alias")
    h.expect_eq(client.get_registered_model(MODEL).aliases, {}, "aliases after delete")


@checks.check("delete_registered_model: the model is gone (RESOURCE_DOES_NOT_EXIST)",
              requires=["registered"])
def _():
    client.delete_registered_model(MODEL)
    h.expect_error("RESOURCE_DOES_NOT_EXIST", lambda: client.get_registered_model(MODEL), "get after delete")


checks.run()
