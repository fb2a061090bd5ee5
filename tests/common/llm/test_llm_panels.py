import hashlib
import json

import numpy as np
import pytest

from common.llm import judges
from common.llm.judges import REFERENCE, Judge, calibrate, judge_scores, panel_id
from common.llm.panels import DEVELOPMENT_PANEL, HELD_OUT_SMOLLM2, VALIDATION_PANEL, held_out_panel
from fakes.judges import fake_panel  # noqa: F401

TOPICS, ESSAYS = REFERENCE
GOOD, GIBBERISH = (0, 4), 6


def test_the_three_panels_share_no_judge_rubric_or_wording_and_have_different_ids():
    panels = (DEVELOPMENT_PANEL, VALIDATION_PANEL, held_out_panel(with_gemma=False))
    for field in ("name", "rubric", "wording"):
        values = [{getattr(j, field) for j in panel} for panel in panels]
        assert sum(map(len, values)) == len(set().union(*values)), field
    assert [{j.wording for j in p} for p in panels] == [{"score"}, {"mark"}, {"grade"}]
    assert len({panel_id(p) for p in panels}) == 3
    assert [j.model for j in held_out_panel(with_gemma=True)][-1] == "gemma3-270m"


def test_an_unknown_wording_is_one_clear_error(own_cache):
    with pytest.raises(judges.UserError, match="unknown wording"):
        judges.judge_distributions(["t"], ["e"], Judge("x", "r", wording="nope"), progress=False)


def test_the_shared_prefix_cache_gives_the_same_digits_as_a_full_forward(own_cache, monkeypatch):
    pairs = [json.dumps([t, e]) for t, e in zip(TOPICS[:2], ESSAYS[:2])]
    for judge in (DEVELOPMENT_PANEL[0], VALIDATION_PANEL[0], HELD_OUT_SMOLLM2[0]):
        cached = np.array(judges._digit_distributions(judge, pairs))
        with monkeypatch.context() as m:
            m.setattr(judges, "_shared_prefix", lambda *a: ([], None))
            full = np.array(judges._digit_distributions(judge, pairs))
        np.testing.assert_allclose(cached, full, atol=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize("panel", [VALIDATION_PANEL, HELD_OUT_SMOLLM2], ids=["validation", "held-out"])
def test_a_panel_ranks_real_essays_above_gibberish_and_its_calibration_is_current(panel):
    scores = judge_scores(TOPICS, ESSAYS, panel, progress=False)
    assert np.all(scores[list(GOOD)].mean(axis=0) > scores[GIBBERISH])
    for judge in panel:
        fresh = calibrate(judge, TOPICS, ESSAYS)
        assert fresh.center == pytest.approx(judge.center, abs=0.01)
        assert fresh.scale == pytest.approx(judge.scale, rel=0.02)


def test_an_edited_wording_names_another_panel_and_is_judged_anew(monkeypatch, fake_panel):
    before = panel_id(VALIDATION_PANEL)
    judge = Judge("up", "a rubric", center=4.5, scale=1.0, wording="mark")
    judges.judge_distributions(["t"], ["an essay"], judge, progress=False)
    judges.judge_distributions(["t"], ["an essay"], judge, progress=False)
    assert len(fake_panel.calls) == 1                      # cached
    template, answer = judges.WORDINGS["mark"]
    monkeypatch.setitem(judges.WORDINGS, "mark", (template.replace("mark", "score"), answer))
    assert panel_id(VALIDATION_PANEL) != before
    judges.judge_distributions(["t"], ["an essay"], judge, progress=False)
    assert len(fake_panel.calls) == 2                      # not the judgement made under the old text


def test_the_score_wording_is_pinned_to_its_prompt_version():
    # "score" (the development panel's wording) is not in its judges' cache keys or panel id
    # (judges._wording_key): an edit to it must raise judges.PROMPT_VERSION, then update this pin
    digest = hashlib.sha256(json.dumps(judges.WORDINGS["score"]).encode()).hexdigest()[:12]
    assert (judges.PROMPT_VERSION, digest) == (1, "42a80ad1b681")
