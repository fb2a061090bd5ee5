"""The mean-prompt search: fold k's string is searched on the other folds' prompts only, it is
capped in length, never worse than the prompts it starts from, and cached by its inputs."""
import numpy as np
import pytest

from common.cv import FoldPlan
from competitions.prompt_recovery import mean_prompt
from competitions.prompt_recovery.mean_prompt import BeamConfig, mean_prompt_cv, prefixes, search_mean_prompt
from recovery_fakes import FakeEncoder

PROMPTS = (["Rewrite this text as a poem."] * 4 + ["Rewrite this text as a story."] * 3
           + ["Make this text simpler."] * 3 + ["Rewrite this text as a letter."] * 2 + ["Change the tone."] * 2)


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KLLM_CACHE", str(tmp_path / "cache"))


def test_search_never_sees_the_held_out_fold(monkeypatch):
    folds = FoldPlan(3, 0, "group").assign(len(PROMPTS), groups=PROMPTS)
    seen = []
    original = mean_prompt.search_mean_prompt
    monkeypatch.setattr(mean_prompt, "search_mean_prompt",
                        lambda targets, *a, **k: seen.append(list(targets)) or original(targets, *a, **k))
    enc = FakeEncoder()
    out, found = mean_prompt_cv(PROMPTS, folds, enc, BeamConfig(steps=3, pool=4), progress=False)
    assert len(seen) == 3
    for k, targets in enumerate(seen):
        assert sorted(targets) == sorted(PROMPTS[i] for i in np.flatnonzero(folds != k))
        held = {PROMPTS[i] for i in np.flatnonzero(folds == k)}
        assert not held & set(targets)                                 # no held-out instruction
        assert all(out.oof[i] == found[k].text for i in np.flatnonzero(folds == k))


def test_search_starts_from_prompt_prefixes_and_respects_the_cap():
    enc = FakeEncoder()
    found = search_mean_prompt(PROMPTS, enc, BeamConfig(width=2, steps=4, pool=5, max_tokens=7), progress=False)
    assert enc.token_counts([found.text])[0] <= 7
    starts = [p for p in prefixes(PROMPTS) if enc.token_counts([p])[0] <= 7]
    best_start = max(np.mean(enc.row_scores(PROMPTS, [s] * len(PROMPTS))) for s in starts)
    assert found.score >= best_start - 1e-9
    assert found.score == pytest.approx(np.mean(enc.row_scores(PROMPTS, [found.text] * len(PROMPTS))), abs=1e-5)
    assert prefixes(["Make it short."]) == ["Make", "Make it", "Make it short."]


def test_search_is_cached_by_its_inputs():
    beam = BeamConfig(steps=2, pool=3)
    first = search_mean_prompt(PROMPTS, FakeEncoder(), beam, progress=False)
    again = search_mean_prompt(list(reversed(PROMPTS)), FakeEncoder(), beam, progress=False)
    assert not first.cached and again.cached and again.text == first.text
    other = search_mean_prompt(PROMPTS[:6], FakeEncoder(), beam, progress=False)
    assert not other.cached
