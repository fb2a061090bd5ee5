"""The solved-question memory: retrieved neighbours never come from the question's own fold."""
import numpy as np
import polars as pl
import pytest

from common.errors import UserError
from competitions.science_exam.config import SolutionConfig
from common.folds import FoldPlan
from competitions.science_exam.examples_step import SolvedMemory, with_examples
from competitions.science_exam.questions import Questions

from tiny_data import write_tiny_science_exam


@pytest.fixture
def train(tmp_path):
    folder = write_tiny_science_exam(tmp_path / "data", n_train=12)
    return Questions.from_frame(pl.read_csv(folder / "train.csv"), "train.csv")


def _prompts_in(context: str) -> list[str]:
    return [line[len("Question: "):] for line in context.splitlines() if line.startswith("Question: ")]


def test_retrieved_examples_are_solved_questions_from_other_folds_only(train):
    folds = FoldPlan(3, seed=0).assign(len(train))
    memory = SolvedMemory.build(SolutionConfig(examples=2), train, folds)
    contexts = memory.retrieved(train, folds)
    fold_of = dict(zip(train.prompts, folds))
    for i, context in enumerate(contexts):
        prompts = _prompts_in(context)
        assert len(prompts) == 2 and train.prompts[i] not in prompts
        assert all(fold_of[p] != folds[i] for p in prompts)
        j = train.prompts.index(prompts[-1])
        assert f"Answer: {train.options[j][train.labels[j]]}" in context     # the correct option


def test_test_questions_may_use_every_train_row_and_the_control_is_random(train):
    folds = FoldPlan(3, seed=0).assign(len(train))
    memory = SolvedMemory.build(SolutionConfig(examples=3), train, folds)
    first = train.subset(np.arange(1))
    assert train.prompts[0] in _prompts_in(memory.retrieved(first)[0])      # itself: no folds given
    control = memory.random(train, folds, seed=1)
    assert control == memory.random(train, folds, seed=1) != memory.random(train, folds, seed=2)
    fold_of = dict(zip(train.prompts, folds))
    assert all(fold_of[p] != folds[i] for i, c in enumerate(control) for p in _prompts_in(c))


def test_extra_memory_file_is_checked_and_always_allowed(train, tmp_path):
    extra = tmp_path / "extra.csv"
    pl.DataFrame({"id": [0], "prompt": ["What do bees make?"], "A": ["honey"], "B": ["milk"], "C": ["silk"],
                  "D": ["wax paper"], "E": ["glue"], "answer": ["A"]}).write_csv(extra)
    folds = FoldPlan(3, seed=0).assign(len(train))
    memory = SolvedMemory.build(SolutionConfig(examples=12, memory=str(extra)), train, folds)
    assert memory.info["memory_extra_rows"] == 1
    assert all("Answer: honey" in c for c in memory.retrieved(train, folds))
    pl.DataFrame({"id": [0], "question": ["no prompt column"]}).write_csv(extra)
    with pytest.raises(UserError, match="extra.csv"):
        SolvedMemory.build(SolutionConfig(examples=2, memory=str(extra)), train, folds)


def test_with_examples_puts_passages_first():
    assert with_examples(["passage"], ["Question: q\nAnswer: a"]) == ["passage\n\nQuestion: q\nAnswer: a"]
    assert with_examples(None, ["e"]) == ["e"] and with_examples(["p"], None) == ["p"]
    assert with_examples([""], ["e"]) == ["e"]


def test_a_memory_file_that_repeats_train_questions_never_shows_one_its_own_answer(train, tmp_path):
    frame = pl.read_csv(tmp_path / "data" / "train.csv")
    shuffled = frame.head(4).with_columns(prompt=pl.col("prompt").str.to_uppercase() + "  ", A=pl.col("B"), B=pl.col("A"),
                                          answer=pl.col("answer").replace({"A": "B", "B": "A"}))
    new = pl.DataFrame({"id": [90], "prompt": ["What do bees make?"], "A": ["honey"], "B": ["milk"], "C": ["silk"],
                        "D": ["wax paper"], "E": ["glue"], "answer": ["A"]})
    pl.concat([frame, shuffled, new, new]).write_csv(tmp_path / "memory.csv")   # train again, reworded, and a new row twice
    folds = FoldPlan(3, seed=0).assign(len(train))
    memory = SolvedMemory.build(SolutionConfig(examples=12, memory=str(tmp_path / "memory.csv")), train, folds)
    assert memory.info["memory_extra_rows"] == 1 and memory.info["memory_repeats_dropped"] == 12 + 4 + 1
    for i, context in enumerate(memory.retrieved(train, folds)):
        assert train.prompts[i].lower() not in [p.lower().strip() for p in _prompts_in(context)]


def test_a_memory_row_repeating_a_held_out_question_is_dropped_too(train, tmp_path):
    frame = pl.read_csv(tmp_path / "data" / "train.csv")
    frame.write_csv(tmp_path / "memory.csv")
    kept, held = train.subset(np.arange(8)), train.subset(np.arange(8, 12))    # as the edge port splits train
    memory = SolvedMemory.build(SolutionConfig(examples=3, memory=str(tmp_path / "memory.csv")), kept,
                                FoldPlan(2, seed=0).assign(len(kept)), held_out=held)
    assert memory.info["memory_extra_rows"] == 0 and memory.info["memory_repeats_dropped"] == 12
    for i, context in enumerate(memory.retrieved(held)):
        assert held.prompts[i] not in _prompts_in(context)
