"""One constant prompt that scores best on average against a set of target prompts: a beam
search over words of the training prompts and whole-word tokens of the metric encoder.

    found = search_mean_prompt(train_prompts, enc, BeamConfig(width=3, steps=14))
    found.text, found.score        # e.g. "rewrite text story ...", its mean score on those targets
    out, found = mean_prompt_cv(prompts, folds, enc, beam, desc="mean_prompt rows")
    out.oof                        # each row's fold prompt, found on the OTHER folds' prompts only

Each step appends one pool word to each kept string and keeps the `width` best by the
metric (mean cos^3 against the targets, computed through `enc`); the best string of any step is
returned. The pool is the `pool` best single words among the targets' words and the encoder's
`vocab_tokens` commonest whole-word tokens. A string never exceeds `max_tokens` encoder tokens.
Results are cached by a hash of the targets, the encoder and the beam settings
(cache_dir("prompt_recovery_mean")), so a rerun is instant. A progress bar shows step and best.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import asdict, dataclass

import numpy as np
from tqdm.auto import tqdm

from common.atomic import atomic_write_text
from common.cache_keys import content_key
from common.cv import CvOutput, cross_validate
from common.paths import cache_dir


PUNCTUATION = (".", ",", ":")


@dataclass(frozen=True)
class BeamConfig:
    """width: strings kept per step; steps: words appended at most; pool: candidate words per
    step; vocab_tokens: encoder vocabulary words considered for the pool; max_tokens: length cap."""

    width: int = 3
    steps: int = 14
    pool: int = 32
    vocab_tokens: int = 3000
    max_tokens: int = 48


@dataclass
class MeanPrompt:
    text: str
    score: float           # mean cos^3 against the targets it was searched on
    history: list          # best score after each step
    cached: bool = False


def prompt_words(prompts: list[str]) -> list[str]:
    """The distinct words of the prompts, in first-seen order, as written and lower-cased, and
    the punctuation marks that end or split a sentence."""
    words: dict[str, None] = dict.fromkeys(PUNCTUATION)
    for prompt in prompts:
        for word in re.findall(r"[A-Za-z][A-Za-z'-]*", prompt):
            words[word] = None
            words[word.lower()] = None
    return list(words)


def prefixes(prompts: list[str]) -> list[str]:
    """Every distinct prompt and each of its word prefixes ("Rewrite", "Rewrite this", ...):
    the strings the search starts from."""
    out: dict[str, None] = {}
    for prompt in dict.fromkeys(prompts):
        words = prompt.split()
        out.update(dict.fromkeys(" ".join(words[:n]) for n in range(1, len(words) + 1)))
    return list(out)


def _value_fn(targets: list[str], enc):
    """vectors (n, d) -> (n,) mean cos^3 against the targets (each distinct target weighed by its count)."""
    counts = Counter(targets)
    vectors = enc.encode(list(counts)).astype(np.float64)                     # (u, d)
    weights = np.array(list(counts.values()), dtype=np.float64) / len(targets)  # (u,)
    return lambda e: (np.asarray(e, dtype=np.float64) @ vectors.T) ** 3 @ weights


def _cache_path(targets: list[str], enc, beam: BeamConfig):
    key = content_key("mean_prompt", enc.name, getattr(enc, "fingerprint", ""), repr(beam), sorted(targets))
    return cache_dir("prompt_recovery_mean") / f"{key}.json"


def _proxy_children(text: str, vector: np.ndarray, n_tokens: int, words: list[str], word_vectors: np.ndarray,
                    word_tokens: np.ndarray, value, k: int) -> list[str]:
    """The k words whose appending looks best by a cheap proxy: the encoder mean-pools tokens,
    so e(text + word) is taken as the token-weighted mean of e(text) and e(word)."""
    if not text:
        proxy = word_vectors
    else:
        proxy = n_tokens * vector[None, :] + word_tokens[:, None] * word_vectors     # (V, d)
        proxy /= np.linalg.norm(proxy, axis=1, keepdims=True)
    best = np.argsort(-value(proxy), kind="stable")[:k]
    return [append(text, words[i]) for i in best]


def append(text: str, word: str) -> str:
    """text + " " + word; a punctuation mark is attached to the word before it."""
    return text + word if word in PUNCTUATION and text else f"{text} {word}".strip()


def search_mean_prompt(targets: list[str], enc, beam: BeamConfig = BeamConfig(), progress: bool = True,
                       desc: str = "mean prompt") -> MeanPrompt:
    """The best constant prompt for `targets` (see the module docstring); cached on disk."""
    path = _cache_path(targets, enc, beam)
    if path.is_file():
        saved = json.loads(path.read_text())
        return MeanPrompt(saved["text"], saved["score"], saved["history"], cached=True)
    value = _value_fn(targets, enc)
    words = list(dict.fromkeys(prompt_words(targets) + (enc.whole_words(beam.vocab_tokens) if beam.vocab_tokens else [])))
    word_vectors = enc.encode(words).astype(np.float64)
    specials = enc.token_counts([""])[0]
    word_tokens = np.array(enc.token_counts(words), dtype=np.float64) - specials
    starts = [t for t in prefixes(targets) if enc.token_counts([t])[0] <= beam.max_tokens]
    scored = dict(zip(starts, value(enc.encode(starts)))) if starts else {}
    beams = sorted(scored, key=scored.get, reverse=True)[:beam.width] + [""]
    history = []
    bar = tqdm(range(beam.steps), desc=desc, unit="step", disable=not progress, leave=False)
    for step in bar:
        candidates = []
        for text in beams:
            vector = enc.encode([text])[0] if text else None
            n_tokens = enc.token_counts([text])[0] - specials if text else 0
            candidates += _proxy_children(text, vector, n_tokens, words, word_vectors, word_tokens, value, beam.pool)
        candidates = [c for c in dict.fromkeys(candidates) if c not in scored]
        candidates = [c for c, n in zip(candidates, enc.token_counts(candidates)) if n <= beam.max_tokens]
        if candidates:
            scored.update(zip(candidates, value(enc.encode(candidates))))
        kept = sorted([b for b in beams if b] + candidates, key=scored.get, reverse=True)[:beam.width]
        if not kept or kept == beams:
            break   # no appended word beats the strings kept
        beams = kept
        history.append(round(float(scored[beams[0]]), 5))
        bar.set_postfix(step=step + 1, best=f"{history[-1]:.4f}")
    bar.close()
    text = max(scored, key=scored.get) if scored else ""
    found = MeanPrompt(text, float(scored.get(text, 0.0)), history)
    atomic_write_text(path, json.dumps(asdict(found)))
    return found


def mean_prompt_cv(prompts: list[str], folds: np.ndarray, enc, beam: BeamConfig, desc: str = "mean_prompt",
                   progress: bool = True) -> tuple[CvOutput, dict[int, MeanPrompt]]:
    """(out-of-fold constant prompts, the prompt found for each fold): fold k's rows get the
    string searched on the prompts of the rows outside fold k, and nothing else."""
    found: dict[int, MeanPrompt] = {}

    def fit_predict(fit_rows, held_rows, fold):
        found[fold] = search_mean_prompt([prompts[i] for i in fit_rows], enc, beam, progress, f"{desc} fold {fold}")
        return [found[fold].text] * len(held_rows), None

    return cross_validate(fit_predict, folds, desc=desc, show_progress_bar=progress), found
