"""Metric registry: name -> (function, higher-is-better, what it needs), as in h2o-llmstudio.

    from common.metrics import get_metric
    m = get_metric("map@3")
    m.fn(["A", "B"], ["A B C", "C B A"])   # -> 0.75
    m.higher_is_better                     # -> True
    get_metric("judge_score").needs        # -> "panel"

A metric declares what its function takes (`needs`), so callers dispatch on that, never on a
competition's or a metric's name (`common.scoring.score_submission` does):

    "labels": fn(y_true, y_pred, **options) -> float; y_true is the target column of a
              labelled file, y_pred the submission column(s).
    "panel":  fn(prompts, texts, panel=None, progress=True) -> PanelScore (value + components);
              prompts come from the competition's test table, texts from the submission, and a
              local judge panel scores them: no labels exist.

`version` counts changes to a metric's definition that move its scores: runs record it, and the
leaderboard never ranks runs of two versions together (judge_score 2: avg_h with ddof=0 since
2026-12-05, `common.metrics.judge`).

`setting` names the one option that changes what a score means (the encoder of sharpened
cosine, the judge panel of the judge score) and `default` its value when none is given: a
score is only comparable with scores made with the same setting, so it is recorded with it.
Each metric is computed as Kaggle computes it; see the module of each for the exact rules.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from common.errors import UserError
from common.metrics.classification import multiclass_logloss, roc_auc
from common.metrics.judge import PanelScore, judge_panel_score
from common.metrics.ranking import map_at_k
from common.metrics.similarity import DEFAULT_ENCODER, sharpened_cosine

NEEDS = ("labels", "panel")


@dataclass(frozen=True)
class Metric:
    name: str
    fn: Callable[..., float | PanelScore]
    higher_is_better: bool
    description: str
    needs: str = "labels"
    setting: str = ""
    default: str = ""
    version: int = 1
    bounds: tuple[float, float] = (-math.inf, math.inf)   # every score it can give lies within

    def within(self, score: float) -> bool:
        """Inside `bounds`, give or take float32 rounding (a cosine of 1.0000001)."""
        return self.bounds[0] - 1e-4 <= score <= self.bounds[1] + 1e-4

    def __post_init__(self):
        if self.needs not in NEEDS:
            raise ValueError(f"metric {self.name}: needs must be one of {', '.join(NEEDS)}, not {self.needs!r}")

    def better(self, a: float, b: float) -> bool:
        """True when score a beats score b."""
        return a > b if self.higher_is_better else a < b


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("map@3", map_at_k, True, "mean average precision at 3 over space-separated letters", bounds=(0, 1)),
        Metric("roc_auc", roc_auc, True, "area under the ROC curve", bounds=(0, 1)),
        Metric("multiclass_logloss", multiclass_logloss, False, "log loss, rows rescaled to sum 1, then clipped to [1e-15, 1-1e-15]",
               bounds=(0, -math.log(1e-15))),
        Metric("sharpened_cosine", sharpened_cosine, True, "mean cos(e(pred), e(true))^3 with a sentence encoder",
               setting="encoder", default=DEFAULT_ENCODER, bounds=(-1, 1)),
        Metric("judge_score", judge_panel_score, True,
               "avg_h*min_v*avg_e / (avg_s*(9-avg_q)) over a local judge panel", needs="panel", setting="panel",
               version=2, bounds=(0, math.inf)),
    )
}


def get_metric(name: str) -> Metric:
    if name not in METRICS:
        raise UserError(f"unknown metric {name!r}; known: {', '.join(METRICS)}")
    return METRICS[name]


class MetricDirection:
    """For a class with a `metric` attribute (a registered name): that Metric and its direction.
    DistillSet and PortSet, which `make edge` scores teacher and device with, share it."""

    @property
    def metric_info(self) -> Metric:
        return get_metric(self.metric)

    @property
    def higher_is_better(self) -> bool:
        return self.metric_info.higher_is_better

    def shortfall(self, reference: float, score: float) -> float:
        """How much worse `score` is than `reference` under the metric's direction (< 0: better)."""
        return reference - score if self.higher_is_better else score - reference
