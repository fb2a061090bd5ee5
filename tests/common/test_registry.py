import pytest

from common.errors import UserError
from common.metrics import METRICS
from common.registry import Competition, all_competitions, get_competition, register

EXPECTED = {
    "science-exam": "kaggle-llm-science-exam",
    "detect-ai-text": "llm-detect-ai-generated-text",
    "predict-the-llm": "h2oai-predict-the-llm",
    "prompt-recovery": "llm-prompt-recovery",
    "adversarial-judge": "llms-you-cant-please-them-all",
}


def test_all_five_registered_with_kaggle_slugs():
    assert {c.slug: c.kaggle_slug for c in all_competitions()} == EXPECTED


@pytest.mark.parametrize("slug", sorted(EXPECTED))
def test_each_declares_schema_metric_and_solution(slug):
    c = get_competition(slug)
    assert c.metric in METRICS
    assert "test" in c.schema.tables and "sample_submission" in c.schema.tables
    sub = c.schema.submission
    assert sub.id_column in c.schema.tables["test"].columns
    assert set(sub.columns) <= set(c.schema.tables["sample_submission"].columns)
    assert c.solution and ":" in c.solution


def test_only_predict_the_llm_takes_csv_uploads():
    assert [c.slug for c in all_competitions() if not c.code_competition] == ["predict-the-llm"]


def test_unknown_slug_is_a_user_error_naming_the_known_ones():
    with pytest.raises(UserError, match="science-exam"):
        get_competition("titanic")


def test_registering_a_different_competition_under_a_taken_slug_fails():
    taken = get_competition("science-exam")
    clone = Competition(**{**taken.__dict__, "kaggle_slug": "other"})
    with pytest.raises(ValueError):
        register(clone)
