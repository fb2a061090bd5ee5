"""RunContext's fold count and how a refusal names it."""
import competitions  # noqa: F401  (fills the registry)
from common.registry import get_competition
from common.solution import RunContext


def test_a_refusal_names_the_default_fold_count_and_offers_fewer_only_above_two():
    competition = get_competition("prompt-recovery")
    full, fast = RunContext(competition, data=None), RunContext(competition, data=None, fast=True)
    assert full.n_folds > 2 and full.folds_label == f"{full.n_folds} folds (the default; --folds N for fewer)"
    assert fast.n_folds == 2 and fast.folds_label == "2 folds (the --fast default)"
    assert RunContext(competition, data=None, folds=3).folds_label == "--folds 3"
