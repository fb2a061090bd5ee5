"""common.paths: each place can be moved by its variable, and an empty one is the default, never the
current folder (Path("") is ".")."""
from __future__ import annotations

import pytest

from common import paths


@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_variable_is_the_default_not_the_current_folder(value, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("KLLM_ROOT", "KLLM_DATA", "KLLM_SUBMISSIONS", "KLLM_RESULTS", "KLLM_CACHE"):
        monkeypatch.setenv(name, value)
    repo = paths.repo_root()
    assert repo == paths._REPO and repo.is_absolute()
    assert paths.data_dir("x") == repo / "data" / "x"
    assert paths.submissions_dir("x") == repo / "submissions" / "x"
    assert paths.results_path() == repo / "results" / "runs.jsonl"
    assert paths.cache_root() == repo / "cache"


def test_a_set_variable_moves_its_place(tmp_path, monkeypatch):
    monkeypatch.setenv("KLLM_CACHE", str(tmp_path / "c"))
    monkeypatch.setenv("KLLM_DATA", str(tmp_path / "d"))
    assert paths.cache_root() == tmp_path / "c" and not (tmp_path / "c").exists()     # not created
    assert paths.cache_dir("models") == tmp_path / "c" / "models" and (tmp_path / "c" / "models").is_dir()
    assert paths.data_dir("x") == tmp_path / "d" / "x"
