"""The contract between `submit` and a competition's solution.

A solution is a function `run(ctx: RunContext) -> SolutionResult`:

    def run(ctx):
        train, test = ctx.data.tables["train"], ctx.data.tables["test"]
        ...cross-validate variants on train, fit the best, predict test...
        return SolutionResult(submission=frame, cv={"tfidf": CvScore(0.91, 0.01, 5)}, best="tfidf")

`submit` then checks and writes the submission and appends one record per variant to the
results store, so a solution never writes files or results itself.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from common.data import Dataset
from common.registry import Competition


@dataclass
class RunContext:
    """What a solution gets. `options` holds `--set key=value` overrides from the CLI."""

    competition: Competition
    data: Dataset
    seed: int = 42
    folds: int = 5
    fast: bool = False
    options: dict[str, str] = field(default_factory=dict)

    def option(self, key: str, default):
        """An override from `--set key=value`, cast to the type of the default."""
        if key not in self.options:
            return default
        raw = self.options[key]
        if isinstance(default, bool):
            return raw.lower() in ("1", "true", "yes", "on")
        return type(default)(raw) if default is not None else raw


@dataclass
class CvScore:
    """A cross-validated score: mean over folds, standard deviation, fold count, and notes."""

    mean: float
    std: float = 0.0
    folds: int = 0
    note: str = ""


@dataclass
class SolutionResult:
    """submission: the test predictions in submission form. cv: variant name -> CvScore.
    best: the variant whose predictions are in `submission`. info: extra provenance (models, caches)."""

    submission: pl.DataFrame
    cv: dict[str, CvScore]
    best: str
    info: dict = field(default_factory=dict)
