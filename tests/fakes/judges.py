"""A fake judge panel: two judges whose "LM" is a rule on the essay's length, and a word-overlap
essay similarity instead of the sentence encoder, so judge-metric tests load no model and still
go through the real panel code, its disk cache and progress bar.

    def test_x(fake_panel):              # DEFAULT_PANEL is now FAKE_PANEL, no LM is loaded
        ...
        fake_panel.calls                 # essays the fake LM was asked about (cached ones are not)
        fake_panel.pairs                 # the same as (topic, essay)

Judge "up" gives an essay the digit len(essay) % 10, judge "down" gives 9 minus that; both are
calibrated to score exactly the digit they put all probability on (`fake_digit`). Judges
"val_up"/"val_down" and "test_up"/"test_down" do the same with 3 * len(essay) and 7 * len(essay),
so three fake panels disagree about which essays are good.
"""
from __future__ import annotations

import itertools
import json

import pytest

from common.llm import judges

FAKE_PANEL = (judges.Judge("up", "fake rubric: longer is better", center=4.5, scale=1.0),
              judges.Judge("down", "fake rubric: shorter is better", center=4.5, scale=1.0))


MULTIPLIERS = {"val_up": 3, "val_down": 3, "test_up": 7, "test_down": 7}


def fake_digit(judge_name: str, essay: str) -> int:
    digit = len(essay) * MULTIPLIERS.get(judge_name, 1) % 10
    return digit if judge_name.endswith("up") else 9 - digit


class FakeLM:
    def __init__(self):
        self.calls: list[str] = []
        self.pairs: list[tuple[str, str]] = []  # (topic, essay) as the judge saw them

    def __call__(self, judge, pairs: list[str]) -> list[list[float]]:
        rows = []
        for pair in pairs:
            topic, essay = json.loads(pair)
            self.calls.append(essay)
            self.pairs.append((topic, essay))
            rows.append([1.0 if d == fake_digit(judge.name, essay) else 0.0 for d in range(10)])
        return rows


def word_overlap(essays: list[str]) -> float:
    """Mean Jaccard overlap of the essays' word sets over all pairs (stands in for the encoder)."""
    words = [set(e.lower().split()) for e in essays]
    pairs = list(itertools.combinations(words, 2))
    return sum(len(a & b) / max(len(a | b), 1) for a, b in pairs) / len(pairs)


@pytest.fixture
def fake_panel(tmp_path, monkeypatch) -> FakeLM:
    """Swap the default panel for FAKE_PANEL, its LM for a FakeLM and the essay similarity for
    `word_overlap`, with a private cache."""
    monkeypatch.setenv("KLLM_CACHE", str(tmp_path / "cache"))
    lm = FakeLM()
    monkeypatch.setattr(judges, "DEFAULT_PANEL", FAKE_PANEL)
    monkeypatch.setattr(judges, "_digit_distributions", lm)
    monkeypatch.setattr(judges, "mean_pairwise_similarity", word_overlap)
    return lm
