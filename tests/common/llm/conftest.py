"""Fixtures for the LLM tests."""
import pytest

from common.models import causal_lm_path


@pytest.fixture
def own_cache(tmp_path, monkeypatch):
    """A private cache root that still shares the converted models (slow to rebuild)."""
    models = causal_lm_path("smollm2").parent
    root = tmp_path / "cache"
    root.mkdir()
    (root / "models").symlink_to(models)
    monkeypatch.setenv("KLLM_CACHE", str(root))
    return root
