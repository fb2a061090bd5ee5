"""style_lgbm: LightGBM (7-class) on the named style and LM features of style_features.

    out = style_lgbm(pairs, cfg, folds, seed)     # common.cv.CvOutput: oof (n, 7), test (m, 7)
"""
from __future__ import annotations

import numpy as np

from common.cv import CvOutput, cross_validate
from competitions.predict_the_llm import N_TARGETS
from competitions.predict_the_llm.config import PredictConfig
from competitions.predict_the_llm.inputs import Pairs
from competitions.predict_the_llm.style_features import style_features
from competitions.predict_the_llm.tfidf_member import full_proba


def lgbm_model(cfg: PredictConfig, seed: int):
    from common.training.trees import lgbm_classifier

    return lgbm_classifier(
        seed, objective="multiclass", num_class=N_TARGETS, n_estimators=cfg.lgbm_rounds, learning_rate=cfg.lgbm_lr,
        num_leaves=cfg.lgbm_leaves, min_child_samples=10, subsample=0.8, subsample_freq=1, colsample_bytree=0.5,
        reg_lambda=1.0)


def style_lgbm(pairs: Pairs, cfg: PredictConfig, folds: np.ndarray, seed: int, progress: bool = True) -> CvOutput:
    names, x = style_features(pairs.all_q, pairs.all_r, lm=cfg.lm, response_tokens=cfg.lm_response_tokens,
                              progress=progress)
    x_train, x_test = x[: pairs.n_train], x[pairs.n_train:]

    def fit_predict(fit_rows, held_rows, fold):
        model = lgbm_model(cfg, seed).fit(x_train[fit_rows], pairs.y[fit_rows])
        return full_proba(model, x_train[held_rows]), full_proba(model, x_test)

    return cross_validate(fit_predict, folds, desc="cv style_lgbm", show_progress_bar=progress)
