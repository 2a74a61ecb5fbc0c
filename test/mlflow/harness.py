"""The little harness every real-client check script uses (run by test/mlflow/run.mjs).

Each check prints exactly one line: `PASS <group>: <name>` or `FAIL <group>: <name> -- <why>`,
followed, for a failure, by the last HTTP exchanges the client made during that check (indented),
so a report can name the request, our answer and the MLflow error the client saw. A check whose
prerequisite failed is reported as FAIL too (it was not verified). The script exits 1 when any
check failed.

Environment (set by run.mjs): MLFLOW_TRACKING_URI, MLFLOW_CHECK_PREFIX (a per-run prefix so the
scripts can also run against a server that already holds data, e.g. MLflow's own).
"""

import collections
import hashlib
import os
import secrets
import sys
import tempfile
import traceback

import requests

import mlflow
from mlflow.exceptions import MlflowException

VERSION = mlflow.__version__
MAJOR = int(VERSION.split(".")[0])
PREFIX = os.environ.get("MLFLOW_CHECK_PREFIX") or f"t{secrets.token_hex(3)}"
TRACKING_URI = os.environ.get("MLFLOW_TRACKING_URI", "")
ONLY = [s for s in os.environ.get("MLFLOW_CHECK_ONLY", "").split(",") if s]
MiB = 1024 * 1024


class CheckFailed(AssertionError):
    pass


# --- what the client sent and got back, recorded around requests.Session.request ------------
_exchanges = collections.deque(maxlen=8)
_original_request = requests.Session.request


def _recording_request(self, method, url, *args, **kwargs):
    try:
        resp = _original_request(self, method, url, *args, **kwargs)
    except Exception as e:  # connection refused, timeouts
        _exchanges.append(f"{method} {_short_url(url)} -> {type(e).__name__}: {e}")
        raise
    line = f"{method} {_short_url(url)}"
    params = kwargs.get("params")
    if params:
        line += f" params={_clip(params, 200)}"
    body = kwargs.get("json")
    if body is not None:
        line += f" json={_clip(body, 300)}"
    line += f" -> {resp.status_code}"
    if resp.status_code >= 300:
        # Reading an error body is safe: the client reads it too, and requests caches it.
        line += f" {_clip(resp.text, 400)}"
    _exchanges.append(line)
    return resp


requests.Session.request = _recording_request


def _short_url(url):
    return url.replace(TRACKING_URI, "") if TRACKING_URI else url


def _clip(value, n):
    text = str(value).replace("\n", " ")
    return text if len(text) <= n else text[: n - 3] + "..."


# --- checks -------------------------------------------------------------------------------------
class Checks:
    """Checks run in the order they are declared and may share state through `self.ctx`."""

    def __init__(self, group):
        self.group = group
        self.ctx = {}
        self._checks = []
        self.results = {}

    def check(self, name, key=None, requires=(), only_major=None):
        """`key` names the check for `requires` of later checks (they are not run if it failed)."""

        def register(fn):
            self._checks.append((name, key or name, fn, tuple(requires), only_major))
            return fn

        return register

    def _selected(self):
        """With MLFLOW_CHECK_ONLY: the checks whose name contains one of its words, and what they need."""
        if not ONLY:
            return None
        chosen = {key for name, key, *_ in self._checks if any(o in f"{self.group}: {name}" for o in ONLY)}
        for name, key, fn, requires, _ in reversed(self._checks):
            if key in chosen:
                chosen.update(requires)
        return chosen

    def run(self):
        failed = 0
        selected = self._selected()
        for name, key, fn, requires, only_major in self._checks:
            if only_major is not None and MAJOR != only_major:
                continue
            if selected is not None and key not in selected:
                continue
            missing = [r for r in requires if self.results.get(r) is not True]
            if missing:
                self.results[key] = False
                failed += 1
                print(f"FAIL {self.group}: {name} -- not run: it needs the check '{missing[0]}', which failed", flush=True)
                continue
            _exchanges.clear()
            try:
                fn()
                self.results[key] = True
                print(f"PASS {self.group}: {name}", flush=True)
            except Exception as e:  # every failure is reported, never raised
                self.results[key] = False
                failed += 1
                print(f"FAIL {self.group}: {name} -- {_describe(e)}", flush=True)
                for line in list(_exchanges)[-4:]:
                    print(f"      > {line}", flush=True)
                if not isinstance(e, (CheckFailed, MlflowException)):
                    where = traceback.extract_tb(e.__traceback__)[-1]
                    print(f"      at {os.path.basename(where.filename)}:{where.lineno}", flush=True)
        sys.exit(1 if failed else 0)


def _describe(e):
    if isinstance(e, MlflowException):
        return _clip(f"MlflowException {e.error_code}: {e.message}", 600)
    if isinstance(e, CheckFailed):
        return _clip(str(e), 600)
    return _clip(f"{type(e).__name__}: {e}", 600)


def expect(cond, message):
    if not cond:
        raise CheckFailed(message)


def expect_eq(actual, expected, what):
    if actual != expected:
        raise CheckFailed(f"{what}: expected {_clip(repr(expected), 250)}, got {_clip(repr(actual), 250)}")


def expect_error(code, fn, what):
    """fn() must raise MlflowException with error_code == code."""
    try:
        result = fn()
    except MlflowException as e:
        if e.error_code != code:
            raise CheckFailed(f"{what}: expected {code}, got {e.error_code}: {_clip(e.message, 300)}")
        return e
    raise CheckFailed(f"{what}: expected {code}, but the call succeeded ({_clip(repr(result), 200)})")


def raw(method, route, **kwargs):
    """One request straight to the server (for the HTTP status and error JSON the client hides)."""
    resp = requests.request(method, f"{TRACKING_URI.rstrip('/')}{route}", timeout=60, **kwargs)
    try:
        body = resp.json()
    except ValueError:
        body = resp.text
    return resp.status_code, body


# --- files ---------------------------------------------------------------------------------------
def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def local_tree(root):
    """{relative posix path: (size, sha256)} of every file under root."""
    out = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            p = os.path.join(dirpath, f)
            rel = os.path.relpath(p, root).replace(os.sep, "/")
            out[rel] = (os.path.getsize(p), sha256_file(p))
    return out


def listed_tree(client, run_id, path=None):
    """{path relative to `path`: size} by walking list_artifacts one folder at a time, as the client does."""
    out = {}
    base = (path.rstrip("/") + "/") if path else ""

    def walk(p):
        for info in client.list_artifacts(run_id, p):
            if info.is_dir:
                walk(info.path)
            else:
                expect(info.path.startswith(base), f"listing of {p!r} names {info.path!r}, outside {base!r}")
                out[info.path[len(base):]] = info.file_size

    walk(path)
    return out


def scratch(prefix="mlflow-check-"):
    return tempfile.mkdtemp(prefix=prefix)


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8"))


def name(suffix):
    return f"{PREFIX}-{suffix}"
