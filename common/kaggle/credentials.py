"""Find Kaggle credentials the way the `kaggle` client does, without ever exposing them.

    from common.kaggle.credentials import find_credentials, CREDENTIALS_HELP
    creds = find_credentials()      # None, or Credentials(source="kaggle.json", username="ana")
    creds.scrub("error: ... key ...")  # any secret in a text replaced by ***

Order (as kaggle 2.x): KAGGLE_API_TOKEN (a token or a path to a file holding one),
~/.kaggle/access_token, KAGGLE_USERNAME + KAGGLE_KEY, then kaggle.json in KAGGLE_CONFIG_DIR,
~/.kaggle or $XDG_CONFIG_HOME/kaggle. Only the *source* and the (public) user name are ever
shown; secrets stay inside this object and are used only to scrub text.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from common.errors import UserError

CREDENTIALS_HELP = (
    "no Kaggle credentials: put kaggle.json (from kaggle.com > Settings > API) in ~/.kaggle/, "
    "or set KAGGLE_USERNAME and KAGGLE_KEY, or set KAGGLE_API_TOKEN"
)


@dataclass(frozen=True)
class Credentials:
    """Where credentials were found. `username` may be None for a bare API token."""

    source: str
    username: str | None = None
    config_dir: Path | None = None
    _secrets: tuple[str, ...] = field(default=(), repr=False)

    def scrub(self, text: str) -> str:
        """The text with every secret value replaced by '***'."""
        for secret in self._secrets:
            if secret:
                text = text.replace(secret, "***")
        return text

    def __repr__(self) -> str:
        return f"Credentials(source={self.source!r}, username={self.username!r})"

    __str__ = __repr__


def config_dir() -> Path:
    """The folder where the kaggle client looks for kaggle.json."""
    if os.environ.get("KAGGLE_CONFIG_DIR"):
        return Path(os.environ["KAGGLE_CONFIG_DIR"])
    legacy = Path(os.path.expanduser("~/.kaggle"))
    if legacy.exists():
        return legacy
    xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(xdg) / "kaggle"


def _read_token(value: str) -> str | None:
    path = Path(value)
    try:
        if len(value) < 4096 and path.is_file():
            return path.read_text().strip() or None
    except OSError:
        return None
    return value.strip() or None


def _read_kaggle_json(path: Path) -> tuple[str, str]:
    """(username, key) of a kaggle.json; a file that holds no such pair is one UserError naming it."""
    fresh = "download a fresh one from kaggle.com > Settings > API"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        reason = "cannot be read" if isinstance(err, OSError) else "is not valid JSON"
        raise UserError(f"{path} {reason}: {fresh}") from None
    pair = (data.get("username"), data.get("key")) if isinstance(data, dict) else (None, None)
    if not all(isinstance(v, str) and v.strip() for v in pair):
        raise UserError(f'{path} lacks a "username" and a "key" (non-empty strings): {fresh}')
    return pair[0].strip(), pair[1].strip()


def credentials_help() -> str:
    """CREDENTIALS_HELP, naming KAGGLE_CONFIG_DIR's folder when that is where kaggle.json is looked for."""
    folder = os.environ.get("KAGGLE_CONFIG_DIR")
    return CREDENTIALS_HELP.replace("~/.kaggle/", f"{folder} (KAGGLE_CONFIG_DIR)") if folder else CREDENTIALS_HELP


def find_credentials() -> Credentials | None:
    """The first credentials the kaggle client would use, or None; a broken kaggle.json is a UserError."""
    folder = config_dir()
    token = os.environ.get("KAGGLE_API_TOKEN")
    if token and (value := _read_token(token)):
        return Credentials("KAGGLE_API_TOKEN", None, folder, (value, token))
    for name in ("access_token", "access_token.txt"):
        file = Path(os.path.expanduser(f"~/.kaggle/{name}"))
        if file.is_file() and (value := _read_token(str(file))):
            return Credentials(f"~/.kaggle/{name}", None, folder, (value,))
    user, key = os.environ.get("KAGGLE_USERNAME"), os.environ.get("KAGGLE_KEY")
    if user and key:
        return Credentials("KAGGLE_USERNAME/KAGGLE_KEY", user, folder, (key,))
    file = folder / "kaggle.json"
    if file.exists() and not file.is_file():
        raise UserError(f"{file} is not a file: put the kaggle.json from kaggle.com > Settings > API there")
    if file.is_file():
        pair = _read_kaggle_json(file)
        return Credentials(f"kaggle.json in {folder}", pair[0], folder, (pair[1],))
    return None
