"""`lm_lora`: SmolLM2 (its first `lora_layers` decoder layers) fine-tuned with LoRA adapters
(the shared causal-LM trainer, common.training.causal_lm) to write the instruction after a
(text, rewrite) page.

    member = LoraPrompt(rw, cfg, seed=42)
    member.oof(folds).texts     # one generated prompt per train row, from a model without its fold
    member.test().texts         # from a model fine-tuned on every train row

The page is lm_fewshot's without worked examples ("Text: ...\\nRewrite: ...\\nInstruction:"),
no chat template; the completion is the prompt. Fine-tuning is the costly step on CPU, so
`lora_folds` merges the split's folds (fold k goes to k % lora_folds): a merged fold of group
folds is still a group fold, so every prediction stays out of fold for its split. Each fold's
generations are cached under cache_dir("prompt_recovery_lora"), keyed by the trainer config,
the model's fingerprint and every text the fold sees: a rerun trains nothing. The test prompts
come from the first fold model of the last split evaluated (no extra fine-tune on every row).
"""
from __future__ import annotations

import json

import numpy as np

from common.atomic import atomic_write_text
from common.cache_keys import content_key
from common.cv import cross_validate
from common.llm.generation import GenerationConfig, generate_batch
from common.models import model_fingerprint
from common.paths import cache_dir
from common.training.causal_lm import CausalLMConfig, train_causal_lm
from competitions.prompt_recovery.fewshot import clean, page
from competitions.prompt_recovery.members import Guess

LLAMA_PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def lora_config(cfg, seed: int) -> CausalLMConfig:
    return CausalLMConfig(model=cfg.lm, num_layers=cfg.lora_layers or None, lora=True, lora_r=cfg.lora_r,
                          lora_alpha=cfg.lora_alpha, lora_target_modules=LLAMA_PROJECTIONS, epochs=cfg.lora_epochs,
                          learning_rate=cfg.lora_lr, max_length=cfg.lora_max_length, batch_size=4, seed=seed,
                          chat_template=False)


class LoraPrompt:
    name = "lm_lora"
    nested = False   # fine-tunes are costly; combined's choice uses these out-of-fold guesses

    def __init__(self, rw, cfg, seed: int):
        self.rw, self.cfg = rw, cfg
        self.tcfg = lora_config(cfg, seed)
        self.gen = GenerationConfig(max_new_tokens=cfg.max_new_tokens, batch_size=8, chat_template=False)
        words = cfg.text_words
        self.pages = [page(o, r, None, words) for o, r in zip(rw.train_o, rw.train_r)]
        self.test_pages = [page(o, r, None, words) for o, r in zip(rw.test_o, rw.test_r)]
        self._oof: dict[bytes, Guess] = {}
        self._test: list[str] | None = None

    def fit_generate(self, fit_rows, queries: list[str]) -> list[str]:
        """Fine-tune on the fit rows' (page, prompt) pairs, then write a prompt for each query page."""
        pages, prompts = [self.pages[i] for i in fit_rows], [" " + self.rw.prompts[i] for i in fit_rows]
        key = content_key(self.name, repr(self.tcfg), model_fingerprint(self.cfg.lm), repr(self.gen), pages, prompts, queries)
        path = cache_dir("prompt_recovery_lora") / f"{key}.json"
        if path.is_file():
            return json.loads(path.read_text())
        model, tokenizer = train_causal_lm(pages, prompts, self.tcfg)
        out = []
        for start in range(0, len(queries), self.gen.batch_size):
            out += [clean(t) for t in generate_batch(model, tokenizer, queries[start:start + self.gen.batch_size], self.gen)]
        atomic_write_text(path, json.dumps(out))
        return out

    def oof(self, folds: np.ndarray) -> Guess:
        folds = np.asarray(folds)
        if folds.tobytes() not in self._oof:
            k = self.cfg.lora_folds
            merged = folds % k if k and k < len(np.unique(folds)) else folds

            def fit_predict(fit_rows, held_rows, fold):
                queries = [self.pages[i] for i in held_rows] + (self.test_pages if fold == merged.min() else [])
                texts = self.fit_generate(fit_rows, queries)
                if fold == merged.min():
                    self._test = texts[len(held_rows):]
                return np.asarray(texts[:len(held_rows)], dtype=object), None

            out = cross_validate(fit_predict, merged, desc=f"cv {self.name}")
            self._oof[folds.tobytes()] = Guess([str(t) for t in out.oof])
        return self._oof[folds.tobytes()]

    def test(self) -> Guess:
        if self._test is None:   # no split evaluated: one fine-tune on every train row
            self._test = self.fit_generate(np.arange(self.rw.n_train), self.test_pages)
        return Guess(self._test)
