"""`combined`: a member's predicted prompt joined to the optimized mean prompt, the winners'
recipe, with every choice made on the training folds.

    rule = choose_rule(prompts_fit, guesses_fit, mean_text, enc)    # on training rows only
    texts = rule.apply(guesses_held, mean_text, n_held)             # then on held-out (or test) rows
    rule.describe()    # 'nearest_prompt + mean when conf >= 0.610'

The choices: which member's prediction (or none: the mean prompt alone), the order (prediction
first or mean prompt first), and a confidence floor under which a row keeps the mean prompt
alone (none, or the 25/50/75% quantile of the training rows' confidences, for members that
report one). Each candidate rule is scored with the metric on the training rows; the best wins.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from competitions.prompt_recovery.members import Guess

QUANTILES = (0.25, 0.5, 0.75)


@dataclass(frozen=True)
class Rule:
    member: str | None          # None: the mean prompt alone
    mean_first: bool = False
    floor: float | None = None  # rows with conf below it keep the mean prompt alone
    train_score: float = float("nan")

    def apply(self, guesses: dict[str, Guess], mean_text: str, n: int) -> list[str]:
        """The combined prompt of each of the n rows that `guesses` predict."""
        if self.member is None:
            return [mean_text] * n
        guess = guesses[self.member]
        out = []
        for i, pred in enumerate(guess.texts):
            if self.floor is not None and guess.conf is not None and guess.conf[i] < self.floor:
                out.append(mean_text)
            else:
                out.append(f"{mean_text} {pred}" if self.mean_first else f"{pred} {mean_text}")
        return out

    def describe(self) -> str:
        if self.member is None:
            return "mean prompt alone"
        text = f"mean + {self.member}" if self.mean_first else f"{self.member} + mean"
        return text + (f" when conf >= {self.floor:.3f}" if self.floor is not None else "")


def candidate_rules(guesses: dict[str, Guess]) -> list[Rule]:
    rules = [Rule(None)]
    for name, guess in guesses.items():
        floors = [None] + ([float(np.quantile(guess.conf, q)) for q in QUANTILES] if guess.conf is not None else [])
        rules += [Rule(name, mean_first, floor) for mean_first in (False, True) for floor in floors]
    return rules


def choose_rule(prompts: list[str], guesses: dict[str, Guess], mean_text: str, enc) -> Rule:
    """The candidate rule with the best metric on these (training) rows."""
    best = None
    for rule in candidate_rules(guesses):
        score = float(np.mean(enc.row_scores(prompts, rule.apply(guesses, mean_text, len(prompts)))))
        if best is None or score > best.train_score:
            best = Rule(rule.member, rule.mean_first, rule.floor, score)
    return best
