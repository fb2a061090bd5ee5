"""The shared bundle mechanics (edge/bundle.py), on the tiny classifier's bundle: manifest, pinned
requirements, no torch, size caps, atomic build."""
from __future__ import annotations

import hashlib
import importlib.metadata
import shutil
import subprocess
from pathlib import Path

import pytest
from tiny_onnx import make_tiny_classifier

from common.errors import UserError
from edge.bundle import DEVICE_REQUIREMENTS, MANIFEST, BundleConfig, assemble_bundle, verify_bundle, write_manifest
from edge.classifier.bundle import ClassifierBundleConfig, build_bundle

EXPECTED_FILES = {"model.onnx", "tokenizer.json", "config.json", "detect.py", "records.py", "classifier.py", "smoke.jsonl",
                  "requirements.txt"}


def test_manifest_lists_every_file_with_its_sha256(tiny_bundle):
    lines = (tiny_bundle / MANIFEST).read_text().splitlines()
    listed = dict(reversed(line.split("  ", 1)) for line in lines)
    assert set(listed) == EXPECTED_FILES
    for name, digest in listed.items():
        assert hashlib.sha256((tiny_bundle / name).read_bytes()).hexdigest() == digest
    done = subprocess.run(["sha256sum", "--check", "--strict", MANIFEST], cwd=tiny_bundle, capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.count(": OK") == len(EXPECTED_FILES)


def test_requirements_pin_the_host_versions_for_the_pi(tiny_bundle):
    pins = [line for line in (tiny_bundle / "requirements.txt").read_text().splitlines() if not line.startswith("#")]
    assert pins == [f"{name}=={version}" for name, version in DEVICE_REQUIREMENTS.items()]
    assert set(DEVICE_REQUIREMENTS) == {"onnxruntime", "numpy", "tokenizers"}
    for name, version in DEVICE_REQUIREMENTS.items():  # same numbers on host and device
        assert importlib.metadata.version(name) == version


def test_bundle_is_small_and_torch_free(tiny_bundle):
    info = verify_bundle(tiny_bundle)
    assert info.total_bytes == sum(p.stat().st_size for p in tiny_bundle.iterdir())
    assert info.total_bytes < 5 * 1024 * 1024  # 1.9 MB model + 0.5 MB tokenizer
    assert not any("torch" in p.name for p in tiny_bundle.iterdir())
    assert not any("torch" in p.read_text() for p in tiny_bundle.glob("*.py"))
    assert len(info.version) == 12 and info.version == hashlib.sha256((tiny_bundle / MANIFEST).read_bytes()).hexdigest()[:12]


def tampered_copy(bundle: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(bundle, copy)
    return copy


def test_verify_refuses_changed_unlisted_and_torch_files(tiny_bundle, tmp_path):
    copy = tampered_copy(tiny_bundle, tmp_path)
    with open(copy / "model.onnx", "ab") as fh:
        fh.write(b"\0")
    with pytest.raises(UserError, match="model.onnx does not match its sha256"):
        verify_bundle(copy)
    (copy / "extra.txt").write_text("x")
    with pytest.raises(UserError, match=r"unlisted \['extra.txt'\]"):
        verify_bundle(copy)
    (copy / "extra.txt").unlink()
    (copy / "student_torch.pt").write_bytes(b"weights")
    write_manifest(copy)
    with pytest.raises(UserError, match="must not hold torch files: student_torch.pt"):
        verify_bundle(copy)
    (copy / "student_torch.pt").unlink()
    (copy / "detect.py").write_text("import torch.nn\n")
    write_manifest(copy)
    with pytest.raises(UserError, match="imports torch"):
        verify_bundle(copy)


def test_size_cap_refuses_and_leaves_the_old_bundle(tmp_path, minilm_tokenizer):
    model = make_tiny_classifier(tmp_path / "m.onnx")
    out = tmp_path / "bundle"
    first = build_bundle(model, minilm_tokenizer, out, ClassifierBundleConfig(max_length=32))
    with pytest.raises(UserError, match=r"model.onnx is 1.9 MB, over the 1 MB cap"):
        build_bundle(model, minilm_tokenizer, out, ClassifierBundleConfig(max_length=32, max_file_mb=1))
    with pytest.raises(UserError, match=r"bundle is 2.3 MB, over the 2 MB cap"):
        build_bundle(model, minilm_tokenizer, out, ClassifierBundleConfig(max_length=32, max_total_mb=2))
    assert verify_bundle(out).version == first.version  # untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle", "m.onnx"]  # no temp folders left


def test_rebuild_replaces_the_bundle(tmp_path, minilm_tokenizer):
    out = tmp_path / "bundle"
    a = build_bundle(make_tiny_classifier(tmp_path / "a.onnx", seed=1), minilm_tokenizer, out)
    b = build_bundle(make_tiny_classifier(tmp_path / "b.onnx", seed=2), minilm_tokenizer, out)
    assert a.version != b.version and verify_bundle(out).version == b.version
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.onnx", "b.onnx", "bundle"]


def test_assemble_writes_requirements_and_manifest_and_keeps_the_old_bundle_on_error(tmp_path):
    source = tmp_path / "weights.onnx"
    source.write_bytes(b"model bytes")
    out = tmp_path / "bundle"
    info = assemble_bundle(out, {"model.onnx": source}, {"config.json": "{}\n"}, BundleConfig(),
                           finish=lambda folder: (folder / "smoke.jsonl").write_text("{}\n"))
    assert set(info.files) == {"model.onnx", "config.json", "requirements.txt", "smoke.jsonl"}

    def fail(folder):
        raise RuntimeError("the runtime could not score the smoke inputs")

    with pytest.raises(RuntimeError):
        assemble_bundle(out, {"model.onnx": source}, {"config.json": "{\"new\": 1}\n"}, BundleConfig(), finish=fail)
    assert verify_bundle(out).version == info.version
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle", "weights.onnx"]
