import polars as pl
import pytest

from common.errors import UserError
from common.registry import get_competition
from common.submission import check_submission, write_submission

SCIENCE = get_competition("science-exam")
DETECT = get_competition("detect-ai-text")
PREDICT = get_competition("predict-the-llm")
RECOVERY = get_competition("prompt-recovery")

SCIENCE_TEST = pl.DataFrame({"id": [0, 1, 2]})
DETECT_TEST = pl.DataFrame({"id": ["a", "b"]})


def target(tmp_path):
    return tmp_path / "out" / "submission.csv"


def test_good_map3_submission_is_written_in_test_order(tmp_path):
    frame = pl.DataFrame({"id": [2, 0, 1], "prediction": ["A B C", "E D C", "B A E"]})
    path = write_submission(SCIENCE, frame, SCIENCE_TEST, target(tmp_path))
    written = pl.read_csv(path)
    assert written["id"].to_list() == [0, 1, 2]
    assert written["prediction"].to_list() == ["E D C", "B A E", "A B C"]
    assert [p.name for p in path.parent.iterdir()] == ["submission.csv"]


@pytest.mark.parametrize("frame, message", [
    (pl.DataFrame({"id": [0, 1], "prediction": ["A B C", "A B C"]}), "ids differ"),
    (pl.DataFrame({"id": [0, 1, 2, 3], "prediction": ["A B C"] * 4}), "ids differ"),
    (pl.DataFrame({"id": [0, 0, 1], "prediction": ["A B C"] * 3}), "repeated"),
    (pl.DataFrame({"id": [0, 1, 2], "prediction": ["A B C", "A A B", "A B C"]}), "three distinct"),
    (pl.DataFrame({"id": [0, 1, 2], "prediction": ["A B C", "A B F", "A B C"]}), "three distinct"),
    (pl.DataFrame({"id": [0, 1, 2], "prediction": ["A B C", "A B", "A B C"]}), "three distinct"),
    (pl.DataFrame({"id": [0, 1, 2], "prediction": ["A B C", "", "A B C"]}), "empty"),
    (pl.DataFrame({"id": [0, 1, 2], "prediction": ["A B C", None, "A B C"]}), "missing value"),
    (pl.DataFrame({"id": [0, 1, 2]}), "missing column"),
    (pl.DataFrame({"id": [0, 1, 2], "prediction": ["A B C"] * 3, "x": [1, 2, 3]}), "unexpected column"),
])
def test_bad_map3_frames_raise_and_write_nothing(tmp_path, frame, message):
    with pytest.raises(UserError, match=message):
        write_submission(SCIENCE, frame, SCIENCE_TEST, target(tmp_path))
    assert not target(tmp_path).parent.exists() or not any(target(tmp_path).parent.iterdir())


@pytest.mark.parametrize("values, message", [
    ([0.5, float("nan")], "NaN"),
    ([0.5, 1.5], r"\[0, 1\]"),
    ([-0.1, 0.5], r"\[0, 1\]"),
])
def test_probability_ranges(tmp_path, values, message):
    frame = pl.DataFrame({"id": ["a", "b"], "generated": values})
    with pytest.raises(UserError, match=message):
        write_submission(DETECT, frame, DETECT_TEST, target(tmp_path))
    assert not target(tmp_path).exists()


def test_probability_rows_must_sum_to_one():
    columns = PREDICT.schema.submission.columns
    test = pl.DataFrame({"id": [0, 1]})
    good = pl.DataFrame({"id": [0, 1], **{c: [1 / 7, 1 / 7] for c in columns}})
    assert check_submission(PREDICT, good, test).shape == (2, 8)
    bad = good.with_columns(pl.lit(0.5).alias(columns[0]))
    with pytest.raises(UserError, match="sum to 1"):
        check_submission(PREDICT, bad, test)


def test_text_submission_rejects_blank_strings():
    test = pl.DataFrame({"id": [0, 1]})
    frame = pl.DataFrame({"id": [0, 1], "rewrite_prompt": ["Rewrite this as a poem", "   "]})
    with pytest.raises(UserError, match="empty"):
        check_submission(RECOVERY, frame, test)


def test_failed_write_keeps_previous_file(tmp_path):
    good = pl.DataFrame({"id": [0, 1, 2], "prediction": ["A B C"] * 3})
    path = write_submission(SCIENCE, good, SCIENCE_TEST, target(tmp_path))
    before = path.read_text()
    with pytest.raises(UserError):
        write_submission(SCIENCE, good.head(2), SCIENCE_TEST, path)
    assert path.read_text() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["submission.csv"]
