"""Artifacts the way users store them: nested folders, non-ASCII and empty files, multipart uploads
with small thresholds; list and download round trips compared by sha256 (2.x and 3.x clients)."""

import os

import harness as h
import mlflow
from mlflow import MlflowClient
from mlflow.store.artifact.http_artifact_repo import HttpArtifactRepository

checks = h.Checks("artifacts")
client = MlflowClient()

# What the local folder holds, and so what the run must list and give back. MLflow's own servers on
# this machine fail some of these downloads (2.12.2's gunicorn drops the connection for the Japanese
# name, 3.5.1's uvicorn answers 500 for any non-ASCII name): their bugs, not the contract.
TREE = {
    "model/MLmodel": "flavors: {}\n",
    "model/data/weights/layer 1.bin": os.urandom(300 * 1024),
    "model/data/weights/deeper/still/deeper.txt": "four levels down\n",
    "données/résumé été.txt": "Prix des maisons — été\n",
    "données/日本語/モデル.json": '{"ok": true}\n',
    "empty.txt": b"",
    "empty-folder-sibling/zero.bin": b"",
}

# Multipart: the client switches on with these; parts of 5 MiB (R2's minimum part size). MLflow's own
# server with a local artifact store answers mpu/create with 501 NOT_IMPLEMENTED and the client falls
# back to one PUT, so there the "multipart calls" assertions fail by design.
MULTIPART_ENV = {
    "MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD": "true",
    "MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE": str(5 * h.MiB),
    "MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE": str(5 * h.MiB),
}

# Count the client's multipart calls, so a silent fallback to one PUT cannot pass as multipart.
multipart_calls = []
_create = HttpArtifactRepository.create_multipart_upload
_complete = HttpArtifactRepository.complete_multipart_upload


def _counting_create(self, local_file, num_parts=1, artifact_path=None):
    multipart_calls.append(("create", os.path.basename(local_file), artifact_path, num_parts))
    return _create(self, local_file, num_parts, artifact_path)


def _counting_complete(self, local_file, upload_id, parts=None, artifact_path=None):
    multipart_calls.append(("complete", os.path.basename(local_file), artifact_path, len(parts or [])))
    return _complete(self, local_file, upload_id, parts, artifact_path)


HttpArtifactRepository.create_multipart_upload = _counting_create
HttpArtifactRepository.complete_multipart_upload = _counting_complete


@checks.check("log_artifacts of nested folders, non-ASCII names and empty files: list_artifacts walks back every path and size", key="tree")
def _():
    mlflow.set_experiment(h.name("artifacts-experiment"))
    src = h.scratch()
    for rel, data in TREE.items():
        h.write(os.path.join(src, rel), data)
    with mlflow.start_run() as run:
        mlflow.log_artifacts(src, artifact_path="tree")
    checks.ctx.update(run_id=run.info.run_id, src=src, expected=h.local_tree(src))
    # MLflow's server leaves file_size out for an empty file (a proto3 default): None counts as 0
    listed = {p: size or 0 for p, size in h.listed_tree(client, run.info.run_id, "tree").items()}
    h.expect_eq(listed, {p: size for p, (size, _) in checks.ctx["expected"].items()}, "listed paths and sizes")


@checks.check("download_artifacts of the folder gives back every file byte for byte (sha256)", requires=["tree"])
def _():
    dst = h.scratch()
    out = mlflow.artifacts.download_artifacts(run_id=checks.ctx["run_id"], artifact_path="tree", dst_path=dst)
    h.expect_eq(h.local_tree(out), checks.ctx["expected"], "downloaded files (size, sha256)")


@checks.check("download of single files by path: non-ASCII, spaces, empty", requires=["tree"])
def _():
    for rel in ["données/résumé été.txt", "données/日本語/モデル.json", "model/data/weights/layer 1.bin", "empty.txt"]:
        dst = h.scratch()
        out = client.download_artifacts(checks.ctx["run_id"], f"tree/{rel}", dst)
        h.expect(os.path.isfile(out), f"{rel}: download did not produce a file ({out})")
        h.expect_eq((os.path.getsize(out), h.sha256_file(out)), checks.ctx["expected"][rel], f"{rel} (size, sha256)")


@checks.check("log_text and log_dict read back through load_text / load_dict")
def _():
    with mlflow.start_run() as run:
        mlflow.log_text("naïve text ✓\n", "notes/naïve.txt")
        mlflow.log_dict({"k": [1, 2, 3]}, "notes/config.json")
    base = run.info.artifact_uri
    h.expect_eq(mlflow.artifacts.load_text(f"{base}/notes/naïve.txt"), "naïve text ✓\n", "load_text")
    h.expect_eq(mlflow.artifacts.load_dict(f"{base}/notes/config.json"), {"k": [1, 2, 3]}, "load_dict")


def log_multipart(path, artifact_path):
    saved = {k: os.environ.get(k) for k in MULTIPART_ENV}
    os.environ.update(MULTIPART_ENV)
    try:
        multipart_calls.clear()
        mlflow.log_artifact(path, artifact_path=artifact_path)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@checks.check("multipart upload (proxy multipart on, 5 MiB threshold and parts) of a 12 MiB file with artifact_path='mp' lists as mp/big.bin with its size", key="multipart")
def _():
    src = h.scratch()
    big = os.path.join(src, "big.bin")
    h.write(big, os.urandom(12 * h.MiB + 12345))
    with mlflow.start_run() as run:
        log_multipart(big, "mp")
    checks.ctx.update(mp_run=run.info.run_id, big=big)
    h.expect_eq([c[0] for c in multipart_calls], ["create", "complete"], "multipart calls the client made (else it fell back to one PUT)")
    h.expect_eq(multipart_calls[0][3], 3, "parts the upload was split into")
    listed = {f.path: f.file_size for f in client.list_artifacts(run.info.run_id, "mp")}
    h.expect_eq(listed, {"mp/big.bin": os.path.getsize(big)}, "list_artifacts(run, 'mp')")
    root = {f.path: f.is_dir for f in client.list_artifacts(run.info.run_id)}
    h.expect_eq(root, {"mp": True}, "list_artifacts(run) at the root")


@checks.check("the multipart file downloads byte for byte (sha256)", requires=["multipart"])
def _():
    out = client.download_artifacts(checks.ctx["mp_run"], "mp/big.bin", h.scratch())
    h.expect_eq(h.sha256_file(out), h.sha256_file(checks.ctx["big"]), "sha256 of mp/big.bin")


@checks.check("multipart upload without artifact_path lands at the run's root as big-root.bin")
def _():
    src = h.scratch()
    big = os.path.join(src, "big-root.bin")
    h.write(big, os.urandom(6 * h.MiB))
    with mlflow.start_run() as run:
        log_multipart(big, None)
    h.expect_eq([c[0] for c in multipart_calls], ["create", "complete"], "multipart calls the client made")
    listed = {f.path: f.file_size for f in client.list_artifacts(run.info.run_id)}
    h.expect_eq(listed, {"big-root.bin": os.path.getsize(big)}, "list_artifacts(run) at the root")
    out = client.download_artifacts(run.info.run_id, "big-root.bin", h.scratch())
    h.expect_eq(h.sha256_file(out), h.sha256_file(big), "sha256 of big-root.bin")


@checks.check("multipart upload into a nested artifact_path 'a/b c/d' with a non-ASCII file name")
def _():
    src = h.scratch()
    big = os.path.join(src, "grand fichier é.bin")
    h.write(big, os.urandom(5 * h.MiB + 1))
    with mlflow.start_run() as run:
        log_multipart(big, "a/b c/d")
    h.expect_eq([c[0] for c in multipart_calls], ["create", "complete"], "multipart calls the client made")
    listed = h.listed_tree(client, run.info.run_id)
    h.expect_eq(listed, {"a/b c/d/grand fichier é.bin": os.path.getsize(big)}, "every file listed under the run")
    out = client.download_artifacts(run.info.run_id, "a/b c/d/grand fichier é.bin", h.scratch())
    h.expect_eq(h.sha256_file(out), h.sha256_file(big), "sha256")


checks.run()
