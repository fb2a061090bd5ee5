"""A stand-in Kaggle API server on loopback, for the real `kaggle` client in tests.

    from fakes.kaggle_server import fake_kaggle   # pytest fixture (tests/ is on sys.path)
    def test_x(fake_kaggle):
        fake_kaggle.add_competition("kaggle-llm-science-exam", zip_bytes)
        fake_kaggle.scores["kaggle-llm-science-exam"] = (0.61, 0.59)

How the client is pointed here: KAGGLE_API_ENVIRONMENT=LOCALHOST makes kagglesdk call
`kagglesdk.kaggle_env._env_to_endpoint[KaggleEnv.LOCAL]` ("http://localhost", port 80, fixed);
the fixture replaces that entry with http://127.0.0.1:<free port> for the test's duration
(monkeypatch.setitem) and sets NO_PROXY for loopback. Calls are POST /api/v1/<Service>/<Method>
with a JSON body; errors are JSON {"code", "message"} with that HTTP status, as Kaggle answers.

Implemented: security.OAuthService/IntrospectToken;
competitions.CompetitionApiService/{DownloadDataFiles, StartSubmissionUpload, CreateSubmission,
CreateCodeSubmission, ListSubmissions, GetLeaderboard, GetSubmissionLimits};
blobs.BlobApiService/StartBlobUpload; datasets.DatasetApiService/{GetDatasetStatus,
CreateDataset, CreateDatasetVersion}; kernels.KernelsApiService/{SaveKernel,
GetKernelSessionStatus}; plus GET /download/<file> (the redirect target) and PUT /upload/<token>.
The server stops at teardown, or by itself after `lifetime_s`.
"""
from __future__ import annotations

import base64
import itertools
import json
import tempfile
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

USERNAME, KEY, TOKEN = "ana-test", "k3y-SECRET-0123456789abcdef", "KGAT_tok-SECRET-fedcba9876543210"
NOT_JOINED = "You must accept this competition's rules before you'll be able to submit."


class ApiError(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code, self.message = code, message


@dataclass
class FakeKaggle:
    """The server's state; tests read and change it directly."""

    port: int = 0
    competitions: dict = field(default_factory=dict)    # kaggle slug -> data zip bytes
    not_joined: set = field(default_factory=set)        # kaggle slugs answering 403
    scores: dict = field(default_factory=dict)          # kaggle slug -> (public, private) for new submissions
    leaderboard: dict = field(default_factory=dict)     # kaggle slug -> [(team, score)]
    submissions: dict = field(default_factory=dict)     # kaggle slug -> [dict], newest last
    blobs: dict = field(default_factory=dict)           # token -> bytes (None until PUT)
    blob_names: dict = field(default_factory=dict)      # token -> file name
    datasets: dict = field(default_factory=dict)        # "owner/slug" -> {"files": {name: bytes}, "versions": n}
    kernels: dict = field(default_factory=dict)         # "owner/slug" -> {"version": n, "request": body}
    kernel_status: str = "COMPLETE"                     # what GetKernelSessionStatus answers
    calls: list = field(default_factory=list)           # (method name, body) in order
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1000))

    def add_competition(self, kaggle_slug: str, zip_bytes: bytes) -> None:
        self.competitions[kaggle_slug] = zip_bytes

    def called(self, name: str) -> list[dict]:
        return [body for method, body in self.calls if method == name]

    # --- request handling -------------------------------------------------------------------
    def check_auth(self, headers) -> None:
        value = headers.get("Authorization", "")
        if value.startswith("Bearer ") and value[7:] == TOKEN:
            return
        if value.startswith("Basic "):
            user, _, key = base64.b64decode(value[6:]).decode().partition(":")
            if (user, key) == (USERNAME, KEY):
                return
        raise ApiError(401, "Unauthenticated")

    def competition(self, body: dict, action: str) -> str:
        slug = body.get("competitionName", "")
        if slug not in self.competitions:
            raise ApiError(404, f"Competition '{slug}' not found")
        if slug in self.not_joined:
            raise ApiError(403, NOT_JOINED if action == "submit" else
                           "You must accept this competition's rules before you can download its data.")
        return slug

    def new_upload(self, name: str) -> dict:
        token = f"blob-{next(self._ids)}"
        self.blobs[token], self.blob_names[token] = None, name
        return {"token": token, "createUrl": f"http://127.0.0.1:{self.port}/upload/{token}"}

    def add_submission(self, slug: str, description: str, file_name: str) -> dict:
        public, private = self.scores.get(slug, (None, None))
        sub = {"ref": next(self._ids), "date": "2026-11-22T12:00:00.000Z", "description": description,
               "fileName": file_name, "status": "COMPLETE",
               "publicScore": "" if public is None else f"{public:.5f}",
               "privateScore": "" if private is None else f"{private:.5f}", "teamName": USERNAME}
        self.submissions.setdefault(slug, []).append(sub)
        return sub

    def save_dataset(self, ref: str, files: list[dict]) -> dict:
        for f in files:
            if self.blobs.get(f.get("token")) is None:
                raise ApiError(400, f"blob {f.get('token')} was never uploaded")
        entry = self.datasets.setdefault(ref, {"files": {}, "versions": 0})
        entry["files"] = {self.blob_names[f["token"]]: self.blobs[f["token"]] for f in files}
        entry["versions"] += 1
        return {"ref": ref, "url": f"http://127.0.0.1:{self.port}/datasets/{ref}", "status": "ok", "error": ""}

    def handle(self, method: str, body: dict) -> dict:
        if method == "IntrospectToken":
            active = body.get("token") == TOKEN
            return {"active": active, "username": USERNAME if active else ""}
        if method == "DownloadDataFiles":
            slug = self.competition(body, "download")
            raise Redirect(f"http://127.0.0.1:{self.port}/download/{slug}.zip")
        if method == "StartSubmissionUpload":
            self.competition(body, "submit")
            return self.new_upload(body.get("fileName", "submission.csv"))
        if method == "CreateSubmission":
            slug = self.competition(body, "submit")
            token = body.get("blobFileTokens", "")
            if self.blobs.get(token) is None:
                raise ApiError(400, "submission file was never uploaded")
            sub = self.add_submission(slug, body.get("submissionDescription", ""), self.blob_names[token])
            return {"message": "Successfully submitted", "ref": sub["ref"]}
        if method == "CreateCodeSubmission":
            slug = self.competition(body, "submit")
            ref = f"{body.get('kernelOwner')}/{body.get('kernelSlug')}"
            kernel = self.kernels.get(ref)
            if kernel is None or kernel["version"] != body.get("kernelVersion"):
                raise ApiError(404, f"notebook {ref} version {body.get('kernelVersion')} not found")
            pushed = kernel["request"]
            if pushed.get("enableInternet", True):
                raise ApiError(400, "Submission notebooks must have internet access disabled")
            if slug not in pushed.get("competitionDataSources", []):
                raise ApiError(400, "The notebook does not use this competition's data")
            sub = self.add_submission(slug, body.get("submissionDescription", ""), body.get("fileName", ""))
            return {"message": "Successfully submitted", "ref": sub["ref"]}
        if method == "ListSubmissions":
            slug = self.competition(body, "list")
            return {"submissions": list(reversed(self.submissions.get(slug, [])))}
        if method == "GetLeaderboard":
            slug = body.get("competitionName", "")
            if slug not in self.competitions:
                raise ApiError(404, f"Competition '{slug}' not found")
            rows = self.leaderboard.get(slug, [])
            return {"submissions": [{"teamId": i + 1, "teamName": t, "score": f"{s:.5f}",
                                     "submissionDate": "2026-11-01T00:00:00.000Z"} for i, (t, s) in enumerate(rows)]}
        if method == "GetSubmissionLimits":
            return {"numAllowedNow": 4}
        if method == "StartBlobUpload":
            return self.new_upload(body.get("name", "file"))
        if method == "GetDatasetStatus":
            ref = f"{body.get('ownerSlug')}/{body.get('datasetSlug')}"
            if ref not in self.datasets:
                raise ApiError(404, f"Dataset {ref} not found")
            return {"status": "READY"}
        if method == "CreateDataset":
            return self.save_dataset(f"{body.get('ownerSlug')}/{body.get('slug')}", body.get("files", []))
        if method == "CreateDatasetVersion":
            ref = f"{body.get('ownerSlug')}/{body.get('datasetSlug')}"
            if ref not in self.datasets:
                raise ApiError(404, f"Dataset {ref} not found")
            return self.save_dataset(ref, body.get("body", {}).get("files", []))
        if method == "SaveKernel":
            ref = body.get("slug", "")
            missing = [d for d in body.get("datasetDataSources", []) if d not in self.datasets]
            if missing:
                return {"error": f"dataset sources not found: {missing}", "invalidDatasetSources": missing}
            kernel = self.kernels.setdefault(ref, {"version": 0})
            kernel["version"] += 1
            kernel["request"] = body
            return {"ref": f"/code/{ref}", "url": f"http://127.0.0.1:{self.port}/code/{ref}",
                    "versionNumber": kernel["version"], "error": ""}
        if method == "GetKernelSessionStatus":
            ref = f"{body.get('userName')}/{body.get('kernelSlug')}"
            if ref not in self.kernels:
                raise ApiError(404, f"kernel {ref} not found")
            return {"status": self.kernel_status, "failureMessage": "boom" if self.kernel_status == "ERROR" else ""}
        raise ApiError(404, f"no such method {method}")


class Redirect(Exception):
    def __init__(self, location: str):
        super().__init__(location)
        self.location = location


def _handler(state: FakeKaggle):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output clean
            pass

        def _send(self, code: int, payload: bytes, content_type: str, extra: dict | None = None):
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for key, value in (extra or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)

        def _json(self, code: int, obj: dict):
            self._send(code, json.dumps(obj).encode(), "application/json")

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def do_POST(self):
            parts = self.path.split("?")[0].strip("/").split("/")
            if parts[:2] != ["api", "v1"] or len(parts) != 4:
                return self._json(404, {"code": 404, "message": f"unknown path {self.path}"})
            method = parts[3]
            try:
                body = json.loads(self._body() or b"{}")
                state.calls.append((method, body))
                if method != "IntrospectToken":
                    state.check_auth(self.headers)
                self._json(200, state.handle(method, body))
            except Redirect as redirect:
                self._send(302, b"", "text/plain", {"Location": redirect.location})
            except ApiError as err:
                self._json(err.code, {"code": err.code, "message": err.message})

        def do_GET(self):
            name = self.path.split("?")[0].rsplit("/", 1)[-1]
            slug = name.removesuffix(".zip")
            if self.path.startswith("/download/") and slug in state.competitions:
                return self._send(200, state.competitions[slug], "application/zip",
                                  {"Last-Modified": "Sun, 22 Nov 2026 12:00:00 GMT"})
            self._send(404, b"not found", "text/plain")

        def do_PUT(self):
            token = self.path.rsplit("/", 1)[-1]
            data = self._body()
            if token not in state.blobs:
                return self._send(404, b"unknown upload", "text/plain")
            state.blobs[token] = data
            self._send(200, b"", "text/plain")

    return Handler


@pytest.fixture
def fake_kaggle(monkeypatch, tmp_path):
    """Start the server, point the real client at it with kaggle.json credentials, stop after."""
    from kagglesdk import kaggle_env

    state = FakeKaggle()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    lifetime = threading.Timer(120.0, server.shutdown)  # stops by itself if a test hangs
    lifetime.daemon = True
    lifetime.start()

    home = tmp_path / "home"
    (home / ".kaggle").mkdir(parents=True)
    for name in ("KAGGLE_API_TOKEN", "KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_CONFIG_DIR", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("KAGGLE_API_ENVIRONMENT", "LOCALHOST")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setitem(kaggle_env._env_to_endpoint, kaggle_env.KaggleEnv.LOCAL, f"http://127.0.0.1:{state.port}")
    state.home = home
    # the machine's temp folder as on a machine shared by several users: its .kaggle belongs to
    # another user (here a file, which no one can write into, root included), and nothing of ours
    # may land there
    shared_tmp = tmp_path / "shared-tmp"
    shared_tmp.mkdir()
    (shared_tmp / ".kaggle").write_text("another user's")
    monkeypatch.setattr(tempfile, "tempdir", str(shared_tmp))
    try:
        yield state
    finally:
        lifetime.cancel()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def write_kaggle_json(home, username: str = USERNAME, key: str = KEY) -> None:
    path = home / ".kaggle" / "kaggle.json"
    path.write_text(json.dumps({"username": username, "key": key}))
    path.chmod(0o600)
