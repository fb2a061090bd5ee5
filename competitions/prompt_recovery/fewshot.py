"""`lm_fewshot`: the local LM writes the instruction after worked examples retrieved from train.

    member = FewShot(rw, cfg, [row_folds, instruction_folds])
    member.oof(row_folds).texts      # one generated prompt per train row
    member.test().texts              # one per test row (examples from every train row)

The LM (SmolLM2-135M by default) completes a plain-text page, no chat template:

    Each rewrite was written by following the instruction below it.

    Text: <original, first `text_words` words>
    Rewrite: <rewrite, cut alike>
    Instruction: <a retrieved train row's prompt>
    ... (`fewshot_examples` worked examples, the most similar last)
    Text: ...
    Rewrite: ...
    Instruction:

Examples are the train rows whose (original, rewrite) embeddings are nearest to the row's, and
for a train row never a row that shares a fold with it in ANY of the given splits: one
generation per row is then out of fold for both splits (half the LM time of one per split).
Generations are greedy, batched and cached on disk (common.llm.generation), so a rerun is instant.
"""
from __future__ import annotations

import numpy as np

from common.llm.generation import GenerationConfig, generate
from competitions.prompt_recovery.members import Guess, pair_features

HEADER = "Each rewrite was written by following the instruction below it."
FALLBACK = "Rewrite this text."


def cut(text: str, words: int) -> str:
    parts = text.split()
    return " ".join(parts[:words]) + (" ..." if len(parts) > words else "")


def page(original: str, rewrite: str, prompt: str | None, words: int) -> str:
    tail = f" {prompt}" if prompt is not None else ""
    return f"Text: {cut(original, words)}\nRewrite: {cut(rewrite, words)}\nInstruction:{tail}"


def clean(generated: str) -> str:
    """The first line of the completion, without quotes or a repeated label; FALLBACK if empty."""
    line = generated.strip().split("\n")[0].strip()
    for label in ("Instruction:", "instruction:"):
        line = line.removeprefix(label).strip()
    return line.strip("\"'` ").strip() or FALLBACK


def nearest_examples(vectors: np.ndarray, n_train: int, k: int, fold_sets: list[np.ndarray]) -> np.ndarray:
    """(n_rows, k) train row ids, most similar first; train row i never gets a row sharing any
    of its folds, test rows (i >= n_train) may get every train row."""
    sims = vectors @ vectors[:n_train].T                           # (n_rows, n_train)
    for folds in fold_sets:
        same = folds[:, None] == folds[None, :]                    # (n_train, n_train)
        sims[:n_train][same] = -np.inf
    order = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    if not np.isfinite(np.take_along_axis(sims, order, axis=1)).all():
        raise ValueError("too few train rows outside a row's folds for its worked examples")
    return order


class FewShot:
    name = "lm_fewshot"
    nested = False   # one generation per row; combined's choice uses these out-of-fold guesses

    def __init__(self, rw, cfg, fold_sets: list[np.ndarray]):
        self.rw, self.cfg, self.fold_sets = rw, cfg, [np.asarray(f) for f in fold_sets]
        self._texts: list[str] | None = None

    def prompts(self) -> tuple[list[str], np.ndarray]:
        rw, words = self.rw, self.cfg.text_words
        x = pair_features(rw.train_o + rw.test_o, rw.train_r + rw.test_r, self.cfg.encoder)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        examples = nearest_examples(x, rw.n_train, self.cfg.fewshot_examples, self.fold_sets)
        originals, rewrites = rw.train_o + rw.test_o, rw.train_r + rw.test_r
        pages = []
        for i, ids in enumerate(examples):
            shown = [page(rw.train_o[j], rw.train_r[j], rw.prompts[j], words) for j in ids[::-1]]
            pages.append("\n\n".join([HEADER, *shown, page(originals[i], rewrites[i], None, words)]))
        return pages, examples

    def _generated(self) -> list[str]:
        if self._texts is None:
            pages, self.examples = self.prompts()
            config = GenerationConfig(max_new_tokens=self.cfg.max_new_tokens, batch_size=8, chat_template=False)
            self._texts = [clean(t) for t in generate(self.cfg.lm, pages, config, desc="lm_fewshot")]
        return self._texts

    def oof(self, folds: np.ndarray) -> Guess:
        texts = self._generated()[:self.rw.n_train]
        assert all((folds[self.examples[i]] != folds[i]).all() for i in range(self.rw.n_train))
        return Guess(texts)

    def test(self) -> Guess:
        return Guess(self._generated()[self.rw.n_train:])
