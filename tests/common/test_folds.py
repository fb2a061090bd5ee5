"""Fold plans: each strategy keeps its promise, and impossible fold counts are one-line errors."""
import numpy as np
import polars as pl
import pytest

from common.errors import UserError
from common.folds import CvSpec, FoldPlan, check_fold_count


def test_kfold_uses_every_fold_and_is_reproducible():
    a = FoldPlan(5, seed=3).assign(23)
    assert sorted(np.unique(a)) == [0, 1, 2, 3, 4] and (a >= 0).all()
    assert (a == FoldPlan(5, seed=3).assign(23)).all()
    assert not (a == FoldPlan(5, seed=4).assign(23)).all()


def test_stratified_folds_keep_the_class_balance():
    y = np.array([0] * 40 + [1] * 10)
    folds = FoldPlan(5, seed=0, strategy="stratified").assign(50, y=y)
    assert [int((y[folds == k] == 1).sum()) for k in range(5)] == [2] * 5


def test_group_folds_never_split_a_group():
    groups = np.repeat([f"q{i}" for i in range(12)], 7)   # 12 questions with 7 responses each
    folds = FoldPlan(4, seed=0, strategy="group").assign(len(groups), groups=groups)
    for g in np.unique(groups):
        assert len(set(folds[groups == g])) == 1
    assert sorted(np.unique(folds)) == [0, 1, 2, 3]


@pytest.mark.parametrize("plan, kwargs, message", [
    (FoldPlan(10), {"n_rows": 6}, "only 6 training rows"),
    (FoldPlan(3, strategy="stratified"), {"n_rows": 6, "y": [0, 0, 0, 0, 1, 1]}, "smallest class here has 2"),
    (FoldPlan(3, strategy="group"), {"n_rows": 6, "groups": ["a", "a", "a", "b", "b", "b"]}, "data has 2"),
])
def test_more_folds_than_the_data_allows_is_a_user_error(plan, kwargs, message):
    with pytest.raises(UserError, match=message):
        plan.assign(**kwargs)


@pytest.mark.parametrize("bad", [1, 0, -3])
def test_fewer_than_two_folds_is_a_user_error(bad):
    with pytest.raises(UserError, match="at least 2"):
        check_fold_count(bad)
    with pytest.raises(UserError, match="at least 2"):
        FoldPlan(bad)


def test_cv_spec_splits_a_frame_by_its_column():
    frame = pl.DataFrame({"Question": [f"q{i // 3}" for i in range(30)], "x": range(30)})
    folds = CvSpec("group", by="Question").fold_ids(frame, n_folds=5, seed=1)
    assert all(len(set(folds[np.array(frame["Question"]) == q])) == 1 for q in set(frame["Question"]))
    with pytest.raises(UserError, match="no column 'Prompt'"):
        CvSpec("group", by="Prompt").fold_ids(frame, 5, 1)
    with pytest.raises(ValueError):
        CvSpec("group")


def test_fast_rows_keeps_whole_groups_from_the_folds_in_turn_with_the_seed():
    from common.folds import fast_rows

    groups = [f"q{i // 3}" for i in range(30)]            # 10 groups of 3 rows, in file order
    folds = np.repeat([0, 0, 0, 0, 0, 0, 1, 1, 1, 2], 3)  # fold 2 holds one group
    rows = fast_rows(folds, 6, seed=4, groups=groups, what="questions")
    kept = sorted({groups[i] for i in rows})
    assert len(kept) == 6 and list(rows) == sorted(rows)
    assert all(groups.count(g) == sum(groups[i] == g for i in rows) for g in kept)   # a group's rows stay together
    assert np.bincount(folds[rows]).tolist() == [9, 6, 3]                     # 3, 2 and fold 2's only group
    assert list(rows) == list(fast_rows(folds, 6, seed=4, groups=groups))   # the seed decides
    assert any(list(rows) != list(fast_rows(folds, 6, seed=s, groups=groups)) for s in range(5, 9))
    assert len(fast_rows(folds, 0, seed=4, groups=groups)) == 30                      # 0 = all
    assert len(fast_rows(folds, 10, seed=4, groups=groups)) == 30
    with pytest.raises(UserError, match="fast_train 5 leaves fewer than 2 questions a fold"):
        fast_rows(folds, 5, seed=4, groups=groups, what="questions")


def test_fast_rows_without_groups_counts_rows():
    from common.folds import fast_rows

    folds = np.arange(12) % 3
    rows = fast_rows(folds, 7, seed=0)
    assert len(rows) == 7 and sorted(np.bincount(folds[rows]).tolist()) == [2, 2, 3]

    with pytest.raises(ValueError, match="3 groups for 12 fold ids"):
        fast_rows(folds, 7, seed=0, groups=["a", "b", "c"])
