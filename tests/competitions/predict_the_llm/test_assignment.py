"""ensemble_assigned: the group structure is detected (never assumed), the assignment is one
target per response inside a question, and the variant is skipped, saying why, when a question
group is incomplete."""
import numpy as np
import polars as pl

from common.data import load_dataset
from common.registry import get_competition
from common.solution import RunContext
from common.prob_ensemble import log_loss
from competitions.predict_the_llm.assignment import (assign_groups, balance_groups, balanced_candidates, blend, fit_power,
                                                     fit_weight, group_structure)
from competitions.predict_the_llm import ensemble_step
from competitions.predict_the_llm.solution import run
from predict_llm_slice import write_slice

K = 7


def _complete(n_questions: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    questions = [f"q{i}" for i in range(n_questions) for _ in range(K)]
    y = np.concatenate([rng.permutation(K) for _ in range(n_questions)])
    return questions, y


def test_structure_is_detected_from_the_data():
    questions, y = _complete(3)
    assert group_structure(questions, y, ["t"] * K) == (True, "")
    ok, why = group_structure(questions[:-1], y[:-1], ["t"] * K)
    assert not ok and "q2" in why and "not each of the 7 once" in why
    y_twice = y.copy()
    y_twice[0] = y_twice[1]
    assert not group_structure(questions, y_twice, ["t"] * K)[0]
    ok, why = group_structure(questions, y, ["t"] * 6)
    assert not ok and "6 responses, not 7" in why


def test_assignment_gives_each_target_once_per_question_and_fixes_a_clash():
    questions, y = _complete(2, seed=1)
    probs = np.full((2 * K, K), 0.02)
    probs[np.arange(2 * K), y] = 0.88
    probs[0] = 0.02
    probs[0, y[1]] = 0.5          # row 0 leans to row 1's target, its own second
    probs[0, y[0]] = 0.38
    probs /= probs.sum(1, keepdims=True)
    onehot = assign_groups(probs, questions)
    for g in range(2):
        assert (onehot[g * K:(g + 1) * K].sum(0) == 1).all()
    assert (onehot.argmax(1) == y).all()      # row 0 gets the target the others left over
    assert probs[0].argmax() != y[0]


def test_blend_weight_is_chosen_by_log_loss():
    questions, y = _complete(20, seed=2)
    rng = np.random.default_rng(3)
    probs = rng.dirichlet(np.ones(K), size=len(y)) * 0.5 + 0.5 * np.eye(K)[y]
    onehot = assign_groups(probs, questions)
    w = fit_weight(probs, onehot, y)
    assert w > 0.5      # the assignment is right here, so it earns a large weight
    out = blend(probs, onehot, w, clip=1e-3)
    assert np.allclose(out.sum(1), 1) and out.min() >= 1e-3 - 1e-12


def test_balancing_makes_each_complete_group_doubly_stochastic_and_leaves_others_alone():
    questions, y = _complete(3, seed=4)
    rng = np.random.default_rng(5)
    probs = rng.dirichlet(np.ones(K), size=len(y))
    out = balance_groups(probs, questions)
    for g in range(3):
        block = out[g * K:(g + 1) * K]
        assert np.allclose(block.sum(1), 1) and np.allclose(block.sum(0), 1, atol=1e-6)
    odd = balance_groups(probs[:K + 3], questions[:K + 3])      # the second group has 3 rows
    assert np.allclose(odd[K:], probs[K:K + 3] / probs[K:K + 3].sum(1, keepdims=True))
    assert np.allclose(balance_groups(probs, questions, power=2.0)[:K].sum(0), 1, atol=1e-6)


def test_balancing_moves_a_clash_towards_the_free_target():
    probs = np.full((K, K), 0.02) + 0.86 * np.eye(K)
    last = K - 1
    probs[last, 0], probs[last, last] = 0.6, 0.28   # the last row also claims target 0, which row 0 claims more
    probs /= probs.sum(1, keepdims=True)
    out = balance_groups(probs, ["q"] * K)
    assert out[last, last] > probs[last, last] and out[last, 0] < probs[last, 0]
    assert out[last].argmax() == last and out[0].argmax() == 0


def test_the_fitted_power_lowers_log_loss_and_sees_only_its_rows():
    questions, y = _complete(30, seed=6)
    rng = np.random.default_rng(7)
    probs = rng.dirichlet(np.ones(K), size=len(y)) * 0.6 + 0.4 * np.eye(K)[y]
    candidates = balanced_candidates(probs, questions)
    power = fit_power(candidates, y)
    assert log_loss(y, candidates[power]) < log_loss(y, probs)
    first_fold = np.arange(15 * K)          # whole groups: a power fitted on them alone
    fitted = fit_power(candidates, y, first_fold)
    assert fitted == min(candidates, key=lambda p: log_loss(y[first_fold], candidates[p][first_fold]))
    scrambled = y.copy()
    scrambled[15 * K:] = rng.permutation(scrambled[15 * K:])
    assert fit_power(candidates, scrambled, first_fold) == fitted


def _ctx(folder, **options):
    comp = get_competition("predict-the-llm")
    return RunContext(comp, load_dataset(comp, folder), seed=0, folds=2, options={"lm": "", **options})


def test_ensemble_assigned_runs_out_of_fold_on_complete_groups(tmp_path, monkeypatch):
    weight_rows, power_rows = [], []
    monkeypatch.setattr(ensemble_step, "fit_weight", lambda probs, onehot, y, clip: weight_rows.append(len(y)) or
                        fit_weight(probs, onehot, y, clip))
    monkeypatch.setattr(ensemble_step, "fit_power", lambda candidates, y, rows=None: power_rows.append(rows) or
                        fit_power(candidates, y, rows))
    result = run(_ctx(write_slice(tmp_path / "data", 8, 2), members="tfidf_linear"))
    assert {"tfidf_linear", "ensemble", "ensemble_assigned", "ensemble_balanced"} <= set(result.cv)
    assert result.info["ensemble_assigned"] == "ran"
    assert "per fold" in result.cv["ensemble_assigned"].note
    n = 8 * K
    assert weight_rows[-1] == n and len(weight_rows) == 3 and sum(weight_rows[:2]) == n    # 2 folds, then all rows
    first, second, final = power_rows
    assert final is None and not set(first) & set(second) and len(first) + len(second) == n


def test_ensemble_assigned_is_skipped_when_a_question_group_is_incomplete(tmp_path, capsys):
    folder = write_slice(tmp_path / "data", 8, 2)
    train = pl.read_csv(folder / "train.csv")
    train.slice(1).write_csv(folder / "train.csv")          # one question loses one response
    result = run(_ctx(folder, members="tfidf_linear"))
    assert "ensemble_assigned" not in result.cv and "ensemble_balanced" not in result.cv and "ensemble" in result.cv
    assert result.info["ensemble_assigned"].startswith("skipped: train question")
    assert "ensemble_assigned and ensemble_balanced skipped: train question" in capsys.readouterr().out
