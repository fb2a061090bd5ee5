"""common.training.trees: every LightGBM model is built deterministic and single-threaded, so one
seed gives one set of scores."""
import numpy as np

from common.training.trees import DETERMINISTIC, lgbm_classifier, lgbm_regressor


def test_the_deterministic_mode_is_always_set_and_a_seed_repeats_its_predictions():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(200, 6)), rng.integers(0, 2, 200)
    model = lgbm_classifier(3, n_estimators=20, subsample=0.8, subsample_freq=1)
    assert {k: model.get_params()[k] for k in DETERMINISTIC} == DETERMINISTIC and model.random_state == 3
    first = model.fit(x, y).predict_proba(x)
    again = lgbm_classifier(3, n_estimators=20, subsample=0.8, subsample_freq=1).fit(x, y).predict_proba(x)
    other = lgbm_classifier(4, n_estimators=20, subsample=0.8, subsample_freq=1).fit(x, y).predict_proba(x)
    assert np.array_equal(first, again) and not np.array_equal(first, other)
    regressor = lgbm_regressor(3, objective="cross_entropy", n_estimators=5)
    assert regressor.get_params()["force_row_wise"] is True and regressor.fit(x, y / 1.0).predict(x).shape == (200,)
