"""combined's rule is chosen on the rows it is given: a member whose guesses are right is kept,
one whose guesses are wrong is dropped for the mean prompt alone; a confidence floor applies."""
import numpy as np

from competitions.prompt_recovery.combined import Rule, choose_rule
from competitions.prompt_recovery.members import Guess
from recovery_fakes import FakeEncoder

TRUTH = ["Rewrite this text as a poem."] * 3 + ["Make this text simpler."] * 3
MEAN = "Rewrite this text"


def test_right_guesses_are_kept_and_wrong_ones_dropped():
    enc = FakeEncoder()
    right = Guess(list(TRUTH), np.ones(6))
    wrong = Guess(["Change the tone of voice completely."] * 6, np.ones(6))
    rule = choose_rule(TRUTH, {"good": right, "bad": wrong}, MEAN, enc)
    assert rule.member == "good" and rule.train_score > np.mean(enc.row_scores(TRUTH, [MEAN] * 6))
    assert choose_rule(TRUTH, {"bad": wrong}, MEAN, enc).member is None


def test_rule_applies_order_and_confidence_floor():
    guess = Guess(["A poem.", "A story."], np.array([0.9, 0.1]))
    assert Rule("m", mean_first=False, floor=0.5).apply({"m": guess}, "MEAN", 2) == ["A poem. MEAN", "MEAN"]
    assert Rule("m", mean_first=True).apply({"m": guess}, "MEAN", 2) == ["MEAN A poem.", "MEAN A story."]
    assert Rule(None).apply({}, "MEAN", 3) == ["MEAN"] * 3
    assert Rule("m", floor=0.5).describe() == "m + mean when conf >= 0.500"
