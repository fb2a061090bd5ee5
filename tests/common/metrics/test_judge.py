import numpy as np
import pytest

from common.errors import UserError
from common.metrics.judge import judge_components, judge_panel_score, judge_score
from fakes.judges import fake_panel  # noqa: F401

# 3 essays x 3 judges
SCORES = np.array([[9, 0, 5],
                   [2, 8, 5],
                   [0, 9, 9]])


def test_components_by_hand():
    c = judge_components(SCORES, [1.0, 0.5, 0.9], mean_similarity=0.1)
    assert c["avg_q"] == pytest.approx(47 / 9)
    # row population std: [9,0,5] -> 3.6818; [2,8,5] -> 2.4495; [0,9,9] -> 4.2426
    assert c["avg_h"] == pytest.approx((3.681787 + 2.449490 + 4.242641) / 3, rel=1e-6)
    # column sample std: [9,2,0] -> 4.7258; [0,8,9] -> 4.9329; [5,5,9] -> 2.3094 -> min
    assert c["min_v"] == pytest.approx(2.309401, rel=1e-6)
    assert c["avg_e"] == pytest.approx(0.8)
    assert c["avg_s"] == pytest.approx(0.2)  # floor at 0.2


def test_score_formula():
    c = judge_components(SCORES, [1.0, 0.5, 0.9], mean_similarity=0.4)
    expected = c["avg_h"] * c["min_v"] * c["avg_e"] / (0.4 * (9 - c["avg_q"]))
    assert judge_score(SCORES, [1.0, 0.5, 0.9], 0.4) == pytest.approx(expected)
    assert expected == pytest.approx(3.457972 * 2.309401 * 0.8 / (0.4 * (9 - 47 / 9)), rel=1e-5)


def test_the_public_leaderboards_top_score_is_reproduced():
    # 300 essays, each judged 9 by two judges and 0 by the third, the 0 dealt 99 / 99 / 102: the
    # public leaderboard's top score of "LLMs - You Can't Please Them All" was 29.97415
    scores = np.array([[9, 0, 9]] * 99 + [[0, 9, 9]] * 99 + [[9, 9, 0]] * 102)
    assert judge_score(scores, np.ones(300), mean_similarity=0.0) == pytest.approx(29.97415, abs=1e-5)


def test_agreeing_judges_score_zero():
    assert judge_score(np.full((3, 3), 5), [1, 1, 1], 0.5) == 0.0


def test_all_nines_scores_zero():
    assert judge_score(np.full((2, 3), 9), [1, 1], 0.5) == 0.0


def test_out_of_range_and_nan():
    with pytest.raises(UserError):
        judge_score([[10, 1], [2, 3]], [1, 1], 0.5)
    with pytest.raises(UserError):
        judge_score([[1, 1], [2, 3]], [1, float("nan")], 0.5)


def test_the_panel_metric_combines_the_panel_english_and_similarity(fake_panel):
    from common.llm.judges import english_confidence, panel_id
    from fakes.judges import FAKE_PANEL, fake_digit, word_overlap

    topics = ["Cats", "Dogs", "Rain", "Sun"]
    essays = ["Cats purr.", "Dogs bark at the moon.", "Rain is wet and grey today.", "Der Sonne scheint."]
    result = judge_panel_score(topics, essays, progress=False)
    scores = [[fake_digit(j.name, e) for j in FAKE_PANEL] for e in essays]
    english, overlap = english_confidence(essays), word_overlap(essays)
    assert result.components == judge_components(scores, english, overlap)
    assert result.value == pytest.approx(judge_score(scores, english, overlap))
    assert result.panel == panel_id(FAKE_PANEL) and result.panel.startswith("smollm2:up+down#")
    assert judge_panel_score(topics, essays, progress=False) == result and len(fake_panel.calls) == 8  # cached


def test_panel_ids_differ_when_a_judge_changes():
    from dataclasses import replace

    from common.llm.judges import DEFAULT_PANEL, panel_id

    assert panel_id(DEFAULT_PANEL) == panel_id(tuple(DEFAULT_PANEL))
    changed = (replace(DEFAULT_PANEL[0], scale=1.0), *DEFAULT_PANEL[1:])
    assert panel_id(changed) != panel_id(DEFAULT_PANEL)
    assert panel_id(changed).split("#")[0] == panel_id(DEFAULT_PANEL).split("#")[0]
