"""LightGBM models built the one way every solution needs: deterministic and single-threaded.

    from common.training.trees import lgbm_classifier, lgbm_regressor
    model = lgbm_classifier(seed=42, n_estimators=120, num_leaves=31)   # an LGBMClassifier
    booster = lgbm_regressor(seed=7, objective="cross_entropy").fit(x, y).booster_

LightGBM otherwise picks row- or column-wise histograms by timing them, and the two differ in
float sums: the same seed would give other scores from run to run.
"""
from __future__ import annotations

DETERMINISTIC = {"deterministic": True, "force_row_wise": True, "n_jobs": 1, "verbose": -1}


def lgbm_classifier(seed: int, **params):
    """lightgbm.LGBMClassifier(random_state=seed, **params) in the deterministic mode."""
    import lightgbm as lgb

    return lgb.LGBMClassifier(random_state=seed, **params, **DETERMINISTIC)


def lgbm_regressor(seed: int, **params):
    """lightgbm.LGBMRegressor(random_state=seed, **params) in the deterministic mode."""
    import lightgbm as lgb

    return lgb.LGBMRegressor(random_state=seed, **params, **DETERMINISTIC)
