"""Which corpus a run retrieves from, and how the run names it."""
from pathlib import Path

import competitions  # noqa: F401  (fills the registry)
from common.data import load_dataset
from common.registry import get_competition
from competitions.science_exam.config import SolutionConfig
from competitions.science_exam.retrieval_step import SAMPLE_CORPUS, corpus_label, corpus_path

SCIENCE = get_competition("science-exam")


def test_other_data_without_a_corpus_is_told_it_retrieves_from_the_samples(tmp_path):
    sample = load_dataset(SCIENCE)
    assert corpus_path(SolutionConfig(), sample) == SAMPLE_CORPUS and corpus_label(SAMPLE_CORPUS, sample) == "corpus.parquet"
    for name in ("train.csv", "test.csv"):
        (tmp_path / name).write_bytes((SCIENCE.sample_dir / name).read_bytes() + b"\n")
    other = load_dataset(SCIENCE, tmp_path)
    assert corpus_path(SolutionConfig(), other) == SAMPLE_CORPUS
    assert corpus_label(SAMPLE_CORPUS, other).startswith("the sample's corpus (--set corpus=PATH")
    (tmp_path / "corpus.parquet").write_bytes(SAMPLE_CORPUS.read_bytes())
    assert corpus_path(SolutionConfig(), other) == tmp_path / "corpus.parquet"
    assert corpus_label(Path(tmp_path / "corpus.parquet"), other) == "corpus.parquet"
