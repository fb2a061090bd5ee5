"""How train rows are split into folds: the plan, and what a competition declares.

    FoldPlan(n_folds=5, seed=42, strategy="group").assign(len(train), groups=train["Question"])
    FoldPlan(5, strategy="stratified_group").assign(len(train), y=train["generated"], groups=train["prompt_id"])
    CvSpec(strategy="stratified", by="generated", default_folds=5)   # in a Competition's registration

A fold count below 2, or above what the data allows (rows, the smallest class, the number of
groups), is a UserError with one line, raised before any model is trained.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from common.errors import UserError

STRATEGIES = ("kfold", "stratified", "group", "stratified_group")


def check_fold_count(n_folds: int) -> int:
    """n_folds as an int, or a UserError when it is below 2 (which no data allows)."""
    if int(n_folds) != n_folds or n_folds < 2:
        raise UserError(f"--folds must be at least 2, got {n_folds}")
    return int(n_folds)


@dataclass(frozen=True)
class FoldPlan:
    """How train rows are split: `n_folds` folds by `strategy`, shuffled with `seed`. `label` names
    the fold count in a refusal (default "--folds N"; a run with no --folds names its default)."""

    n_folds: int = 5
    seed: int = 42
    strategy: str = "kfold"
    label: str = ""

    def __post_init__(self):
        if self.strategy not in STRATEGIES:
            raise UserError(f"unknown fold strategy {self.strategy!r}; known: {', '.join(STRATEGIES)}")
        check_fold_count(self.n_folds)

    def assign(self, n_rows: int, y: Sequence | None = None, groups: Sequence | None = None) -> np.ndarray:
        """The fold id (0..n_folds-1) of each of `n_rows` rows."""
        self._check_allowed(n_rows, y, groups)
        from sklearn.model_selection import GroupKFold, KFold, StratifiedGroupKFold, StratifiedKFold

        rows = np.zeros(n_rows)
        if self.strategy == "kfold":
            splits = KFold(self.n_folds, shuffle=True, random_state=self.seed).split(rows)
        elif self.strategy == "stratified":
            splits = StratifiedKFold(self.n_folds, shuffle=True, random_state=self.seed).split(rows, np.asarray(y))
        elif self.strategy == "group":
            splits = GroupKFold(self.n_folds, shuffle=True, random_state=self.seed).split(rows, groups=_group_codes(groups))
        else:   # groups never split, each fold's class mix as close to the whole's as the groups allow
            splits = StratifiedGroupKFold(self.n_folds, shuffle=True, random_state=self.seed).split(
                rows, np.asarray(y), groups=_group_codes(groups))
        folds = np.full(n_rows, -1, dtype=np.int64)
        for k, (_, held) in enumerate(splits):
            folds[held] = k
        return folds

    def _check_allowed(self, n_rows: int, y, groups) -> None:
        k, label = self.n_folds, self.label or f"--folds {self.n_folds}"
        if self.strategy in ("stratified", "stratified_group"):
            if y is None or len(y) != n_rows:
                raise ValueError(f"{self.strategy} folds need one label per row")
            counts = np.unique(np.asarray(y), return_counts=True)[1]
            if counts.min() < k:
                raise UserError(f"{label}: stratified folds need at least {k} rows of every class; "
                                f"the smallest class here has {counts.min()}")
        if self.strategy in ("group", "stratified_group"):
            if groups is None or len(groups) != n_rows:
                raise ValueError(f"{self.strategy} folds need one group per row")
            n_groups = len(np.unique(_group_codes(groups)))
            if n_groups < k:
                raise UserError(f"{label}: group folds need at least {k} groups; the data has {n_groups}")
        if n_rows < k:
            raise UserError(f"{label}: the data has only {n_rows} training rows")


def _group_codes(groups: Sequence) -> np.ndarray:
    return np.unique(np.asarray([str(g) for g in groups]), return_inverse=True)[1]


@dataclass(frozen=True)
class CvSpec:
    """A competition's cross-validation: `strategy` over the rows of its `table`, stratified or
    grouped `by` a column (empty for plain k-fold), `default_folds` unless --folds says otherwise
    (`fast_folds` for a --fast run). `check`: "module:function" taking the RunContext that
    refuses, before any work, a fold count the run's rows cannot hold, for a solution that trains on
    more rows than the table (detect-ai-text's extra_train); empty: the table's own rows decide."""

    strategy: str = "kfold"
    by: str = ""
    default_folds: int = 5
    fast_folds: int = 2
    table: str = "train"
    check: str = ""

    def __post_init__(self):
        if self.strategy not in STRATEGIES:
            raise ValueError(f"unknown fold strategy {self.strategy!r}; known: {', '.join(STRATEGIES)}")
        if self.strategy != "kfold" and not self.by:
            raise ValueError(f"{self.strategy} folds need the column to split by")

    def fold_ids(self, frame, n_folds: int, seed: int, label: str = "") -> np.ndarray:
        """The fold id of every row of `frame` (a polars DataFrame of `table`); `label`: FoldPlan's."""
        if self.by and self.by not in frame.columns:
            raise UserError(f"{self.table}: no column {self.by!r} to split the folds by")
        column = frame[self.by].to_list() if self.by else None
        plan = FoldPlan(n_folds, seed, self.strategy, label)
        return plan.assign(len(frame), y=column if self.strategy == "stratified" else None,
                           groups=column if self.strategy == "group" else None)


def fast_rows(folds: np.ndarray, keep: int, seed: int, groups: Sequence | None = None,
              what: str = "rows", option: str = "fast_train") -> np.ndarray:
    """The rows a --fast run keeps: at most `keep` groups (each row its own group when `groups` is
    None; a group's rows stay together), as even across folds as the folds allow, drawn with the
    seed, in file order. `keep` 0 (or at least every group) keeps every row.

        fast_rows(folds, 160, seed=42)                                   # 160 rows
        fast_rows(folds, 60, seed=42, groups=train["Question"], what="questions")   # 60 questions' rows

    A `keep` that leaves fewer than 2 groups a fold is a UserError naming `option`.
    """
    folds = np.asarray(folds)
    if groups is not None and len(groups) != len(folds):
        raise ValueError(f"{len(groups)} groups for {len(folds)} fold ids")
    units = np.arange(len(folds)) if groups is None else _group_codes(groups)
    n_units = int(units.max()) + 1 if len(units) else 0
    if not keep or keep >= n_units:
        return np.arange(len(folds))
    n_folds = len(np.unique(folds))
    if keep < 2 * n_folds:
        raise UserError(f"{option} {keep} leaves fewer than 2 {what} a fold; give at least {2 * n_folds} (0 = all)")
    unit_fold = np.full(n_units, -1, dtype=np.int64)
    unit_fold[units[::-1]] = folds[::-1]    # each group's fold: that of its first row
    rng = np.random.default_rng(seed)
    order = [rng.permutation(np.flatnonzero(unit_fold == f)) for f in np.unique(folds)]
    rounds = max(len(members) for members in order)
    picked = [members[r] for r in range(rounds) for members in order if r < len(members)][:keep]   # folds in turn
    return np.flatnonzero(np.isin(units, picked))
