"""What a competition hands to `make edge`: inputs with the teacher's soft labels, and a held-out
split with true labels and the teacher's probabilities, so teacher and student are scored alike.

A competition declares `edge_spec="competitions.<name>.edge:spec"` in its registry entry (by
default its package's edge.py); that function takes (data: common.data.Dataset, seed: int,
fast: bool, options: dict) and returns a DistillSet, or a common.port_set.PortSet when the
solution is a plan the device runs as it is. Binary texts (detect-ai-text):

    DistillSet(label_names=("human", "ai"), metric="roc_auc", positive_label="ai",
               inputs=texts, soft_labels=probs,                  # (n, 2), rows sum to 1
               holdout_inputs=held_texts, holdout_labels=y_held, # class indices
               holdout_teacher=teacher_probs_held,               # (m, 2)
               teacher="rank average of ...", info={"folds": 3})

Seven classes over (question, response) pairs:

    DistillSet(label_names=tuple(f"model_{i}" for i in range(7)), metric="multiclass_logloss",
               inputs=[(q, r) for q, r in zip(questions, responses)], soft_labels=probs_n_by_7,
               holdout_inputs=held_pairs, holdout_labels=y_held, holdout_teacher=probs_m_by_7,
               teacher="...")
    ds.score(student_probs)     # the metric on the held-out split; ds.higher_is_better -> False

The metric is any registered one (common.metrics) that can read a classifier's probabilities:
roc_auc (the positive class's probability; positive_label defaults to the last label),
multiclass_logloss (every class's probability) and map@3 (labels ranked by probability).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from common.errors import UserError
from common.metrics import MetricDirection
from common.training.inputs import check_inputs, is_pairs


def _positive_class(ds: DistillSet, probs: np.ndarray):
    return (ds.holdout_labels == ds.positive_index).astype(int), probs[:, ds.positive_index]


def _probabilities(ds: DistillSet, probs: np.ndarray):
    return ds.holdout_labels, probs


def _ranked_labels(ds: DistillSet, probs: np.ndarray):
    names = np.asarray(ds.label_names)
    ranked = np.argsort(-probs, axis=1, kind="stable")[:, :3]
    return [str(names[i]) for i in ds.holdout_labels], [" ".join(names[row]) for row in ranked]


STUDENT_KINDS = ("classifier", "lm_features")

# How each metric reads probabilities (m, K): the (truth, prediction) it is called with.
CLASSIFIER_METRICS = {"roc_auc": _positive_class, "multiclass_logloss": _probabilities, "map@3": _ranked_labels}


def _probability_rows(value, shape: tuple[int, int], what: str) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)  # float32 could tie close teacher scores and move its AUC
    if arr.shape != shape:
        raise UserError(f"distill set: {what} has shape {arr.shape}, want {shape}")
    if not np.all(np.isfinite(arr)) or arr.min() < 0 or not np.allclose(arr.sum(1), 1, atol=1e-3):
        raise UserError(f"distill set: {what} must be finite probabilities whose rows sum to 1")
    return arr


@dataclass
class DistillSet(MetricDirection):
    """The teacher's labels for a student classifier (see the module docstring).

    label_names: class names in logit order. metric: a common.metrics name (see
    CLASSIFIER_METRICS). inputs: texts, or (text, text) pairs, the student trains on.
    soft_labels: (len(inputs), n_classes) teacher probabilities. holdout_inputs: inputs that
    neither teacher nor student was fit on, of the same kind. holdout_labels: their true class
    indices. holdout_teacher: (len(holdout_inputs), n_classes) teacher probabilities.
    teacher: one line naming the teacher. positive_label: the class roc_auc scores (None: the
    last label). info: provenance (folds, seeds, sizes), copied into the edge report.
    submission: the Kaggle submission's id column then its probability columns (("id",
    "generated")), for the device to print a CSV input's answers in that form; () for none.
    student: the kind of student `make edge` trains: "classifier" (a small encoder over the
    texts) or "lm_features" (a tree or linear head over a causal LM's token statistics of pairs; see
    edge/lm_features). student_options: that student's config fields (e.g. {"model": "smollm2"}).
    """

    label_names: tuple[str, ...]
    metric: str
    inputs: list
    soft_labels: np.ndarray
    holdout_inputs: list
    holdout_labels: np.ndarray
    holdout_teacher: np.ndarray
    teacher: str
    positive_label: str | None = None
    info: dict = field(default_factory=dict)
    student: str = "classifier"
    student_options: dict = field(default_factory=dict)
    submission: tuple[str, ...] = ()

    def __post_init__(self):
        self.label_names = tuple(str(n) for n in self.label_names)
        k = len(self.label_names)
        if k < 2 or len(set(self.label_names)) != k:
            raise UserError(f"distill set: want 2 or more distinct label names, got {self.label_names}")
        if self.metric_info.name not in CLASSIFIER_METRICS:
            raise UserError(f"distill set: metric {self.metric!r} cannot score class probabilities; "
                            f"use one of {', '.join(CLASSIFIER_METRICS)}")
        if self.metric == "map@3" and any(" " in n for n in self.label_names):
            raise UserError("distill set: map@3 joins label names with spaces, so names must hold none")
        self.positive_label = self.label_names[-1] if self.positive_label is None else self.positive_label
        if self.positive_label not in self.label_names:
            raise UserError(f"distill set: positive label {self.positive_label!r} is not among {self.label_names}")
        self.inputs = check_inputs(self.inputs, "distill set inputs")
        self.holdout_inputs = check_inputs(self.holdout_inputs, "distill set holdout_inputs")
        if is_pairs(self.inputs) != is_pairs(self.holdout_inputs):
            raise UserError("distill set: inputs and holdout_inputs must both be texts or both be text pairs")
        n, m = len(self.inputs), len(self.holdout_inputs)
        self.soft_labels = _probability_rows(self.soft_labels, (n, k), "soft_labels")
        self.holdout_teacher = _probability_rows(self.holdout_teacher, (m, k), "holdout_teacher")
        labels = np.asarray(self.holdout_labels)
        if labels.shape != (m,) or not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0 or labels.max() >= k:
            raise UserError(f"distill set: holdout_labels must be {m} class indices in 0..{k - 1}")
        self.holdout_labels = labels.astype(int)
        self.teacher, self.info = str(self.teacher), dict(self.info)
        if self.student not in STUDENT_KINDS:
            raise UserError(f"distill set: student {self.student!r} is not one of {', '.join(STUDENT_KINDS)}")
        if self.student == "lm_features" and not self.pairs:
            raise UserError("distill set: an lm_features student reads (question, response) pairs")

    @property
    def n_classes(self) -> int:
        return len(self.label_names)

    @property
    def pairs(self) -> bool:
        """True when the inputs are (text, text) pairs."""
        return is_pairs(self.inputs)

    @property
    def positive_index(self) -> int:
        return self.label_names.index(self.positive_label)

    def score(self, probs) -> float:
        """The metric of (len(holdout_inputs), n_classes) probabilities on the held-out split."""
        probs = np.asarray(probs, dtype=float)
        if probs.shape != self.holdout_teacher.shape:
            raise UserError(f"distill set: score wants probabilities of shape {self.holdout_teacher.shape}, "
                            f"got {probs.shape}")
        return float(self.metric_info.fn(*CLASSIFIER_METRICS[self.metric](self, probs)))

    def accuracy(self, probs) -> float:
        """Share of held-out inputs whose most probable class is their label."""
        probs = np.asarray(probs, dtype=float)
        return float(np.mean(probs.argmax(axis=1) == self.holdout_labels))

    @property
    def teacher_score(self) -> float:
        return self.score(self.holdout_teacher)
