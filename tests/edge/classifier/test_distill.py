"""Distillation: the KL loss is zero when the student matches the teacher, and a tiny student
learns the teacher's soft labels, over texts or over text pairs with three classes."""
import numpy as np
import pytest
import torch

from common.errors import UserError
from common.metrics import get_metric
from common.training.text_classifier import as_targets, predict_proba
from edge.classifier.distill import DistillConfig, DistillationTrainer, distill_student, student_key
from fakes.essays import essays


def test_loss_is_zero_when_student_matches_teacher_and_positive_otherwise():
    trainer = DistillationTrainer(DistillConfig(temperature=2.0))
    teacher = torch.tensor([[0.9, 0.1], [0.3, 0.7]])
    assert trainer.loss(torch.log(teacher), teacher).item() == pytest.approx(0.0, abs=1e-6)
    assert trainer.loss(torch.log(teacher.flip(1)), teacher).item() > 0.1


def test_as_targets_checks_labels():
    np.testing.assert_array_equal(as_targets([1, 0], 2), [[0, 1], [1, 0]])
    with pytest.raises(UserError, match="sum to 1"):
        as_targets([[0.5, 0.6]], 2)
    with pytest.raises(UserError, match="integers"):
        as_targets([0, 2], 2)


def test_student_learns_soft_labels(tmp_path):
    frame = essays(32, seed=7)
    texts, y = frame["text"].to_list(), frame["generated"].to_numpy()
    soft = np.stack([1 - (0.1 + 0.8 * y), 0.1 + 0.8 * y], axis=1)
    cfg = DistillConfig(num_layers=1, max_length=24, epochs=3, learning_rate=3e-4, batch_size=8, show_progress_bar=False)
    model, tokenizer = distill_student(texts, soft, cfg)
    assert len(model.base_model.encoder.layer) == 1
    probs = predict_proba(model, tokenizer, texts, max_length=24)[:, 1]
    assert get_metric("roc_auc").fn(y, probs) > 0.9


def test_student_cache_key_changes_with_inputs():
    soft = np.array([[0.2, 0.8]], dtype=np.float32)
    base = student_key(["a"], soft, DistillConfig())
    assert base == student_key(["a"], soft, DistillConfig(show_progress_bar=False))
    assert base != student_key(["b"], soft, DistillConfig())
    assert base != student_key(["a"], soft[:, ::-1].copy(), DistillConfig())
    assert base != student_key(["a"], soft, DistillConfig(num_layers=2))
    assert base != student_key([("a", "b")], soft, DistillConfig())
    assert base != student_key(["a"], soft, DistillConfig(threads=DistillConfig().threads + 1))


def test_student_learns_three_classes_over_pairs():
    """The class is which of three words the response repeats from the question."""
    words = ["apple", "river", "stone"]
    rng = np.random.default_rng(0)
    inputs, y = [], []
    for _ in range(48):
        k = int(rng.integers(0, 3))
        inputs.append((f"pick one of {' '.join(rng.permutation(words))}", f"i pick {words[k]}"))
        y.append(k)
    soft = np.full((48, 3), 0.1, dtype=np.float32)
    soft[np.arange(48), y] = 0.8
    cfg = DistillConfig(num_layers=1, max_length=24, epochs=6, learning_rate=1e-3, batch_size=8, show_progress_bar=False)
    model, tokenizer = distill_student(inputs, soft, cfg)
    assert model.config.num_labels == 3
    accuracy = np.mean(predict_proba(model, tokenizer, inputs, max_length=24).argmax(1) == np.array(y))
    assert accuracy > 0.6  # chance is 1/3
