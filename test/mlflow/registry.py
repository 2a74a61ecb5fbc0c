"""The registry through the real client (2.x and 3.x): models:/ URIs by number, stage, alias and
latest; search paging; rename; deletes; copy_model_version; MLflow error codes."""

import os

import harness as h
import mlflow
from mlflow import MlflowClient

checks = h.Checks("registry")
client = MlflowClient()
MODEL = h.name("reg")


def content(version):
    """Each version's files: distinguishable by content, with a nested non-ASCII path."""
    return {"weights.txt": f"weights of version {version}\n", "sub/paramètres.json": f'{{"v": {version}}}\n'}


def downloaded(uri):
    out = mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=h.scratch())
    return {rel: sha for rel, (_, sha) in h.local_tree(out).items()}


_source = {}


def source():
    """A small folder logged once, for versions whose content does not matter."""
    if "uri" not in _source:
        mlflow.set_experiment(h.name("registry-experiment"))
        d = h.scratch()
        h.write(os.path.join(d, "model", "weights.txt"), "any\n")
        with mlflow.start_run() as run:
            mlflow.log_artifacts(d)
        _source["uri"] = f"{run.info.artifact_uri}/model"
    return _source["uri"]


def expected_files(version):
    d = h.scratch()
    for rel, data in content(version).items():
        h.write(os.path.join(d, rel), data)
    return {rel: sha for rel, (_, sha) in h.local_tree(d).items()}


@checks.check("create_model_version from run artifacts: versions 1-3 READY with their source and run_id", key="versions")
def _():
    mlflow.set_experiment(h.name("registry-experiment"))
    src = h.scratch()
    for v in (1, 2, 3):
        for rel, data in content(v).items():
            h.write(os.path.join(src, f"v{v}", rel), data)
    with mlflow.start_run() as run:
        mlflow.log_artifacts(src)
    checks.ctx.update(run=run, src=src)
    client.create_registered_model(MODEL, tags={"team": "registry"}, description="registry checks")
    for v in (1, 2, 3):
        mv = client.create_model_version(MODEL, f"{run.info.artifact_uri}/v{v}", run.info.run_id)
        h.expect_eq(mv.version, str(v), "version number")
        h.expect_eq(mv.status, "READY", f"status of version {v}")
        h.expect_eq(mv.source, f"{run.info.artifact_uri}/v{v}", f"source of version {v}")
        h.expect_eq(mv.run_id, run.info.run_id, f"run_id of version {v}")


@checks.check("models:/<name>/1, /2, /3 download each version's own files byte for byte", requires=["versions"])
def _():
    for v in (1, 2, 3):
        h.expect_eq(downloaded(f"models:/{MODEL}/{v}"), expected_files(v), f"files of models:/{MODEL}/{v}")


@checks.check("models:/<name>/Staging and /Production follow stage transitions", key="stages", requires=["versions"])
def _():
    client.transition_model_version_stage(MODEL, "2", "Staging")
    client.transition_model_version_stage(MODEL, "3", "Production")
    h.expect_eq(downloaded(f"models:/{MODEL}/Staging"), expected_files(2), "files of /Staging")
    h.expect_eq(downloaded(f"models:/{MODEL}/Production"), expected_files(3), "files of /Production")
    client.transition_model_version_stage(MODEL, "1", "Production", archive_existing_versions=True)
    h.expect_eq(downloaded(f"models:/{MODEL}/Production"), expected_files(1), "files of /Production after promoting 1")
    h.expect_eq(client.get_model_version(MODEL, "3").current_stage, "Archived", "stage of version 3")


@checks.check("models:/<name>@alias follows the alias when it moves", requires=["versions"])
def _():
    client.set_registered_model_alias(MODEL, "prod", "2")
    h.expect_eq(downloaded(f"models:/{MODEL}@prod"), expected_files(2), "files of @prod -> 2")
    client.set_registered_model_alias(MODEL, "prod", "3")
    h.expect_eq(downloaded(f"models:/{MODEL}@prod"), expected_files(3), "files of @prod -> 3")
    h.expect_eq(client.get_model_version(MODEL, "2").aliases, [], "aliases of version 2 after the move")


@checks.check("models:/<name>/latest is the highest version", requires=["versions"])
def _():
    h.expect_eq(downloaded(f"models:/{MODEL}/latest"), expected_files(3), "files of /latest")


@checks.check("search_registered_models pages through 5 models with max_results=2 (tokens walked, order_by name)")
def _():
    prefix = h.name("page-")
    names = [f"{prefix}{i}" for i in range(5)]
    for n in reversed(names):
        client.create_registered_model(n)
    seen, sizes, token = [], [], None
    for _ in range(10):
        page = client.search_registered_models(filter_string=f"name LIKE '{prefix}%'", max_results=2,
                                               order_by=["name ASC"], page_token=token)
        sizes.append(len(page))
        seen += [m.name for m in page]
        token = page.token
        if not token:
            break
    h.expect_eq(seen, names, "names across pages, in name order")
    h.expect_eq(sizes, [2, 2, 1], "page sizes")
    everything = client.search_registered_models(filter_string=f"name LIKE '{prefix}%'", order_by=["name DESC"])
    h.expect_eq([m.name for m in everything], list(reversed(names)), "one page, name DESC")


@checks.check("search_model_versions pages through 5 versions with max_results=2 (tokens walked)")
def _():
    n = h.name("vpage")
    client.create_registered_model(n)
    for _ in range(5):
        client.create_model_version(n, source())
    seen, sizes, token = [], [], None
    for _ in range(10):
        page = client.search_model_versions(f"name = '{n}'", max_results=2, order_by=["version_number ASC"], page_token=token)
        sizes.append(len(page))
        seen += [m.version for m in page]
        token = page.token
        if not token:
            break
    h.expect_eq(seen, ["1", "2", "3", "4", "5"], "versions across pages")
    h.expect_eq(sizes, [2, 2, 1], "page sizes")


@checks.check("search filters: name LIKE/ILIKE and tags on models; run_id and name on versions", requires=["versions"])
def _():
    upper = MODEL.upper()
    h.expect_eq([m.name for m in client.search_registered_models(f"name ILIKE '{upper}'")], [MODEL], "name ILIKE")
    h.expect_eq([m.name for m in client.search_registered_models(f"name = '{MODEL}' AND tags.team = 'registry'")],
                [MODEL], "name and tag")
    h.expect_eq(client.search_registered_models(f"name = '{MODEL}' AND tags.team = 'other'"), [], "tag mismatch")
    run_id = checks.ctx["run"].info.run_id
    versions = sorted(m.version for m in client.search_model_versions(f"run_id = '{run_id}' AND name = '{MODEL}'"))
    h.expect_eq(versions, ["1", "2", "3"], "versions by run_id")


@checks.check("rename_registered_model: versions follow, the old name is gone, models:/<new>/1 downloads", key="rename", requires=["versions"])
def _():
    new = h.name("reg-renamed")
    client.set_registered_model_alias(MODEL, "prod", "3")
    client.rename_registered_model(MODEL, new)  # MlflowClient drops the answer (returns None)
    h.expect_eq(client.get_registered_model(new).name, new, "name of the renamed model")
    h.expect_eq(sorted(m.version for m in client.search_model_versions(f"name = '{new}'")), ["1", "2", "3"], "versions of the new name")
    h.expect_error("RESOURCE_DOES_NOT_EXIST", lambda: client.get_registered_model(MODEL), "get of the old name")
    h.expect_eq(downloaded(f"models:/{new}/1"), expected_files(1), "files of models:/<new>/1")
    h.expect_eq(client.get_model_version_by_alias(new, "prod").version, "3", "alias after rename")
    checks.ctx["model"] = new


@checks.check("rename onto a taken name answers RESOURCE_ALREADY_EXISTS and changes nothing", requires=["rename"])
def _():
    taken = h.name("reg-taken")
    client.create_registered_model(taken)
    h.expect_error("RESOURCE_ALREADY_EXISTS", lambda: client.rename_registered_model(checks.ctx["model"], taken), "rename onto a taken name")
    h.expect_eq(len(client.search_model_versions(f"name = '{checks.ctx['model']}'")), 3, "versions still under the old name")


@checks.check("copy_model_version('models:/<name>/1', new model): the copy downloads the original's files", requires=["rename"])
def _():
    src_uri = f"models:/{checks.ctx['model']}/1"
    dst = h.name("reg-copy")
    mv = client.copy_model_version(src_uri, dst)
    h.expect_eq((mv.name, mv.version), (dst, "1"), "the copy")
    h.expect_eq(downloaded(f"models:/{dst}/1"), expected_files(1), "files of the copy")
    mv2 = client.copy_model_version(f"models:/{checks.ctx['model']}/2", dst)
    h.expect_eq(mv2.version, "2", "second copy into the same model")
    h.expect_eq(downloaded(f"models:/{dst}/2"), expected_files(2), "files of the second copy")


# Stock MLflow 2.12 keeps the alias of a deleted version (its bug; Modelgate deletes it, as documented).
@checks.check("delete_model_version: gone, its alias goes with it, and its number is not reused", requires=["rename"])
def _():
    n = checks.ctx["model"]
    client.delete_model_version(n, "3")  # @prod points at 3
    h.expect_error("RESOURCE_DOES_NOT_EXIST", lambda: client.get_model_version(n, "3"), "get of the deleted version")
    h.expect_eq(client.get_registered_model(n).aliases, {}, "aliases of the model")
    h.expect_error("INVALID_PARAMETER_VALUE", lambda: client.get_model_version_by_alias(n, "prod"), "get by the deleted version's alias")
    mv = client.create_model_version(n, checks.ctx["run"].info.artifact_uri + "/v1", checks.ctx["run"].info.run_id)
    h.expect_eq(mv.version, "4", "number of the next version")


@checks.check("delete_registered_model: model, versions and models:/ URIs are gone", requires=["rename"])
def _():
    n = checks.ctx["model"]
    client.delete_registered_model(n)
    h.expect_error("RESOURCE_DOES_NOT_EXIST", lambda: client.get_registered_model(n), "get of the deleted model")
    h.expect_error("RESOURCE_DOES_NOT_EXIST", lambda: client.get_model_version(n, "1"), "get of a deleted model's version")
    h.expect_eq(client.search_model_versions(f"name = '{n}'"), [], "versions found by search")
    h.expect_error("RESOURCE_DOES_NOT_EXIST", lambda: downloaded(f"models:/{n}/1"), "download of models:/<deleted>/1")


# --- error codes: what the client branches on, and the HTTP status behind it ------------------
@checks.check("errors: RESOURCE_DOES_NOT_EXIST (404) for a missing model, version and run")
def _():
    missing = h.name("missing")
    h.expect_error("RESOURCE_DOES_NOT_EXIST", lambda: client.get_registered_model(missing), "get_registered_model")
    h.expect_error("RESOURCE_DOES_NOT_EXIST", lambda: client.create_model_version(missing, "mlflow-artifacts:/x"), "create_model_version of a missing model")
    h.expect_error("RESOURCE_DOES_NOT_EXIST", lambda: client.get_run("0123456789abcdef0123456789abcdef"), "get_run")
    existing = h.name("errors")
    client.create_registered_model(existing)
    h.expect_error("RESOURCE_DOES_NOT_EXIST", lambda: client.get_model_version(existing, "99"), "get_model_version 99")
    status, body = h.raw("GET", "/api/2.0/mlflow/registered-models/get", params={"name": missing})
    h.expect_eq((status, body.get("error_code") if isinstance(body, dict) else body), (404, "RESOURCE_DOES_NOT_EXIST"), "raw status and error_code")


@checks.check("errors: RESOURCE_ALREADY_EXISTS (400) for a duplicate registered model")
def _():
    n = h.name("dup")
    client.create_registered_model(n)
    h.expect_error("RESOURCE_ALREADY_EXISTS", lambda: client.create_registered_model(n), "create_registered_model twice")
    status, body = h.raw("POST", "/api/2.0/mlflow/registered-models/create", json={"name": n})
    h.expect_eq((status, body.get("error_code") if isinstance(body, dict) else body), (400, "RESOURCE_ALREADY_EXISTS"), "raw status and error_code")


@checks.check("errors: INVALID_PARAMETER_VALUE (400) for a bad stage, a missing alias, a reserved alias, a bad filter")
def _():
    n = h.name("invalid")
    client.create_registered_model(n)
    client.create_model_version(n, source())
    h.expect_error("INVALID_PARAMETER_VALUE", lambda: client.transition_model_version_stage(n, "1", "Bogus"), "transition to stage 'Bogus'")
    h.expect_error("INVALID_PARAMETER_VALUE", lambda: client.get_model_version_by_alias(n, "nope"), "get by a missing alias")
    h.expect_error("INVALID_PARAMETER_VALUE", lambda: client.set_registered_model_alias(n, "latest", "1"), "set the reserved alias 'latest'")
    h.expect_error("INVALID_PARAMETER_VALUE", lambda: client.search_registered_models("name ~ 'x'"), "search with a bad filter")
    h.expect_error("INVALID_PARAMETER_VALUE", lambda: client.search_model_versions("version_number >> 1"), "version search with a bad filter")
    status, body = h.raw("GET", "/api/2.0/mlflow/registered-models/alias", params={"name": n, "alias": "nope"})
    h.expect_eq((status, body.get("error_code") if isinstance(body, dict) else body), (400, "INVALID_PARAMETER_VALUE"), "raw status and error_code")


checks.run()
