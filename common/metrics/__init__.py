"""Metric registry: name -> (function, higher-is-better), as in h2o-llmstudio.

    from common.metrics import get_metric
    m = get_metric("map@3")
    m.fn(["A", "B"], ["A B C", "C B A"])   # -> 0.75
    m.higher_is_better                     # -> True

Each metric is computed as Kaggle computes it; see the module of each for the exact rules.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from common.errors import UserError
from common.metrics.classification import multiclass_logloss, roc_auc
from common.metrics.judge import judge_score
from common.metrics.ranking import map_at_k
from common.metrics.similarity import sharpened_cosine


@dataclass(frozen=True)
class Metric:
    name: str
    fn: Callable[..., float]
    higher_is_better: bool
    description: str

    def better(self, a: float, b: float) -> bool:
        """True when score a beats score b."""
        return a > b if self.higher_is_better else a < b


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("map@3", map_at_k, True, "mean average precision at 3 over space-separated letters"),
        Metric("roc_auc", roc_auc, True, "area under the ROC curve"),
        Metric("multiclass_logloss", multiclass_logloss, False, "log loss, clipped to [1e-15, 1-1e-15], rows renormalized"),
        Metric("sharpened_cosine", sharpened_cosine, True, "mean cos(e(pred), e(true))^3 with a sentence encoder"),
        Metric("judge_score", judge_score, True, "avg_h*min_v*avg_e / (avg_s*(9-avg_q)) over a judge panel"),
    )
}


def get_metric(name: str) -> Metric:
    if name not in METRICS:
        raise UserError(f"unknown metric {name!r}; known: {', '.join(METRICS)}")
    return METRICS[name]
