"""Credentials are found where the kaggle client looks, and never shown."""
import json

import pytest

from common.errors import UserError
from common.kaggle.credentials import CREDENTIALS_HELP, credentials_help, find_credentials

SECRET = "s3cr3t-key-0123456789"


@pytest.fixture
def home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    for name in ("KAGGLE_API_TOKEN", "KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_CONFIG_DIR", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    return home


def test_none_found(home):
    assert find_credentials() is None
    for way in ("kaggle.json", "KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN"):
        assert way in CREDENTIALS_HELP


def test_kaggle_json_in_home(home):
    (home / ".kaggle").mkdir()
    (home / ".kaggle" / "kaggle.json").write_text(json.dumps({"username": "ana", "key": SECRET}))
    creds = find_credentials()
    assert creds.source.startswith("kaggle.json") and creds.username == "ana"
    assert SECRET not in repr(creds) and SECRET not in str(creds)


def test_kaggle_json_in_config_dir(home, tmp_path, monkeypatch):
    folder = tmp_path / "cfg"
    folder.mkdir()
    (folder / "kaggle.json").write_text(json.dumps({"username": "bo", "key": SECRET}))
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(folder))
    assert find_credentials().username == "bo"


@pytest.mark.parametrize("text, fragment", [
    ("{not json " + SECRET, "is not valid JSON"),
    ("", "is not valid JSON"),
    ('{"username": "bob"}', 'lacks a "username" and a "key"'),
    ('{"username": null, "key": null}', 'lacks a "username" and a "key"'),
    ('{"username": "bob", "key": " "}', 'lacks a "username" and a "key"'),
    ("[]", 'lacks a "username" and a "key"'),
])
def test_a_broken_kaggle_json_is_named_not_taken_for_none(home, text, fragment):
    (home / ".kaggle").mkdir()
    (home / ".kaggle" / "kaggle.json").write_text(text)
    with pytest.raises(UserError) as refused:
        find_credentials()
    message = str(refused.value)
    assert fragment in message and "kaggle.json" in message and "fresh one" in message and SECRET not in message


def test_the_hint_names_kaggle_config_dir_when_set(home, tmp_path, monkeypatch):
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "cfg"))
    assert find_credentials() is None
    assert f"{tmp_path / 'cfg'} (KAGGLE_CONFIG_DIR)" in credentials_help()


def test_environment_pair(home, monkeypatch):
    monkeypatch.setenv("KAGGLE_USERNAME", "cy")
    monkeypatch.setenv("KAGGLE_KEY", SECRET)
    creds = find_credentials()
    assert creds.source == "KAGGLE_USERNAME/KAGGLE_KEY" and creds.username == "cy"
    assert creds.scrub(f"401 for key {SECRET}!") == "401 for key ***!"


def test_token_value_or_token_file(home, tmp_path, monkeypatch):
    monkeypatch.setenv("KAGGLE_API_TOKEN", SECRET)
    assert find_credentials().source == "KAGGLE_API_TOKEN"
    token_file = tmp_path / "token.txt"
    token_file.write_text(SECRET + "\n")
    monkeypatch.setenv("KAGGLE_API_TOKEN", str(token_file))
    creds = find_credentials()
    assert creds.username is None and creds.scrub(SECRET) == "***"


def test_a_kaggle_json_that_is_a_folder_is_named(home):
    (home / ".kaggle" / "kaggle.json").mkdir(parents=True)
    with pytest.raises(UserError, match="kaggle.json is not a file"):
        find_credentials()
