"""Options of the adversarial-judge solution, each settable with `--set key=value`.

    cfg = ctx.config(JudgeConfig)       # defaults, then --set; __post_init__ refuses bad values
    python -m cli submit --comp adversarial-judge --set search_topics=8 --set honest_topics=0
"""
from __future__ import annotations

from dataclasses import dataclass

from common.errors import UserError
from common.options import name_list
from competitions.adversarial_judge.attacks import ATTACKS


@dataclass(frozen=True)
class JudgeConfig:
    """Options (`--set NAME=VALUE`), defaults in brackets:

    attacks: comma list of attack names the search may use (empty: the whole library) []
    search_topics: test topics, drawn with the seed, on which every attack is judged by the
        panels the search queries [4]
    filler_words: random English words in every attack essay [12]
    honest_topics: topics the honest baseline writes and is judged on (0: every topic) [16]
    honest_tokens: tokens SmolLM2 writes per honest essay at most [128]
    max_words: the length cap of every submitted essay, in words [150]
    min_english: the lowest English confidence a submitted essay may have [0.5]
    validation: the search queries the validation panel beside the development panel, and it
        scores every set (0: the development panel alone, as a search on one panel) [1]
    held_out: score every set with the held-out panel, which no search queries (0 skips it;
        those scores are then missing) [1]
    baseline: judge the mix a search on the development panel alone picks, beside the submitted
        one, when they differ (0 skips it; --fast does) [1]
    search_honest: 1 makes SmolLM2's own essays one more candidate of the search, which may
        deal them to some topics beside the attacks (README: higher on all three panels on the
        four draws measured; `make edge` ships the LM that writes them); 0 searches attacks
        alone, a plan of templates only (`EXP=attacks_only`) [1]
    """

    attacks: str = ""
    search_topics: int = 4
    filler_words: int = 12
    honest_topics: int = 16
    honest_tokens: int = 128
    max_words: int = 150
    min_english: float = 0.5
    validation: int = 1
    held_out: int = 1
    baseline: int = 1
    search_honest: int = 1

    def attack_names(self) -> list[str]:
        return name_list(self.attacks, ATTACKS, "attacks") or list(ATTACKS)

    def __post_init__(self):
        self.validate()      # a bad value is refused when the options are read, before the data is

    def validate(self) -> "JudgeConfig":
        self.attack_names()
        if self.search_topics < 2 or self.filler_words < 0 or self.honest_topics < 0 or self.honest_tokens < 8:
            raise UserError("need search_topics >= 2, filler_words >= 0, honest_topics >= 0, honest_tokens >= 8")
        if self.max_words < 10 or not 0 <= self.min_english <= 1:
            raise UserError("need max_words >= 10, 0 <= min_english <= 1")
        for name in ("validation", "held_out", "baseline", "search_honest"):
            if getattr(self, name) not in (0, 1):
                raise UserError(f"{name} must be 1 (on) or 0 (off), got {getattr(self, name)}")
        return self
