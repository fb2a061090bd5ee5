"""The fine-tuned members, one model per group fold, through the shared trainer
(common.training.text_classifier) on (question, response) pairs:

    encoder_finetuned     MiniLM (all 6 layers) + a 7-class head, every weight trained
    lm_lora_classifier    SmolLM2-135M + a 7-class head, LoRA adapters (peft) on every attention
                          and MLP projection: the 2nd place's Mistral-7B recipe at 135M scale

    out = encoder_finetuned(pairs, cfg, folds, seed)    # common.cv.CvOutput: oof (n, 7), test (m, 7)

Fine-tuning is the costly step on CPU, so each fold's held-out and test probabilities are
cached under cache_dir("predict_the_llm_folds"), keyed by the trainer config, the model's
fingerprint and every text and label the fold sees: a rerun, or a run resumed after a crash,
trains only the folds it has not finished.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from common.atomic import atomic_path
from common.cache_keys import content_key
from common.cv import CvOutput, FoldPlan, cross_validate
from common.models import MODELS, model_fingerprint
from common.paths import cache_dir
from common.training.text_classifier import TextClassifierConfig, predict_proba, train_text_classifier
from competitions.predict_the_llm import N_TARGETS
from competitions.predict_the_llm.config import PredictConfig
from competitions.predict_the_llm.inputs import Pairs

LLAMA_PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def encoder_config(cfg: PredictConfig, seed: int) -> TextClassifierConfig:
    return TextClassifierConfig(model=cfg.encoder, num_labels=N_TARGETS, epochs=cfg.encoder_epochs,
                                learning_rate=cfg.encoder_lr, max_length=cfg.encoder_max_length,
                                batch_size=16, seed=seed)


def lora_config(cfg: PredictConfig, seed: int) -> TextClassifierConfig:
    return TextClassifierConfig(model=cfg.lora_model, num_labels=N_TARGETS, num_layers=cfg.lora_layers or None,
                                lora=True, lora_r=cfg.lora_r, lora_alpha=cfg.lora_alpha,
                                lora_target_modules=LLAMA_PROJECTIONS, epochs=cfg.lora_epochs,
                                learning_rate=cfg.lora_lr, max_length=cfg.lora_max_length, batch_size=8, seed=seed)


def _fingerprint(model: str) -> str:
    return model_fingerprint(model, MODELS[model].kind if model in MODELS else "encoder")


def fold_models(name: str, tcfg: TextClassifierConfig, pairs: Pairs, folds: np.ndarray, progress: bool = True) -> CvOutput:
    """One classifier per fold of `folds`, trained on the other folds' pairs; cached per fold."""
    train_pairs = list(zip(pairs.train_q, pairs.train_r))
    test_pairs = list(zip(pairs.test_q, pairs.test_r))
    fingerprint = _fingerprint(tcfg.model)
    reused = []

    def fit_predict(fit_rows, held_rows, fold):
        key = content_key(name, repr(replace(tcfg, show_progress_bar=True)), fingerprint,
                          [f"{train_pairs[i]}{pairs.y[i]}" for i in fit_rows],
                          [str(train_pairs[i]) for i in held_rows], [str(p) for p in test_pairs])
        path = cache_dir("predict_the_llm_folds") / f"{name}-{key}.npz"
        if path.is_file():
            saved = np.load(path)
            reused.append(fold)
            return saved["held"], saved["test"]
        model, tokenizer = train_text_classifier([train_pairs[i] for i in fit_rows], pairs.y[fit_rows], tcfg)
        held = predict_proba(model, tokenizer, [train_pairs[i] for i in held_rows], tcfg.max_length, threads=tcfg.threads)
        test = predict_proba(model, tokenizer, test_pairs, tcfg.max_length, threads=tcfg.threads)
        with atomic_path(path, suffix=".npz") as tmp:
            with open(tmp, "wb") as handle:
                np.savez(handle, held=held, test=test)
        return held, test

    out = cross_validate(fit_predict, folds, desc=f"cv {name}", show_progress_bar=progress)
    if reused:
        print(f"{name}: {len(reused)} of {len(np.unique(folds))} fold models' predictions reused from cache")
    return out


def member_folds(cfg: PredictConfig, folds: np.ndarray, questions: list[str], seed: int) -> np.ndarray:
    """The main folds, or `finetune_folds` group folds by question (fewer models to train)."""
    if not cfg.finetune_folds or cfg.finetune_folds == len(np.unique(folds)):
        return folds
    return FoldPlan(cfg.finetune_folds, seed, "group").assign(len(questions), groups=questions)


def encoder_finetuned(pairs: Pairs, cfg: PredictConfig, folds: np.ndarray, seed: int, progress: bool = True) -> CvOutput:
    tcfg = replace(encoder_config(cfg, seed), show_progress_bar=progress)
    return fold_models("encoder_finetuned", tcfg, pairs, member_folds(cfg, folds, pairs.train_q, seed), progress)


def lm_lora_classifier(pairs: Pairs, cfg: PredictConfig, folds: np.ndarray, seed: int, progress: bool = True) -> CvOutput:
    tcfg = replace(lora_config(cfg, seed), show_progress_bar=progress)
    return fold_models("lm_lora_classifier", tcfg, pairs, member_folds(cfg, folds, pairs.train_q, seed), progress)
