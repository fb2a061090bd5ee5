"""The predict-the-llm edge spec: seven-class soft labels on (question, response) pairs, and a
held-out set of whole questions that neither teacher nor student trains on."""
import numpy as np
import pytest

from common.data import load_dataset
from common.errors import UserError
from common.registry import get_competition
from competitions.predict_the_llm.edge import spec
from predict_llm_slice import write_slice


def test_spec_holds_out_whole_questions_and_gives_seven_class_soft_labels(tmp_path):
    data = load_dataset(get_competition("predict-the-llm"), write_slice(tmp_path / "data", 10, 2))
    ds = spec(data, seed=0, options={"members": "tfidf_linear", "lm": "", "folds": "2", "holdout": "0.2"})
    assert ds.pairs and ds.n_classes == 7 and ds.metric == "multiclass_logloss" and not ds.higher_is_better
    assert len(ds.holdout_inputs) == 14 and len(ds.inputs) == 8 * 7 + 14     # 8 train questions + 2 test ones
    assert not {q for q, _ in ds.holdout_inputs} & {q for q, _ in ds.inputs}
    assert np.allclose(ds.soft_labels.sum(1), 1, atol=1e-3)
    assert np.isfinite(ds.teacher_score) and ds.info["teacher"] in ds.info["teacher_cv"]
    worst = max(ds.info["teacher_cv"], key=ds.info["teacher_cv"].get)           # log loss: the highest is worst
    chosen = spec(data, seed=0, options={"members": "tfidf_linear", "lm": "", "folds": "2", "submit": worst})
    assert chosen.info["teacher"] == worst and chosen.teacher.startswith(f"{worst} of ")   # --set submit= is the teacher


def test_spec_asks_for_the_lm_feature_student_by_default_and_takes_the_classifier_on_request(tmp_path):
    data = load_dataset(get_competition("predict-the-llm"), write_slice(tmp_path / "data", 10, 2))
    options = {"members": "tfidf_linear", "lm": "", "folds": "2"}
    ds = spec(data, seed=0, options=options)
    assert ds.student == "lm_features" and ds.student_options["model"] == "smollm2"
    assert spec(data, seed=0, options={**options, "student": "classifier"}).student == "classifier"


@pytest.mark.parametrize("options, fragment", [
    ({"folds": "x"}, "folds='x': expected int"), ({"folds": "1"}, "folds must be 0"),
    ({"holdout": "1.5"}, "0 < holdout < 1"), ({"student": "bert"}, "student 'bert' is not one of"),
    ({"nope": "1"}, r"unknown predict-the-llm edge option\(s\) nope; known: .*folds, head, holdout")])
def test_bad_edge_options_are_refused_before_the_teacher_runs(tmp_path, options, fragment):
    data = load_dataset(get_competition("predict-the-llm"), write_slice(tmp_path / "data", 10, 2))
    with pytest.raises(UserError, match=fragment):
        spec(data, seed=0, options=options)
