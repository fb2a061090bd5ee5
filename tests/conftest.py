"""Shared fixtures. Every test gets its own results/submissions/cache folders."""
import os

import pytest

import competitions  # noqa: F401  (registers every competition)

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(autouse=True)
def isolated_outputs(tmp_path, monkeypatch):
    """Submissions and results go to a temp folder; the model/data cache stays shared (it is
    keyed by content, and rebuilding converted models per test would be slow)."""
    monkeypatch.setenv("KLLM_SUBMISSIONS", str(tmp_path / "submissions"))
    monkeypatch.setenv("KLLM_RESULTS", str(tmp_path / "results" / "runs.jsonl"))
    monkeypatch.setenv("KLLM_DATA", str(tmp_path / "data"))
    yield
