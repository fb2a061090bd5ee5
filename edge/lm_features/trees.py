"""A boosted-tree head for the feature student: one LightGBM model per class, each fitted with the
cross-entropy objective to that class's column of the teacher's soft labels, flattened into plain
arrays the device walks in numpy (edge/runtime/lm_features.py tree_scores).

    head = fit_tree_head(x, soft_labels, questions, cfg)   # {"kind": "gbdt", "trees": {...}, "power", "clip"}
    flatten_boosters([booster_0, ..., booster_6])           # the "trees" dict

The Sinkhorn power is chosen on out-of-fold probabilities (folds grouped by question, as the
teacher's): trees fit their own rows far more closely than held-out ones, so a power chosen on
the rows they were fitted on would be too low.
"""
from __future__ import annotations

import numpy as np

SIGMOID_EPS = 1e-15


def _ensemble_params(cfg) -> dict:
    return {"objective": "cross_entropy", "n_estimators": cfg.trees, "num_leaves": cfg.leaves,
            "learning_rate": cfg.tree_learning_rate, "subsample": 0.8, "subsample_freq": 1,
            "colsample_bytree": 0.8}


def fit_boosters(x: np.ndarray, soft_labels: np.ndarray, cfg) -> list:
    """One fitted LightGBM booster per class."""
    from common.training.trees import lgbm_regressor

    return [lgbm_regressor(cfg.seed, **_ensemble_params(cfg)).fit(x, soft_labels[:, k]).booster_
            for k in range(soft_labels.shape[1])]


def flatten_boosters(boosters: list) -> dict:
    """The boosters' trees as flat node arrays (see tree_scores); tree_class[t] = its booster's index."""
    out = {"feature": [], "threshold": [], "left": [], "right": [], "default_left": [], "leaf_value": [],
           "roots": [], "tree_class": []}

    def visit(node: dict) -> int:
        if "leaf_value" in node:
            out["leaf_value"].append(float(node["leaf_value"]))
            return -len(out["leaf_value"])                     # leaf i is stored as -(i + 1)
        if node.get("decision_type", "<=") != "<=" or node.get("missing_type") == "Zero":
            raise ValueError(f"unsupported split {node.get('decision_type')} / missing {node.get('missing_type')}")
        index = len(out["feature"])
        threshold = float(node["threshold"])
        # missing_type None: LightGBM reads a NaN as 0.0; NaN: it goes the default way
        nan_left = bool(node["default_left"]) if node.get("missing_type") == "NaN" else 0.0 <= threshold
        for key, value in (("feature", int(node["split_feature"])), ("threshold", threshold),
                           ("left", 0), ("right", 0), ("default_left", nan_left)):
            out[key].append(value)
        out["left"][index] = visit(node["left_child"])
        out["right"][index] = visit(node["right_child"])
        return index

    for k, booster in enumerate(boosters):
        for tree in booster.dump_model()["tree_info"]:
            out["roots"].append(visit(tree["tree_structure"]))
            out["tree_class"].append(k)
    return out


def tree_proba(x: np.ndarray, trees: dict) -> np.ndarray:
    """Class probabilities of the flattened ensemble before balancing: sigmoids, renormalized."""
    from edge.runtime.lm_features import tree_scores

    z = 1.0 / (1.0 + np.exp(-tree_scores(x, trees)))
    return z / np.maximum(z.sum(axis=1, keepdims=True), SIGMOID_EPS)


def fit_tree_head(x: np.ndarray, soft_labels: np.ndarray, questions: list[str], cfg) -> dict:
    """Boosters on all rows; the balancing power from out-of-fold probabilities (cfg.power_folds
    folds grouped by question)."""
    from sklearn.model_selection import GroupKFold

    from edge.lm_features.student import POWER_GRID, _cross_entropy
    from edge.runtime.lm_features import balance

    groups = np.asarray(questions)
    folds = min(cfg.power_folds, len(set(questions)))
    trees = flatten_boosters(fit_boosters(x, soft_labels, cfg))
    if folds >= 2:
        probs = np.zeros_like(soft_labels, dtype=np.float64)
        for train, held in GroupKFold(n_splits=folds).split(x, groups=groups):
            probs[held] = tree_proba(x[held], flatten_boosters(fit_boosters(x[train], soft_labels[train], cfg)))
    else:                                   # one question: no fold to hold out, the fitted rows it is
        probs = tree_proba(x, trees)
    power = min(POWER_GRID, key=lambda p: _cross_entropy(soft_labels, balance(probs, questions, float(p))))
    return {"kind": "gbdt", "trees": trees, "power": float(power), "clip": cfg.clip, "power_folds": folds,
            "oof_cross_entropy": round(_cross_entropy(soft_labels, balance(probs, questions, float(power))), 6)}
