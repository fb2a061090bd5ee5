"""How the on-device causal LM picks each next token when it does not take the argmax: a ban on
repeating an n-gram, a repetition penalty, temperature, top-k and top-p (nucleus), drawn from a
seeded generator. Copied to the device beside generate.py (whose --no-repeat-ngram,
--repetition-penalty, --temperature, --top-k, --top-p and --seed make one); numpy only.

    pick = Sampler(temperature=0.7, top_p=0.9, repetition_penalty=1.2, seed=0)
    lm.generate_ids(ids, 64, pick=pick)    # causal_lm.CausalLM: the same tokens for the same seed
    Sampler(no_repeat_ngram=4)             # the argmax, but never a 4-gram the answer already has
    Sampler()                              # temperature 0, no penalty: the argmax, as the study decodes

The penalty is CTRL's (Keskar et al. 2019), as transformers applies it: the logit of every token
already in the sequence (prompt and answer) is divided by it when positive and multiplied by it
when negative, before the temperature. The n-gram ban is transformers' no_repeat_ngram_size over
the answer alone: a token that would complete an n-gram the answer already has is never picked
(transformers' looks at the prompt too, which would forbid answering "What is 12 times 12?" with
"12 times 12 is 144"). Both leave the end-of-turn tokens alone: a chat prompt holds one after
every earlier turn, and penalizing or banning it would keep the model from ending its own.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


MIN_TEMPERATURE = 1e-4   # the smallest drawn temperature: logits / it stay far inside float64
MIN_PENALTY = 1e-4       # and the smallest repetition penalty, which divides a seen token's positive logit


@dataclass
class Sampler:
    """temperature: 0 takes the argmax (after the penalty); above 0 divides the logits before a
    draw. top_k: draw among the k likeliest only (0: all). top_p: among the fewest likeliest
    whose probabilities sum to at least top_p (1: all). repetition_penalty: 1 leaves the logits
    as they are. no_repeat_ngram: never complete an n-gram of this length the answer already has
    (0: no ban). seed: of the draws, so a rerun gives the same tokens. spare: token ids never
    penalized or banned (generate.py sets the model's end-of-turn ids)."""

    temperature: float = 0.0
    top_k: int = 0
    top_p: float = 1.0
    repetition_penalty: float = 1.0
    seed: int = 0
    no_repeat_ngram: int = 0
    spare: frozenset = frozenset()
    rng: np.random.Generator = field(init=False, repr=False)

    def __post_init__(self):
        if not (self.temperature >= 0 and np.isfinite(self.temperature)):
            raise ValueError(f"--temperature must be 0 (greedy) or more, got {self.temperature}")
        if 0 < self.temperature < MIN_TEMPERATURE:
            raise ValueError(f"--temperature {self.temperature:g} is below {MIN_TEMPERATURE:g}, where dividing the logits "
                             "overflows: give 0 for greedy")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"--top-p must be above 0 and at most 1, got {self.top_p}")
        if self.top_k < 0:
            raise ValueError(f"--top-k must be 0 (all tokens) or more, got {self.top_k}")
        if not (self.repetition_penalty > 0 and np.isfinite(self.repetition_penalty)):
            raise ValueError(f"--repetition-penalty must be above 0, got {self.repetition_penalty}")
        if self.repetition_penalty < MIN_PENALTY:
            raise ValueError(f"--repetition-penalty {self.repetition_penalty:g} is below {MIN_PENALTY:g}, where dividing "
                             f"the logits overflows (1 leaves them as they are)")
        if self.seed < 0:
            raise ValueError(f"--seed must be 0 or more, got {self.seed}")
        if self.no_repeat_ngram < 0:
            raise ValueError(f"--no-repeat-ngram must be 0 (no ban) or more, got {self.no_repeat_ngram}")
        if self.temperature == 0 and (self.top_k or self.top_p < 1 or self.seed):
            raise ValueError("--top-k, --top-p and --seed shape a draw: give them with --temperature above 0 "
                             "(0 is greedy, which they would not change)")
        self.rng = np.random.default_rng(self.seed)

    @property
    def greedy(self) -> bool:
        """Whether every pick is the plain argmax (the study's decode)."""
        return self.temperature == 0 and self.repetition_penalty == 1 and self.no_repeat_ngram == 0

    def penalized(self, logits: np.ndarray, before, answer=()) -> np.ndarray:
        """`logits` (V,) in float64 with every token of `before` (the prompt) and `answer` (the
        tokens picked so far) but the spared ones penalized, and each token that would repeat an
        n-gram of the answer at -inf."""
        x = np.array(logits, dtype=np.float64)
        if self.repetition_penalty != 1:
            ids = np.unique(np.fromiter((t for t in (*before, *answer) if t not in self.spare), dtype=np.int64))
            with np.errstate(over="ignore"):     # a huge penalty sends a negative logit to -inf: never drawn
                x[ids] = np.where(x[ids] > 0, x[ids] / self.repetition_penalty, x[ids] * self.repetition_penalty)
        x[list(self.banned(answer))] = -np.inf
        return x

    def banned(self, answer) -> set[int]:
        """The tokens that would complete an n-gram (n = no_repeat_ngram) already in `answer`."""
        n, answer = self.no_repeat_ngram, list(answer)
        if n < 1 or len(answer) < n:
            return set()
        tail = answer[len(answer) - n + 1:]
        return {answer[i + n - 1] for i in range(len(answer) - n + 1) if answer[i:i + n - 1] == tail} - self.spare

    def probabilities(self, logits: np.ndarray, before, answer=()) -> np.ndarray:
        """The distribution (V,) a draw takes the next token from (temperature above 0)."""
        x = self.penalized(logits, before, answer) / self.temperature
        if 0 < self.top_k < len(x):
            x[x < np.partition(x, -self.top_k)[-self.top_k]] = -np.inf
        probs = np.exp(x - x.max())
        probs /= probs.sum()
        if self.top_p < 1:
            order = np.argsort(-probs, kind="stable")
            outside = order[int(np.searchsorted(np.cumsum(probs[order]), self.top_p)) + 1:]
            probs[outside] = 0
            probs /= probs.sum()
        return probs

    def __call__(self, logits: np.ndarray, before, answer=()) -> int:
        """The token after `before` (the prompt, or the conversation so far) and `answer` (this
        answer's tokens so far), given its logits (V,)."""
        if self.temperature == 0:
            return int(np.argmax(self.penalized(logits, before, answer)))
        probs = self.probabilities(logits, before, answer)
        return int(self.rng.choice(len(probs), p=probs))
