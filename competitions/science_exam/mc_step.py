"""The fine-tuned multiple-choice member: one MiniLM model per fold, trained on the other folds.

    oof, test_scores, info = finetuned_scores(cfg, train_qs, test_qs, train_ctx, test_ctx, folds, seed)
    model, tokenizer = full_model(cfg, train_qs, train_ctx, seed)     # one model on every row (the edge port's)

oof[i] comes from the model that never saw train row i; test scores are the mean of the fold
models' logits (no extra full-data fit). The model reads the first `mc_context_words` words
of the retrieved context (0: none). Each fold's logits are cached under
cache_dir("science_exam_mc"), keyed by its rows, contexts, settings and seed, so a second run
(or a run resumed after a crash) skips finished folds.
"""
from __future__ import annotations

import numpy as np

from common.atomic import atomic_path
from common.cache_keys import content_key
from common.cv import cross_validate
from common.paths import cache_dir
from common.training.multiple_choice import MultipleChoiceConfig, predict_multiple_choice, train_multiple_choice

from competitions.science_exam.config import SolutionConfig
from competitions.science_exam.questions import Questions, truncate_words


def mc_config(cfg: SolutionConfig, seed: int) -> MultipleChoiceConfig:
    return MultipleChoiceConfig(model=cfg.mc_model, max_length=cfg.mc_max_length, epochs=cfg.mc_epochs,
                                batch_size=cfg.mc_batch_size, learning_rate=cfg.mc_lr, lora=cfg.mc_lora,
                                trainable_layers=None if cfg.mc_trainable_layers < 0 else cfg.mc_trainable_layers,
                                seed=seed)


def mc_inputs(questions: Questions, contexts: list[str] | None) -> tuple[list[str], list[list[str]]]:
    """(first, seconds): the retrieved context, and 'question Answer: option' for each option."""
    firsts = contexts if contexts is not None else [""] * len(questions)
    seconds = [[f"{p} Answer: {o}" for o in opts] for p, opts in zip(questions.prompts, questions.options)]
    return list(firsts), seconds


def _short(contexts: list[str], words: int) -> list[str] | None:
    return [truncate_words(c, words) for c in contexts] if words else None


def _fold_scores(mc: MultipleChoiceConfig, fit: tuple, held: tuple, test: tuple) -> tuple[np.ndarray, np.ndarray]:
    firsts, seconds, labels = fit
    model, tokenizer = train_multiple_choice(firsts, seconds, labels, mc)
    return (predict_multiple_choice(model, tokenizer, *held, mc),
            predict_multiple_choice(model, tokenizer, *test, mc))


def finetuned_scores(cfg: SolutionConfig, train: Questions, test: Questions, train_ctx: list[str],
                     test_ctx: list[str], folds: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, dict]:
    from common.models import model_fingerprint

    mc = mc_config(cfg, seed)
    train_first, train_second = mc_inputs(train, _short(train_ctx, cfg.mc_context_words))
    test_inputs = mc_inputs(test, _short(test_ctx, cfg.mc_context_words))
    fingerprint = model_fingerprint(cfg.mc_model, "encoder")
    cached = []

    def fit_predict(fit_rows: np.ndarray, held_rows: np.ndarray, fold: int):
        key = content_key("mc-fold", repr(mc), fingerprint, fit_rows.tolist(), held_rows.tolist(), train.labels.tolist(),
                          train_first, [s for row in train_second for s in row], *test_inputs[0],
                          *[s for row in test_inputs[1] for s in row])
        path = cache_dir("science_exam_mc") / f"{key}.npz"
        if path.is_file():
            saved = np.load(path)
            cached.append(fold)
            return saved["held"], saved["test"]
        fit = ([train_first[i] for i in fit_rows], [train_second[i] for i in fit_rows], train.labels[fit_rows])
        held = ([train_first[i] for i in held_rows], [train_second[i] for i in held_rows])
        held_scores, fold_test = _fold_scores(mc, fit, held, test_inputs)
        with atomic_path(path, suffix=".npz") as tmp:
            with open(tmp, "wb") as handle:
                np.savez(handle, held=held_scores, test=fold_test)
        return held_scores, fold_test

    out = cross_validate(fit_predict, folds, desc="finetuned_mc")
    n_folds = len(np.unique(folds))
    if cached:
        print(f"finetuned_mc: {len(cached)} of {n_folds} fold models' scores reused from cache")
    return out.oof.astype(np.float32), out.test.astype(np.float32), {"mc_folds_cached": len(cached), "mc_config": repr(mc)}


def full_model(cfg: SolutionConfig, questions: Questions, contexts: list[str], seed: int):
    """(model, tokenizer) fine-tuned on every one of `questions` with the solution's settings: the
    multiple-choice model a device ships (the solution itself predicts with fold models). Saved
    under cache_dir("science_exam_mc"), keyed by its rows, contexts, settings and seed."""
    from transformers import AutoModelForMultipleChoice, AutoTokenizer

    from common.atomic import atomic_dir
    from common.models import model_fingerprint

    mc = mc_config(cfg, seed)
    firsts, seconds = mc_inputs(questions, _short(contexts, cfg.mc_context_words))
    key = content_key("mc-full", repr(mc), model_fingerprint(cfg.mc_model, "encoder"), questions.labels.tolist(),
                      firsts, [s for row in seconds for s in row])
    path = cache_dir("science_exam_mc") / f"full-{key}"
    if not (path / "config.json").is_file():
        model, tokenizer = train_multiple_choice(firsts, seconds, questions.labels, mc)
        with atomic_dir(path) as tmp:
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
    else:
        print(f"finetuned_mc: the full-data model reused from cache ({path.name})")
    return AutoModelForMultipleChoice.from_pretrained(path).eval(), AutoTokenizer.from_pretrained(path)


def model_scores(cfg: SolutionConfig, model, tokenizer, questions: Questions, contexts: list[str], seed: int) -> np.ndarray:
    """Logits (questions, options) of one multiple-choice model on questions with their contexts."""
    return predict_multiple_choice(model, tokenizer, *mc_inputs(questions, _short(contexts, cfg.mc_context_words)),
                                   mc_config(cfg, seed))


def choice_pairs(cfg: SolutionConfig, questions: Questions, contexts: list[str] | None) -> list[tuple[str, str]]:
    """The (first, second) pair of every option, question by question, as the model reads them."""
    firsts, seconds = mc_inputs(questions, _short(contexts, cfg.mc_context_words) if contexts is not None else None)
    return [(f, s) for f, row in zip(firsts, seconds) for s in row]
