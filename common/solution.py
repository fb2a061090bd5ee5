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

import importlib
import sys
from dataclasses import dataclass, field

import polars as pl

from common.data import Dataset
from common.errors import UserError
from common.options import config_from_options
from common.registry import Competition


@dataclass
class RunContext:
    """What a solution gets. `options` holds `--set key=value` overrides from the CLI (and from
    an experiment file); folds is `--folds` (None: the solution's own default).

        cfg = ctx.config(SolutionConfig)   # defaults, then --set options (unknown ones refused)
        folds = ctx.fold_ids()             # fold id of every train row (common.folds.CvSpec)
    """

    competition: Competition
    data: Dataset
    seed: int = 42
    folds: int | None = None
    fast: bool = False
    options: dict[str, str] = field(default_factory=dict)
    experiment: str | None = None
    also_known: tuple[str, ...] = ()   # option keys a caller took out of `options` (an edge spec's own)

    def config(self, cls):
        """The solution's config dataclass from its defaults and the options; an unknown option
        is refused, naming the known ones (and also_known)."""
        return config_from_options(cls, self.options, self.competition.slug, also_known=self.also_known)

    @property
    def n_folds(self) -> int:
        """--folds, else the competition's default (its fast default under --fast)."""
        spec = self.competition.cv
        if spec is None:
            return 0
        return self.folds or (spec.fast_folds if self.fast else spec.default_folds)

    def fold_ids(self):
        """The fold id of every row of the competition's train table: its CvSpec's strategy and
        column, `n_folds` folds, this run's seed. A UserError when the data cannot hold them."""
        spec = self.competition.cv
        if spec is None:
            raise UserError(f"{self.competition.slug} has no train rows to fold; it is validated by judge panels")
        return spec.fold_ids(self.data.tables[spec.table], self.n_folds, self.seed, self.folds_label)

    @property
    def folds_label(self) -> str:
        """How a refusal names the fold count: "--folds 5" when it was asked for, else the default."""
        if self.folds is not None:
            return f"--folds {self.folds}"
        fewer = "; --folds N for fewer" if self.n_folds > 2 else ""       # 2 is the fewest folds there are
        return f"{self.n_folds} folds (the {'--fast ' if self.fast else ''}default{fewer})"

    def check_folds(self) -> None:
        """A UserError when this run's rows cannot hold its folds: the CvSpec's own `check` when it
        names one (a solution that adds rows), else the folds of the train table are tried."""
        spec = self.competition.cv
        if spec is not None and spec.check:
            module, function = spec.check.split(":")
            getattr(importlib.import_module(module), function)(self)
        else:
            self.fold_ids()


# kind -> what it means (the leaderboard's group titles use the same words)
VALIDATION_KINDS = {"cv": "cv (held-out folds)", "holdout": "holdout (a held-out split)",
                    "panel": "panel (local judge panel)"}


@dataclass
class CvScore:
    """A validation score: mean over folds, standard deviation, fold count, and notes.

    kind says how it was obtained: "cv" (held-out folds), "holdout" (a held-out split, such as
    unseen generators or instructions) or "panel" (essays judged by a local judge panel).
    encoder names the sentence encoder a similarity metric (sharpened cosine) was computed with,
    and panel the judge panel of a "panel" score: scores of different kinds, encoders or panels
    are never ranked against each other.
    """

    mean: float
    std: float = 0.0
    folds: int = 0
    note: str = ""
    kind: str = "cv"
    encoder: str = ""
    panel: str = ""
    per_fold: tuple[float, ...] = ()    # each fold's score, in fold order (empty where not kept)

    def __post_init__(self):
        if self.kind not in VALIDATION_KINDS:
            raise ValueError(f"unknown validation kind {self.kind!r}; known: {', '.join(VALIDATION_KINDS)}")


@dataclass
class SolutionResult:
    """submission: the test predictions in submission form. cv: variant name -> CvScore.
    best: the variant whose predictions are in `submission`. info: extra provenance (models, caches).
    extra_rows: the file of labeled rows the solution trained and validated on beside the train
    file ('' = none); the run's data source is then recorded as e.g. "kaggle+extra", so its CV,
    measured on other rows, is never ranked against runs on train alone. chosen_among: the
    variants `best` was picked from by the best CV score (empty when the solution fixes it or
    `--set submit` named it); the run then also reports what picking on the other folds scores
    (common.cv.selection_score), since the winner's own CV is the best of several draws."""

    submission: pl.DataFrame
    cv: dict[str, CvScore]
    best: str
    info: dict = field(default_factory=dict)
    extra_rows: str = ""
    chosen_among: tuple[str, ...] = ()


def load_solution(competition: Competition):
    module_name = (competition.solution or "").split(":")[0]
    try:
        return competition.load_entry("solution")
    except ModuleNotFoundError as err:
        if err.name and module_name.startswith(err.name):
            raise UserError(f"{competition.slug}: its solution is not built yet ({module_name} is missing)") from None
        raise


def check_options(competition: Competition, solve, options: dict[str, str], given: dict[str, str] | None = None,
                  experiment=None) -> None:
    """Refuse an unknown `--set` key or a bad value before the data is read, by the options
    dataclass the module of `solve` names as CONFIG (its __post_init__ checks ranges). With an
    experiment, `options` are its file's merged with `given` (the command line's): an error the
    command line's options raise alone is theirs; else one the file's own (not overridden) raise
    alone is named as the file's; else the two are named together."""
    config = getattr(sys.modules[solve.__module__], "CONFIG", None)
    if config is None:
        return
    try:
        config_from_options(config, options, competition.slug)
    except UserError as err:
        if experiment is None:
            raise
        config_from_options(config, given or {}, competition.slug)     # the command line's own error first
        try:
            config_from_options(config, {k: v for k, v in experiment.options.items() if k not in (given or {})},
                                competition.slug)
        except UserError as own:
            raise UserError(f"{experiment.path}: {own}") from None
        raise UserError(f"{err} (--set with {experiment.path}'s values)") from None
