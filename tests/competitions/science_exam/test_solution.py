"""End to end: the science-exam solution on a tiny fixture (default suite) and on the sample (slow)."""
import numpy as np
import pytest

from common.data import load_dataset
from common.errors import UserError
from common.registry import get_competition
from common.solution import RunContext
from common.submission import write_submission
from competitions.science_exam.config import SolutionConfig
from competitions.science_exam.questions import Questions, retrieval_quality, to_letters
from competitions.science_exam.solution import run

from tiny_data import write_tiny_science_exam

VARIANT_NAMES = {"lm_no_retrieval", "lm_random_examples", "lm_rag", "finetuned_mc", "ensemble"}
TINY_OPTIONS = {"mc_max_length": "64", "mc_epochs": "1", "top_k": "1", "context_words": "40",
                "chunk_words": "40", "controls": "true"}


@pytest.fixture
def tiny_ctx(tmp_path):
    competition = get_competition("science-exam")
    data = load_dataset(competition, write_tiny_science_exam(tmp_path / "data"))
    return RunContext(competition=competition, data=data, seed=7, folds=3, options=dict(TINY_OPTIONS))


def test_solution_runs_end_to_end_on_tiny_data_and_reuses_caches(tiny_ctx, capsys):
    result = run(tiny_ctx)
    assert set(result.cv) == VARIANT_NAMES
    for name, score in result.cv.items():
        assert 0.0 <= score.mean <= 1.0 and score.folds == 3, name
    # every passage of the 50-passage corpus is embedded (below the candidates threshold)
    assert result.info["passages"] == 50 and result.info["dense_scope"] == "corpus"
    # each question's fact is in the corpus, and the query holds the options: retrieval finds it
    assert result.info["retrieval_quality"]["answer_in_context"] >= 0.7
    assert result.best in ("lm_rag", "finetuned_mc", "ensemble")
    path = write_submission(tiny_ctx.competition, result.submission, tiny_ctx.data.tables["test"])
    assert path.read_text().splitlines()[0] == "id,prediction"
    assert all(len(set(p.split())) == 3 for p in result.submission["prediction"])

    capsys.readouterr()
    again = run(tiny_ctx)
    out = capsys.readouterr().out
    assert "embeddings reused from cache" in out
    assert "option scores reused from cache" in out and "fold models' scores reused from cache" in out
    assert {k: v.mean for k, v in again.cv.items()} == {k: v.mean for k, v in result.cv.items()}


def test_unknown_option_and_bad_rows_are_user_errors(tiny_ctx):
    tiny_ctx.options["topk"] = "3"
    with pytest.raises(UserError, match="unknown science-exam option"):
        SolutionConfig.from_context(tiny_ctx)
    frame = tiny_ctx.data.tables["train"].with_columns(B=None)
    with pytest.raises(UserError, match="empty 'B'"):
        Questions.from_frame(frame, "train.csv")


def test_to_letters_and_retrieval_quality():
    scores = np.array([[0.1, 0.5, 0.2, 0.9, 0.0]])
    assert to_letters(scores) == ["D B C"]
    qs = Questions(ids=[0], prompts=["q"], options=[["iron", "wood", "glass", "sand", "salt"]], labels=np.array([0]))
    quality = retrieval_quality(qs, ["A magnet attracts iron, not wood."])
    assert quality == {"answer_in_context": 1.0, "distractor_in_context": 0.25}


@pytest.mark.slow
def test_solution_on_the_sample_meets_the_issue_targets():
    competition = get_competition("science-exam")
    result = run(RunContext(competition=competition, data=load_dataset(competition), seed=42))
    cv = {k: v.mean for k, v in result.cv.items()}
    assert cv["lm_rag"] - cv["lm_no_retrieval"] >= 0.05
    assert cv["ensemble"] >= max(cv["lm_rag"], cv["finetuned_mc"]) - 1e-9


def test_fast_subset_takes_the_folds_in_turn_with_the_seed():
    from competitions.science_exam.solution import fast_subset

    questions = Questions(list(range(12)), [f"q{i}" for i in range(12)], [["a", "b", "c", "d", "e"]] * 12,
                          np.arange(12) % 5)
    folds = np.array([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 2])
    kept, kept_folds = fast_subset(questions, folds, 6, seed=3)
    assert len(kept) == 6 and kept.ids == sorted(kept.ids)                # file order kept
    assert sorted(np.bincount(kept_folds).tolist()) == [1, 2, 3]          # fold 2 has only one question
    assert kept.ids == fast_subset(questions, folds, 6, seed=3)[0].ids    # the seed decides
    assert kept.ids == [2, 6, 7, 8, 9, 11]        # what the draw gave before fast_rows (9395749)
    assert list(kept.labels) == [questions.labels[i] for i in kept.ids]
    assert fast_subset(questions, folds, 0, seed=3)[0] is questions       # 0 = all
    with pytest.raises(UserError, match="fewer than 2 questions a fold"):
        fast_subset(questions, folds, 5, seed=3)


def test_fast_run_keeps_fast_train_questions_and_skips_the_baseline(tiny_ctx, capsys):
    tiny_ctx.fast = True
    tiny_ctx.options.update(fast_train="6", controls="false")
    result = run(tiny_ctx)
    assert "--fast: 6 of 9 train questions" in capsys.readouterr().out
    assert set(result.cv) == {"lm_rag", "finetuned_mc", "ensemble"}
    assert result.info["train_questions"] == 6
    assert len(result.submission) == len(tiny_ctx.data.tables["test"])


def test_fast_train_without_fast_is_said_to_change_nothing(tiny_ctx, capsys, monkeypatch):
    import competitions.science_exam.solution as solution

    class Reached(Exception):
        pass

    def stop(*args):
        raise Reached          # the note comes before the retrieval: no need to run further

    tiny_ctx.options["fast_train"] = "6"
    monkeypatch.setattr(solution, "retrieve_contexts", stop)
    with pytest.raises(Reached):
        run(tiny_ctx)
    assert "note: fast_train applies to --fast runs only" in capsys.readouterr().out

