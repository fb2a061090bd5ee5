"""The two ensemble variants, fitted on out-of-fold member predictions only.

    variants = ensemble_variants(member_preds, pairs, folds, cfg)
    variants["ensemble"].oof, variants["ensemble"].test, variants["ensemble"].note
    variants.get("ensemble_assigned")     # absent when the data has no complete question groups
    variants.get("ensemble_balanced")     # likewise
    skipped                                # why ensemble_assigned was skipped ("" when it ran)

ensemble: member probabilities pooled with simplex weights (geometric mean by default), then
temperature-scaled and clipped (common.prob_ensemble). Rows of fold k are predicted with weights and temperature
fitted on the other folds' out-of-fold rows, so its CV score is held-out too; test gets the
weights and temperature fitted on every out-of-fold row.
ensemble_assigned: the ensemble blended with the per-question assignment (assignment.py), its
weight chosen the same way.
ensemble_balanced: the ensemble Sinkhorn-balanced inside each question group (assignment.py),
its sharpening power chosen the same way. Folds are whole question groups, so balancing a fold's
rows never reads another fold.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from common.prob_ensemble import ProbEnsemble, fold_fitted, with_floor
from competitions.predict_the_llm.assignment import (assign_groups, balance_groups, balanced_candidates, blend, fit_power, fit_weight,
                                                     group_structure)
from competitions.predict_the_llm.config import PredictConfig
from competitions.predict_the_llm.inputs import Pairs


@dataclass
class Prediction:
    oof: np.ndarray          # (n_train, 7) held-out probabilities
    test: np.ndarray         # (n_test, 7)
    note: str = ""


def _ensemble(members: dict[str, Prediction], y: np.ndarray, folds: np.ndarray, cfg: PredictConfig) -> Prediction:
    names = list(members)
    oofs, tests = [members[n].oof for n in names], [members[n].test for n in names]
    fit = lambda rows: ProbEnsemble.fit([m[rows] for m in oofs], y[rows], clip=cfg.clip, pool=cfg.pool)  # noqa: E731
    oof, per_fold = fold_fitted(fit, lambda ens, rows: ens.apply([m[rows] for m in oofs]), folds)
    final = fit(np.arange(len(y)))
    weights = ", ".join(f"{n} {w:.2f}" for n, w in zip(names, final.weights))
    spread = "/".join(f"{e.temperature:.2f}" for e in per_fold)
    note = f"{cfg.pool} weights {weights}; temperature {final.temperature:.2f} (per fold {spread}); clip {cfg.clip:g}"
    return Prediction(oof, final.apply(tests), note)


def _assigned(base: Prediction, pairs: Pairs, folds: np.ndarray, clip: float) -> Prediction:
    y = pairs.y
    onehot = assign_groups(base.oof, pairs.train_q)
    oof, per_fold = fold_fitted(lambda rows: fit_weight(base.oof[rows], onehot[rows], y[rows], clip),
                                lambda w, rows: blend(base.oof[rows], onehot[rows], w, clip), folds)
    weight = fit_weight(base.oof, onehot, y, clip)
    test = blend(base.test, assign_groups(base.test, pairs.test_q), weight, clip)
    note = f"assignment weight {weight:.2f} (per fold {'/'.join(f'{w:.2f}' for w in per_fold)})"
    return Prediction(oof, test, note)


def _balanced(base: Prediction, pairs: Pairs, folds: np.ndarray, clip: float) -> Prediction:
    y = pairs.y
    candidates = balanced_candidates(base.oof, pairs.train_q, clip)
    oof, per_fold = fold_fitted(lambda rows: fit_power(candidates, y, rows),
                                lambda power, rows: candidates[power][rows], folds)
    power = fit_power(candidates, y)
    test = with_floor(balance_groups(base.test, pairs.test_q, power), clip)
    note = f"Sinkhorn-balanced per question, power {power:.1f} (per fold {'/'.join(f'{p:.1f}' for p in per_fold)})"
    return Prediction(oof, test, note)


def ensemble_variants(members: dict[str, Prediction], pairs: Pairs, folds: np.ndarray,
                      cfg: PredictConfig) -> tuple[dict[str, Prediction], str]:
    """({"ensemble": ..., "ensemble_assigned": ..., "ensemble_balanced": ...}, why the last two
    were skipped or "")."""
    out = {"ensemble": _ensemble(members, pairs.y, folds, cfg)}
    if not cfg.assign:
        return out, "assign=false"
    ok, why = group_structure(pairs.train_q, pairs.y, pairs.test_q)
    if ok:
        out["ensemble_assigned"] = _assigned(out["ensemble"], pairs, folds, cfg.clip)
        out["ensemble_balanced"] = _balanced(out["ensemble"], pairs, folds, cfg.clip)
    return out, why
