"""Probability ensembles: weights favour the better member, temperature tames over-confidence,
clipping bounds the loss, and fold_fitted never lets a fold choose its own parameters."""
import numpy as np

from common.prob_ensemble import ProbEnsemble, fit_temperature, fold_fitted, log_loss, with_temperature


def _members(n=600, k=4, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    guess = np.where(rng.random(n) < 0.7, y, rng.integers(0, k, n))   # right about 3 times in 4
    good = 0.4 * rng.dirichlet(np.ones(k), n) + 0.6 * np.eye(k)[guess]
    noise = rng.dirichlet(np.ones(k), n)
    return y, good, noise


def test_weights_favour_the_informative_member_and_beat_each_member():
    y, good, noise = _members()
    ens = ProbEnsemble.fit([good, noise], y)
    assert ens.weights[0] > 0.8 and abs(sum(ens.weights) - 1) < 1e-6
    blended = ens.apply([good, noise])
    assert np.allclose(blended.sum(1), 1) and blended.min() >= ens.clip - 1e-12
    assert log_loss(y, blended) <= min(log_loss(y, good), log_loss(y, noise)) + 1e-9


def test_temperature_softens_an_over_confident_model():
    y, good, _ = _members(seed=1)
    sharp = with_temperature(good, 0.3)      # same ranking, far too confident
    t = fit_temperature(sharp, y)
    assert t > 2 and log_loss(y, with_temperature(sharp, t)) < log_loss(y, sharp)


def test_fold_fitted_fits_each_fold_on_the_other_folds_only():
    folds = np.repeat([0, 1, 2], 5)
    seen = []

    def fit(rows):
        seen.append(set(rows.tolist()))
        return float(len(rows))

    pred, fitted = fold_fitted(fit, lambda n, rows: np.full(len(rows), n), folds)
    for k, rows in enumerate(seen):
        assert not rows & set(np.flatnonzero(folds == k).tolist())
    assert fitted == [10.0, 10.0, 10.0] and (pred == 10).all()
