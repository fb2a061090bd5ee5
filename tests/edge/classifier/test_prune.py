"""Structured pruning of the encoder student: keeping every FFN channel changes nothing, the
channels and blocks that go are the ones scored lowest, a pruned student saves, reloads and
exports with its new shapes, and the cached re-distilled student is reused."""
import numpy as np
import pytest
import torch

from common.errors import UserError
from common.training.text_classifier import load_classifier, predict_proba
from edge.block_influence import block_influence
from edge.classifier.distill import DistillConfig, load_student, save_student
from edge.classifier.prune import (PruneConfig, feeds, ffn_importance, prune_ffn, prune_student,
                                   pruned_student_cached)
from fakes.essays import essays

TEXTS = essays(12, seed=3)["text"].to_list()


@pytest.fixture()
def student():
    model, tokenizer = load_classifier(DistillConfig(num_layers=3, num_labels=2))
    return model.eval(), tokenizer


def test_keeping_every_channel_leaves_the_outputs_unchanged(student):
    model, tokenizer = student
    before = predict_proba(model, tokenizer, TEXTS, max_length=32)
    scores = ffn_importance(model, feeds(tokenizer, TEXTS, 32))
    assert [len(s) for s in scores] == [1536] * 3 and all(torch.all(s >= 0) for s in scores)
    prune_ffn(model, scores, 1536)
    np.testing.assert_allclose(predict_proba(model, tokenizer, TEXTS, max_length=32), before, atol=1e-6)


def test_the_lowest_scored_channels_go(student):
    model, tokenizer = student
    block = model.base_model.encoder.layer[0]
    kept_rows = block.intermediate.dense.weight[[5, 9]].detach().clone()
    scores = [torch.zeros(1536) for _ in range(3)]
    scores[0][[5, 9]] = 1.0
    prune_ffn(model, scores, 2)
    assert block.intermediate.dense.weight.shape == (2, 384) and block.output.dense.weight.shape == (384, 2)
    torch.testing.assert_close(block.intermediate.dense.weight, kept_rows)
    assert model.config.intermediate_size == 2


def test_block_influence_ignores_padding(student):
    model, tokenizer = student
    one = block_influence(model, feeds(tokenizer, TEXTS[:1], 64))
    padded = block_influence(model, feeds(tokenizer, [TEXTS[0], TEXTS[1] * 3], 64, batch_size=2))
    alone = block_influence(model, feeds(tokenizer, [TEXTS[0], TEXTS[1] * 3], 64, batch_size=1))
    assert len(one) == 3 and all(0 < v < 2 for v in one)
    np.testing.assert_allclose(padded, alone, atol=1e-5)


def test_prune_student_drops_the_least_influential_block_and_reloads(student, tmp_path):
    model, tokenizer = student
    influence = block_influence(model, feeds(tokenizer, TEXTS, 32))
    dropped = prune_student(model, tokenizer, TEXTS, PruneConfig(drop_blocks=1, ffn_keep=0.25), max_length=32)
    assert dropped == [int(np.argmin(influence))]
    assert len(model.base_model.encoder.layer) == model.config.num_hidden_layers == 2
    assert model.config.intermediate_size == 384
    expected = predict_proba(model, tokenizer, TEXTS, max_length=32)
    reloaded, _ = load_student(save_student(model, tokenizer, tmp_path / "pruned"))
    np.testing.assert_allclose(predict_proba(reloaded, tokenizer, TEXTS, max_length=32), expected, atol=1e-6)


def test_one_block_always_stays(student):
    model, tokenizer = student
    dropped = prune_student(model, tokenizer, TEXTS, PruneConfig(drop_blocks=5, ffn_keep=1.0), max_length=32)
    assert len(dropped) == 2 and len(model.base_model.encoder.layer) == 1


def test_bad_prune_config_is_one_clear_error():
    with pytest.raises(UserError, match="ffn_keep"):
        PruneConfig(ffn_keep=0)
    with pytest.raises(UserError, match="drop_blocks"):
        PruneConfig(drop_blocks=-1)


def test_pruned_student_is_cached_by_student_and_config(student, tmp_path, monkeypatch):
    monkeypatch.setenv("KLLM_CACHE", str(tmp_path / "cache"))
    model, tokenizer = student
    base = save_student(model, tokenizer, tmp_path / "student-abc")
    soft = np.tile([[0.3, 0.7]], (len(TEXTS), 1))
    distill = DistillConfig(num_layers=3, max_length=24, batch_size=8, show_progress_bar=False)
    config = PruneConfig(ffn_keep=0.5, epochs=1, importance_inputs=8)
    logs = []
    first = pruned_student_cached(base, TEXTS, soft, distill, config, log=logs.append)
    assert pruned_student_cached(base, TEXTS, soft, distill, config, log=logs.append) == first and len(logs) == 1
    pruned, _ = load_student(first)
    assert pruned.config.num_hidden_layers == 2 and pruned.config.intermediate_size == 768
    other = pruned_student_cached(base, TEXTS, soft, distill, PruneConfig(ffn_keep=0.25, epochs=0), log=logs.append)
    assert other != first and load_student(other)[0].config.intermediate_size == 384
