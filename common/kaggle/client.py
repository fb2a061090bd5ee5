"""A thin wrapper around the real `kaggle` client: quiet, authenticated, one-line errors.

    from common.kaggle.client import KaggleSession
    kg = KaggleSession.open()
    kg.call("list your submissions", kg.api.competition_submissions, "kaggle-llm-science-exam",
            competition_slug="kaggle-llm-science-exam")

`open` raises `NoCredentials` (a UserError carrying CREDENTIALS_HELP) when none are found.
Through `call`, Kaggle's refusals become one `KaggleRefused` line (401, 403 not joined, 404,
network down) with every secret scrubbed, and the client's own prints are swallowed (they may
echo paths or, in verbose mode, request headers).

Tests and proxies: with KAGGLE_API_ENVIRONMENT=LOCALHOST the client talks to
`kagglesdk.kaggle_env._env_to_endpoint[KaggleEnv.LOCAL]` (http://localhost, port 80); the
loopback fixture in tests/common/kaggle/fake_server.py points that entry at its own port.
"""
from __future__ import annotations

import contextlib
import io
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from common.errors import UserError
from common.kaggle.credentials import Credentials, credentials_help, find_credentials


# Seconds to connect, and to wait for each answer: the kaggle client sets no limit, so a stalled
# network or proxy would hang a command for ever. A download's chunks keep the client's own 300 s.
CONNECT_TIMEOUT_S = 20.0
READ_TIMEOUT_S = 120.0


@contextlib.contextmanager
def network_timeout():
    """Within the block, a request sent without a timeout gets (CONNECT_TIMEOUT_S, READ_TIMEOUT_S)."""
    from requests.adapters import HTTPAdapter

    original = HTTPAdapter.send

    def send(self, request, stream=False, timeout=None, **kwargs):
        limit = timeout if timeout is not None else (CONNECT_TIMEOUT_S, READ_TIMEOUT_S)
        return original(self, request, stream=stream, timeout=limit, **kwargs)

    HTTPAdapter.send = send
    try:
        yield
    finally:
        HTTPAdapter.send = original


class NoCredentials(UserError):
    """No Kaggle credentials were found; the message says how to set them."""

    def __init__(self):
        super().__init__(credentials_help())


class KaggleRefused(UserError):
    """Kaggle answered with an error; the message is one scrubbed line. `unreachable`: the network
    failed (no connection, or no answer in time), so other calls would fail the same way."""

    unreachable: bool = False


def _import_kaggle_api():
    # `import kaggle` authenticates at import time and prints help when it cannot: keep it quiet.
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        from kaggle.api.kaggle_api_extended import KaggleApi
    return KaggleApi


def refusal_line(err: Exception, creds: Credentials | None, what: str, competition_slug: str | None) -> str:
    """One line for an exception raised by the kaggle client."""
    import requests

    status = getattr(getattr(err, "response", None), "status_code", None)
    page = f"https://www.kaggle.com/competitions/{competition_slug}" if competition_slug else "kaggle.com"
    if status == 401:
        line = f"Kaggle refused the credentials (401) while trying to {what}: check your kaggle.json, KAGGLE_KEY or KAGGLE_API_TOKEN"
    elif status == 403 and competition_slug:
        line = (f"Kaggle refused to {what} (403): join the competition on the website first "
                f"and accept its rules at {page}")
    elif status == 403:
        line = f"Kaggle refused to {what} (403): your account is not allowed to do this"
    elif status == 404:
        line = f"Kaggle found nothing to {what} (404): check the name, or whether {page} still accepts this"
    elif status == 429:
        line = f"Kaggle is rate-limiting (429) while trying to {what}: try again later"
    elif status is not None:
        line = f"Kaggle answered {status} while trying to {what}: {str(err).splitlines()[0] if str(err) else ''}"
    elif isinstance(err, requests.Timeout):
        line = (f"Kaggle did not answer while trying to {what} (waited {CONNECT_TIMEOUT_S:.0f} s to connect, "
                f"{READ_TIMEOUT_S:.0f} s for an answer): a slow or blocked network, or a proxy?")
    elif isinstance(err, requests.ConnectionError):
        line = f"cannot reach Kaggle to {what}: no network connection?"
    else:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        line = f"Kaggle client could not {what}: {first}"
    return creds.scrub(line) if creds else line


@dataclass
class KaggleSession:
    """An authenticated KaggleApi plus the credentials' source. Use `open`, then `call`."""

    api: object
    credentials: Credentials

    @classmethod
    def open(cls) -> "KaggleSession":
        creds = find_credentials()
        if creds is None:
            raise NoCredentials()
        KaggleApi = _import_kaggle_api()
        api = KaggleApi()
        api.args = ["--local"] if os.environ.get("KAGGLE_API_ENVIRONMENT") == "LOCALHOST" else []
        api.config_dir = str(creds.config_dir)
        api.config = os.path.join(api.config_dir, "kaggle.json")
        said = io.StringIO()
        try:
            with contextlib.redirect_stdout(said), network_timeout():
                api.authenticate()
        except SystemExit:  # the client found nothing it could use, e.g. an expired token
            raise KaggleRefused(f"Kaggle did not accept the credentials from {creds.source} (invalid or expired?); "
                                + credentials_help().replace("no Kaggle credentials: ", "")) from None
        except Exception as err:  # noqa: BLE001 - any client failure becomes one line
            raise KaggleRefused(refusal_line(err, creds, "sign in", None)) from None
        if "readable by other users" in said.getvalue() and Path(api.config).is_file():      # the client's own warning, kept from its prints
            print(f"warning: {api.config} is readable by other users: chmod 600 {api.config}", file=sys.stderr)
        username = api.config_values.get("username") or creds.username
        return cls(api=api, credentials=Credentials(creds.source, username, creds.config_dir, creds._secrets))

    @property
    def username(self) -> str:
        if not self.credentials.username:
            raise UserError("Kaggle did not tell which user the token belongs to; set KAGGLE_USERNAME")
        return self.credentials.username

    def call(self, what: str, fn, *args, competition_slug: str | None = None, **kwargs):
        """Run one client method quietly; any failure becomes a one-line KaggleRefused."""
        try:
            with contextlib.redirect_stdout(io.StringIO()), network_timeout(), private_temp_folder():
                return fn(*args, **kwargs)
        except UserError:
            raise
        except Exception as err:  # noqa: BLE001
            import requests

            refused = KaggleRefused(refusal_line(err, self.credentials, what, competition_slug))
            refused.unreachable = isinstance(err, (requests.ConnectionError, requests.Timeout))
            raise refused from None


@contextlib.contextmanager
def private_temp_folder():
    """The system's temp folder, for the client, is a fresh one of this user's: the client keeps its
    upload state in <temp>/.kaggle/uploads, which on a machine shared by several users belongs to
    whoever uploaded first, and every other user's upload then failed with "Permission denied".
    Removed afterwards, with the bundle zips the client makes there."""
    own = tempfile.mkdtemp(prefix="kllm-kaggle-")
    saved = tempfile.tempdir
    tempfile.tempdir = own
    try:
        yield Path(own)
    finally:
        tempfile.tempdir = saved
        shutil.rmtree(own, ignore_errors=True)
