import numpy as np
import pytest

from common.llm import judges
from common.llm.judges import REFERENCE, Judge, calibrate, judge_scores, panel_id
from common.llm.panels import DEVELOPMENT_PANEL, VALIDATION_SMOLLM2, validation_panel

TOPICS, ESSAYS = REFERENCE
GOOD, GIBBERISH = (0, 4), 6


def test_the_two_panels_share_no_judge_and_name_different_panels():
    val = validation_panel(with_gemma=False)
    assert not {j.name for j in val} & {j.name for j in DEVELOPMENT_PANEL}
    assert not {j.rubric for j in val} & {j.rubric for j in DEVELOPMENT_PANEL}
    assert {j.wording for j in val} == {"mark"} and {j.wording for j in DEVELOPMENT_PANEL} == {"score"}
    assert panel_id(val) != panel_id(DEVELOPMENT_PANEL)
    assert [j.model for j in validation_panel(with_gemma=True)][-1] == "gemma3-270m"


def test_an_unknown_wording_is_one_clear_error(own_cache):
    with pytest.raises(judges.UserError, match="unknown wording"):
        judges.judge_distributions(["t"], ["e"], Judge("x", "r", wording="nope"), progress=False)


def test_the_shared_prefix_cache_gives_the_same_digits_as_a_full_forward(own_cache, monkeypatch):
    import json
    pairs = [json.dumps([t, e]) for t, e in zip(TOPICS[:3], ESSAYS[:3])]
    for judge in (DEVELOPMENT_PANEL[0], VALIDATION_SMOLLM2[0]):
        cached = np.array(judges._digit_distributions(judge, pairs))
        with monkeypatch.context() as m:
            m.setattr(judges, "_shared_prefix", lambda *a: ([], None))
            full = np.array(judges._digit_distributions(judge, pairs))
        np.testing.assert_allclose(cached, full, atol=1e-4)


@pytest.mark.slow
def test_validation_panel_ranks_real_essays_above_gibberish_and_its_calibration_is_current():
    scores = judge_scores(TOPICS, ESSAYS, VALIDATION_SMOLLM2, progress=False)
    assert np.all(scores[list(GOOD)].mean(axis=0) > scores[GIBBERISH])
    for judge in VALIDATION_SMOLLM2:
        fresh = calibrate(judge, TOPICS, ESSAYS)
        assert fresh.center == pytest.approx(judge.center, abs=0.01)
        assert fresh.scale == pytest.approx(judge.scale, rel=0.02)
