"""What a competition hands to `make edge`: texts with the teacher's soft labels, and a held-out
split scored by the teacher, so teacher and student are compared on the same texts.

A competition declares `edge_spec="competitions.<name>.edge:spec"` in its registry entry; that
function takes (data: common.data.Dataset, seed: int, fast: bool, options: dict) and returns a
plain dict (competitions may not import edge/) with these keys:

    label_names      class names in logit order, e.g. ("human", "ai")
    positive_label   the class whose probability is scored, e.g. "ai"
    metric           a common.metrics name, e.g. "roc_auc"
    texts            texts the student trains on (never the held-out ones)
    soft_labels      (len(texts), len(label_names)) teacher probabilities, rows sum to 1
    holdout_texts    texts neither teacher nor student was fit on
    holdout_labels   their true class indices
    holdout_teacher  the teacher's score of the positive class on holdout_texts
    teacher          one line naming the teacher;  info: dict of provenance (optional)

    distill_set = load_distill_set(get_competition("detect-ai-text"), dataset, seed=42)
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from common.data import Dataset
from common.errors import UserError
from common.metrics import get_metric
from common.registry import Competition

REQUIRED_KEYS = ("label_names", "positive_label", "metric", "texts", "soft_labels", "holdout_texts",
                 "holdout_labels", "holdout_teacher", "teacher")


@dataclass
class DistillSet:
    """The checked form of a competition's edge spec (see the module docstring)."""

    label_names: tuple[str, ...]
    positive_label: str
    metric: str
    texts: list[str]
    soft_labels: np.ndarray
    holdout_texts: list[str]
    holdout_labels: np.ndarray
    holdout_teacher: np.ndarray
    teacher: str
    info: dict = field(default_factory=dict)

    @property
    def positive_index(self) -> int:
        return self.label_names.index(self.positive_label)

    def score(self, positive_scores) -> float:
        """The metric of positive-class scores on the held-out texts (binary metrics)."""
        truth = (self.holdout_labels == self.positive_index).astype(int)
        return get_metric(self.metric).fn(truth, np.asarray(positive_scores, dtype=float))

    @property
    def teacher_score(self) -> float:
        return self.score(self.holdout_teacher)


def check_distill_set(raw: dict, where: str = "edge spec") -> DistillSet:
    missing = [k for k in REQUIRED_KEYS if k not in raw]
    if missing:
        raise UserError(f"{where}: missing key(s) {', '.join(missing)}")
    labels = tuple(raw["label_names"])
    soft = np.asarray(raw["soft_labels"], dtype=np.float32)
    texts, holdout = list(raw["texts"]), list(raw["holdout_texts"])
    if raw["positive_label"] not in labels:
        raise UserError(f"{where}: positive label {raw['positive_label']!r} is not among {labels}")
    if soft.shape != (len(texts), len(labels)):
        raise UserError(f"{where}: soft_labels has shape {soft.shape}, want ({len(texts)}, {len(labels)})")
    if not np.all(np.isfinite(soft)) or not np.allclose(soft.sum(1), 1, atol=1e-3):
        raise UserError(f"{where}: soft_labels must be finite probabilities whose rows sum to 1")
    if not texts or not holdout:
        raise UserError(f"{where}: needs texts to distill on and held-out texts")
    if len(raw["holdout_labels"]) != len(holdout) or len(raw["holdout_teacher"]) != len(holdout):
        raise UserError(f"{where}: holdout_labels and holdout_teacher need one value per held-out text")
    return DistillSet(labels, raw["positive_label"], raw["metric"], texts, soft, holdout,
                      np.asarray(raw["holdout_labels"], dtype=int), np.asarray(raw["holdout_teacher"], dtype=float),
                      str(raw["teacher"]), dict(raw.get("info", {})))


def load_distill_set(competition: Competition, data: Dataset, seed: int = 42, fast: bool = False,
                     options: dict | None = None) -> DistillSet:
    """Run the competition's edge spec (it trains the teacher) and check what it returns."""
    build = competition.load_entry("edge_spec")
    return check_distill_set(build(data, seed=seed, fast=fast, options=options or {}),
                             where=f"{competition.slug} edge spec")
