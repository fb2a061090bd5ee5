"""Scoring by what the metric needs: labels joined by id, or test prompts judged by a panel."""
from dataclasses import replace

import polars as pl
import pytest

from common.errors import UserError
from common.metrics import METRICS, NEEDS, Metric
from common.registry import get_competition
from common.scoring import PAIRINGS, score_frames, score_submission
from fakes.judges import fake_panel  # noqa: F401


def test_every_need_a_metric_can_declare_has_a_pairing():
    assert set(PAIRINGS) == set(NEEDS)
    assert {m.needs for m in METRICS.values()} <= set(NEEDS)
    with pytest.raises(ValueError, match="needs must be one of"):
        Metric("x", lambda a, b: 0.0, True, "x", needs="vibes")


def test_labels_are_joined_by_id_whatever_the_row_order():
    exam = get_competition("science-exam")
    truth = pl.DataFrame({"id": [0, 1], "answer": ["A", "B"]})
    pred = pl.DataFrame({"id": [1, 0], "prediction": ["C B A", "A B C"]})
    assert score_frames(exam, truth, pred) == pytest.approx(0.75)
    with pytest.raises(UserError, match="ids differ"):
        score_frames(exam, truth, pred.head(1))


def test_predictions_without_a_letter_score_0_and_are_warned_about(capsys):
    exam = get_competition("science-exam")
    truth = pl.DataFrame({"id": [0, 1], "answer": ["A", "B"]})
    pred = pl.DataFrame({"id": [0, 1], "prediction": ["a b c", "B A C"]})          # lower case: no letter
    assert score_frames(exam, truth, pred) == pytest.approx(0.5)
    assert capsys.readouterr().err == ("warning: 1 of 2 predictions hold no letter A-E (upper case, "
                                       "space-separated); each scores 0\n")
    score_frames(exam, truth, pred.with_columns(pl.Series("prediction", ["A B C", "B A C"])))
    assert capsys.readouterr().err == ""


def test_a_repeated_id_is_refused_even_when_the_row_counts_still_match():
    exam = get_competition("science-exam")
    truth = pl.DataFrame({"id": [0, 1, 2], "answer": ["A", "B", "C"]})
    pred = pl.DataFrame({"id": [0, 0, 2], "prediction": ["A B C", "B A C", "C A B"]})   # id 1 missing, 0 twice
    with pytest.raises(UserError, match="prediction file: id '0' appears more than once"):
        score_frames(exam, truth, pred)
    with pytest.raises(UserError, match=r"prediction file: 2 row\(s\) without id"):
        score_frames(exam, truth, pred.with_columns(pl.Series("id", [0, None, None])))
    with pytest.raises(UserError, match="truth file: id '2' appears more than once"):
        score_frames(exam, truth.with_columns(pl.Series("id", [0, 2, 2])), pred.with_columns(pl.Series("id", [0, 1, 2])))


def test_a_bad_probability_row_is_named_by_its_id_not_its_place_in_the_join():
    llm = get_competition("predict-the-llm")
    columns = llm.schema.submission.columns
    truth = pl.DataFrame({"id": [100, 7], "target": [0, 1]})
    rows = {c: [1.0 / len(columns)] * 2 for c in columns}
    pred = pl.DataFrame({"id": [7, 100], **rows}).with_columns(
        pl.when(pl.col("id") == 100).then(-0.5).otherwise(pl.col(columns[0])).alias(columns[0]))
    with pytest.raises(UserError, match="logloss: the prediction for id 100 holds a negative probability"):
        score_frames(llm, truth, pred)


def test_a_metric_setting_is_recorded_with_its_default(monkeypatch):
    seen = []
    fake = replace(METRICS["sharpened_cosine"], fn=lambda t, p, encoder="minilm": seen.append(encoder) or 0.5)
    monkeypatch.setitem(METRICS, "sharpened_cosine", fake)
    recovery = get_competition("prompt-recovery")
    sub = recovery.schema.submission
    truth = pl.DataFrame({sub.id_column: ["a"], recovery.schema.target[0]: ["Make it a poem"]})
    pred = pl.DataFrame({sub.id_column: ["a"], sub.columns[0]: ["Rewrite as a poem"]})
    assert score_submission(recovery, pred, truth).encoder == "minilm"
    assert score_submission(recovery, pred, truth, encoder="t5").encoder == "t5"
    assert seen == ["minilm", "t5"]
    with pytest.raises(UserError, match="takes no panel option"):
        score_submission(recovery, pred, truth, panel="x")


def test_a_panel_metric_judges_the_test_prompts_without_labels(fake_panel):
    judge = get_competition("adversarial-judge")
    test = pl.DataFrame({"id": [0, 1, 2], "topic": ["Cats", "Dogs", "Rain"]})
    pred = pl.DataFrame({"id": [2, 1, 0], "essay": ["Rain falls.", "Dogs bark a lot.", "Cats purr when happy."]})
    score = score_submission(judge, pred, test, progress=False)
    assert score.rows == 3 and score.panel.startswith("smollm2:up+down#") and score.encoder == ""
    assert list(score.components) == ["avg_q", "avg_h", "min_v", "avg_e", "avg_s"]
    assert "judge_score = " in score.describe() and "avg_s " in score.describe()
    assert score_frames(judge, test, pred) == score.value  # `truth` is the test table for a panel metric
    assert set(fake_panel.pairs[:3]) == {("Cats", "Cats purr when happy."), ("Dogs", "Dogs bark a lot."),
                                         ("Rain", "Rain falls.")}   # each essay judged on its own topic
