import numpy as np
import pytest

from common.metrics.judge import judge_score
from competitions.adversarial_judge.mixture import Profiles, best_mix, predict


def _profiles(rows, english=None, similarity=0.1):
    scores = np.stack([np.array(r, dtype=float) for r in rows])
    a = len(scores)
    return Profiles([f"a{i}" for i in range(a)], scores,
                    np.ones(a) if english is None else np.asarray(english), np.full((a, a), similarity))


def test_the_prediction_of_a_mix_is_the_metric_of_its_score_matrix():
    p = _profiles([[[9, 9, 0]] * 3, [[9, 0, 9]] * 3, [[0, 9, 9], [0, 8, 9], [1, 9, 9]]], english=[1, 0.9, 0.8])
    counts = np.array([30, 50, 40])
    value, c = predict(p, counts)
    matrix = np.concatenate([np.tile(p.scores[i], (counts[i] // 3 + 1, 1))[: counts[i]] for i in range(3)])
    english = np.repeat([1, 0.9, 0.8], counts)
    # the third attack's rows tile unevenly (40 of 3 rows), so its moments differ a little
    assert abs(value - judge_score(matrix, english, 0.1)) / value < 0.02
    assert c["avg_s"] == 0.2 and abs(c["avg_e"] - english.mean()) < 1e-9


def test_best_mix_finds_the_balanced_thirds_among_distractors():
    rng = np.random.default_rng(0)
    rows = [[[9, 9, 0]] * 4, [[9, 0, 9]] * 4, [[0, 9, 9]] * 4] + [rng.integers(0, 10, (4, 3)) for _ in range(20)]
    mix = best_mix(_profiles(rows), 120)
    assert mix.counts == {"a0": 40, "a1": 40, "a2": 40}
    thirds = np.array([[9, 9, 0]] * 40 + [[9, 0, 9]] * 40 + [[0, 9, 9]] * 40)
    assert abs(mix.predicted - judge_score(thirds, np.ones(120), 0.1)) < 1e-9   # 30.1259: exact for whole rows


def test_a_panel_that_agrees_everywhere_is_worth_nothing():
    mix = best_mix(_profiles([[[3, 3, 3]] * 2, [[7, 7, 7]] * 2]), 10)
    assert mix.predicted == 0.0


def test_allowed_restricts_the_attacks():
    rows = [[[9, 9, 0]] * 2, [[9, 0, 9]] * 2, [[0, 9, 9]] * 2]
    assert set(best_mix(_profiles(rows), 30, allowed=["a0", "a1"]).counts) <= {"a0", "a1"}


def test_with_two_panels_the_mix_is_the_one_whose_worse_panel_scores_best():
    # panel A splits on a0..a2 (the thirds); panel B agrees on them and splits only on a3..a5
    split = [[[9, 9, 0]] * 2, [[9, 0, 9]] * 2, [[0, 9, 9]] * 2]
    agree = [[[5, 5, 5]] * 2] * 3
    a = _profiles(split + [[[6, 5, 4]] * 2] * 3)
    b = _profiles(agree + [[[9, 5, 0]] * 2, [[0, 9, 5]] * 2, [[5, 0, 9]] * 2])
    alone = best_mix(a, 60)
    joint = best_mix([a, b], 60)
    assert set(alone.counts) == {"a0", "a1", "a2"}                # what panel A alone picks ...
    counts = np.array([alone.counts.get(f"a{i}", 0) for i in range(6)])
    assert predict(b, counts)[0] == 0.0                           # ... panel B gives nothing
    assert joint.predicted == min(joint.per_panel) > 0.0
    assert joint.per_panel[0] == predict(a, np.array([joint.counts.get(f"a{i}", 0) for i in range(6)]))[0]
    assert best_mix([a], 60) == alone                             # one panel in a list: as before


def test_panels_of_different_attacks_unknown_names_and_no_essays_are_refused():
    a = _profiles([[[9, 9, 0]] * 2, [[9, 0, 9]] * 2])
    b = Profiles(["x", "y"], a.scores, a.english, a.similarity)
    with pytest.raises(ValueError, match="same attacks"):
        best_mix([a, b], 10)
    with pytest.raises(ValueError, match="no profile for nope"):
        best_mix(a, 10, allowed=["a0", "nope"])
    with pytest.raises(ValueError, match="at least one essay"):
        best_mix(a, 0)
